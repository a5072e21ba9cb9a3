package dev.understudy.driver;

import java.util.ArrayList;
import java.util.List;

/** Where a proxy, a ZooKeeper server or a database node listens. */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a host is needed");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("a port is 1-65535, got " + port);
        }
    }

    /**
     * Parses {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static HostPort parse(String text, int defaultPort) {
        String s = text.strip();
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'" + text + "' opens an IPv6 address with [ but does not close it");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("'" + text + "': expected :port after ]");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, as [" + s + "]");
            }
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names no host");
        }
        if (port == null) {
            return new HostPort(host, defaultPort);
        }
        try {
            return new HostPort(host, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "': the port '" + port + "' is not a number");
        }
    }

    /** Parses a comma-separated list of {@link #parse} forms; at least one. */
    public static List<HostPort> parseList(String text, int defaultPort) {
        List<HostPort> out = new ArrayList<>();
        for (String one : text.split(",", -1)) {
            out.add(parse(one, defaultPort));
        }
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
