package dev.understudy.driver;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An Understudy JDBC URL, parsed:
 * <ul>
 *   <li>{@code jdbc:understudy:postgresql://proxy1:7432,proxy2:7432/db?key=value&...}: these proxies;
 *   <li>{@code jdbc:understudy:postgresql:zk://zk1:2181,zk2:2181/<cluster>/db?...}: the proxies (and,
 *       in direct mode, the database nodes) that cluster publishes in ZooKeeper.
 * </ul>
 *
 * @param vendor the database's JDBC subprotocol ({@code postgresql})
 * @param proxies the listed proxies; empty for a ZooKeeper URL
 * @param zookeeper the ZooKeeper servers; empty for a list of proxies
 * @param cluster the cluster's name ({@code cluster.name} of its nodes); empty for a list of proxies
 * @param database the database to connect to
 * @param parameters the query's key=value pairs, decoded, in order
 */
public record UnderstudyUrl(String vendor, List<HostPort> proxies, List<HostPort> zookeeper, String cluster,
                            String database, Map<String, String> parameters) {

    /** Every Understudy URL starts so. */
    public static final String PREFIX = "jdbc:understudy:";
    /** Where an Understudy proxy listens unless the URL says otherwise. */
    public static final int DEFAULT_PROXY_PORT = 7432;
    /** Where ZooKeeper listens unless the URL says otherwise. */
    public static final int DEFAULT_ZOOKEEPER_PORT = 2181;
    private static final List<String> VENDORS = List.of("postgresql");

    public UnderstudyUrl {
        proxies = List.copyOf(proxies);
        zookeeper = List.copyOf(zookeeper);
        parameters = Map.copyOf(parameters);
    }

    /** Whether {@code url} is one of this driver's (it may still be malformed). */
    public static boolean accepts(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    /** Whether the proxies come from ZooKeeper. */
    public boolean discovered() {
        return !zookeeper.isEmpty();
    }

    /**
     * Parses {@code url}.
     *
     * @throws SQLException SQLSTATE 22023 naming what is wrong with it
     */
    public static UnderstudyUrl parse(String url) throws SQLException {
        if (!accepts(url)) {
            throw invalid(url, "it does not start with " + PREFIX);
        }
        String rest = url.substring(PREFIX.length());
        int colon = rest.indexOf(':');
        if (colon < 0) {
            throw invalid(url, "expected " + PREFIX + "postgresql://host:port/database");
        }
        String vendor = rest.substring(0, colon);
        if (!VENDORS.contains(vendor)) {
            throw invalid(url, "'" + vendor + "' is not a database this driver speaks (" + String.join(", ", VENDORS) + ")");
        }
        rest = rest.substring(colon + 1);
        boolean zk = rest.startsWith("zk://");
        if (!zk && !rest.startsWith("//")) {
            throw invalid(url, "expected //host:port/database or zk://zkhost:2181/cluster/database after " + PREFIX + vendor + ":");
        }
        rest = rest.substring(zk ? 5 : 2);
        int question = rest.indexOf('?');
        Map<String, String> parameters = question < 0 ? Map.of() : query(url, rest.substring(question + 1));
        String path = question < 0 ? rest : rest.substring(0, question);
        int slash = path.indexOf('/');
        if (slash < 0) {
            throw invalid(url, zk ? "expected /cluster/database after the ZooKeeper servers" : "expected /database after the hosts");
        }
        List<HostPort> hosts;
        try {
            hosts = HostPort.parseList(path.substring(0, slash), zk ? DEFAULT_ZOOKEEPER_PORT : DEFAULT_PROXY_PORT);
        } catch (IllegalArgumentException e) {
            throw invalid(url, e.getMessage());
        }
        String[] names = path.substring(slash + 1).split("/", -1);
        if (zk && (names.length != 2 || names[0].isEmpty() || names[1].isEmpty())) {
            throw invalid(url, "expected /cluster/database after the ZooKeeper servers");
        }
        if (!zk && (names.length != 1 || names[0].isEmpty())) {
            throw invalid(url, "expected /database after the hosts");
        }
        String database = decode(url, names[names.length - 1]);
        return zk ? new UnderstudyUrl(vendor, List.of(), hosts, decode(url, names[0]), database, parameters)
                : new UnderstudyUrl(vendor, hosts, List.of(), "", database, parameters);
    }

    /** The vendor driver's URL for {@code host}, with none of the parameters (they travel as properties). */
    public String vendorUrl(HostPort host) {
        return "jdbc:" + vendor + "://" + host + "/" + database;
    }

    private static Map<String, String> query(String url, String query) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(url, eq < 0 ? pair : pair.substring(0, eq));
            out.put(key, eq < 0 ? "" : decode(url, pair.substring(eq + 1)));
        }
        return out;
    }

    private static String decode(String url, String s) throws SQLException {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid(url, "'" + s + "' is not URL-encoded correctly");
        }
    }

    private static SQLException invalid(String url, String why) {
        return new SQLException("invalid Understudy URL " + masked(url) + ": " + why, "22023");
    }

    /** {@code url} with the value of a {@code password} parameter hidden. */
    static String masked(String url) {
        return url == null ? "null" : url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }
}
