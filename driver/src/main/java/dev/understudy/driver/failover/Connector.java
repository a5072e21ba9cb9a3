package dev.understudy.driver.failover;

import dev.understudy.driver.DriverSettings;
import dev.understudy.driver.HostPort;
import dev.understudy.driver.discovery.Endpoints;
import dev.understudy.driver.discovery.Topology;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Opens vendor connections: to a live proxy, or in direct mode to the master or a readable
 * replica, trying the candidates in the configured order and waiting for the endpoints to change
 * until the failover timeout.
 */
final class Connector {

    /** How long to wait between two rounds over every candidate. */
    private static final long ROUND_PAUSE = TimeUnit.MILLISECONDS.toNanos(100);
    /** pgjdbc's connect timeout (seconds, the TCP connect) unless the application gives one: a dead host must not eat the failover timeout. */
    private static final String DEFAULT_CONNECT_TIMEOUT = "2";
    /** pgjdbc's login timeout (seconds, the whole connect and login) unless the application gives one: a hung host neither. */
    private static final String DEFAULT_LOGIN_TIMEOUT = "5";
    private static final Driver POSTGRESQL = new org.postgresql.Driver();

    /** Something to do with a new vendor connection before it is used (restore the session's settings). */
    interface Preparation {
        void prepare(Physical p) throws SQLException;
    }

    private final DriverSettings settings;
    private final Endpoints endpoints;
    private final Properties vendorProperties;

    Connector(DriverSettings settings, Endpoints endpoints) {
        this.settings = settings;
        this.endpoints = endpoints;
        this.vendorProperties = new Properties();
        vendorProperties.putAll(settings.vendorProperties());
        vendorProperties.putIfAbsent("connectTimeout", DEFAULT_CONNECT_TIMEOUT);
        vendorProperties.putIfAbsent("loginTimeout", DEFAULT_LOGIN_TIMEOUT);
    }

    Endpoints endpoints() {
        return endpoints;
    }

    /**
     * A vendor connection for {@code role}, prepared; {@code avoid} (the endpoint just lost, or
     * null) is tried last.
     *
     * @throws SQLException 08001 when no candidate answered within the failover timeout; an
     *     authentication or catalog error (28xxx, 3D000) at once, as the endpoint said it
     */
    Physical open(Physical.Role role, HostPort avoid, Preparation preparation) throws SQLException {
        long deadline = System.nanoTime() + settings.failoverTimeout().toNanos();
        SQLException last = null;
        List<HostPort> tried = new ArrayList<>();
        while (true) {
            Optional<Topology> topology = endpoints.topology();
            long epoch = topology.map(Topology::epoch).orElse(0L);
            for (HostPort at : candidates(role, topology, avoid)) {
                if (last != null && System.nanoTime() - deadline > 0) {
                    break;
                }
                Connection c = null;
                try {
                    c = POSTGRESQL.connect(settings.url().vendorUrl(at), vendorProperties);
                    Physical p = new Physical(c, at, role, epoch);
                    preparation.prepare(p);
                    return p;
                } catch (SQLException e) {
                    if (c != null) {
                        close(c);
                    }
                    if (refusedEverywhere(e)) {
                        throw e;
                    }
                    last = e;
                    if (!tried.contains(at)) {
                        tried.add(at);
                    }
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SQLException("no " + what(role) + " of " + endpoints.describe() + " answered within "
                        + settings.failoverTimeout().toMillis() + " ms (failoverTimeoutMs); tried " + tried, Failures.UNREACHABLE, last);
            }
            try {
                endpoints.awaitChange(Math.min(left, ROUND_PAUSE));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while connecting to " + endpoints.describe(), Failures.UNREACHABLE, e);
            }
        }
    }

    /** Where {@code role} may go now, in the order to try them. */
    private List<HostPort> candidates(Physical.Role role, Optional<Topology> topology, HostPort avoid) {
        List<HostPort> out = new ArrayList<>(switch (role) {
            case PROXY -> endpoints.proxies();
            case MASTER -> topology.flatMap(Topology::writable).stream().toList();
            case REPLICA -> topology.map(t -> t.readable().isEmpty() ? t.writable().stream().toList() : t.readable())
                    .orElse(List.of());
        });
        if (settings.hostOrder() == DriverSettings.HostOrder.RANDOM) {
            Collections.shuffle(out, ThreadLocalRandom.current());
        }
        if (avoid != null && out.remove(avoid)) {
            out.add(avoid);
        }
        return out;
    }

    private static String what(Physical.Role role) {
        return switch (role) {
            case PROXY -> "proxy";
            case MASTER -> "master";
            case REPLICA -> "replica";
        };
    }

    /** Errors another endpoint would give too: wrong password, unknown user or database. */
    private static boolean refusedEverywhere(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("28") || state.equals("3D000"));
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // it failed to start: nothing to close cleanly
        }
    }
}
