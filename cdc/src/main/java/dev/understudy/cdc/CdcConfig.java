package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * What the change capture needs, validated by the proxy's configuration reader and mapped into
 * Debezium's settings in one place ({@link Capture}).
 *
 * @param host the master's host
 * @param port the master's port
 * @param database the database captured (one per cluster)
 * @param user a role with REPLICATION on the master (superuser to create the publication of all tables)
 * @param password its password
 * @param slot the logical replication slot, also the stream's name in each replica's {@link AppliedPosition}
 * @param publication the publication of every table, created when missing
 * @param beaconInterval how often a beacon marks the master's position in the stream
 * @param retentionBytes how far (bytes of the master's WAL) a replica may fall behind before it
 *     is dropped from the stream, no longer holding the slot, and re-seeded
 * @param replicas where the stream is applied
 */
public record CdcConfig(String host, int port, String database, String user, String password, String slot,
                        String publication, Duration beaconInterval, long retentionBytes, List<ReplicaTarget> replicas) {

    public CdcConfig {
        replicas = List.copyOf(replicas);
        if (retentionBytes <= 0) {
            throw new IllegalArgumentException("retentionBytes must be positive");
        }
    }

    /** The master as pgjdbc reaches it. */
    String masterUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /**
     * A connection to the master as the capture's role, named {@code application} in
     * pg_stat_activity; {@code extra} pgjdbc properties (a socket timeout, a replication
     * connection) as name, value pairs.
     */
    Connection connectToMaster(String application, String... extra) throws SQLException {
        return connect(masterUrl(), user, password, application, extra);
    }

    /**
     * A pgjdbc connection to {@code url} named {@code application} in pg_stat_activity, with a
     * 5 s connect timeout unless {@code extra} (name, value pairs of pgjdbc properties) says otherwise.
     */
    static Connection connect(String url, String user, String password, String application, String... extra)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("ApplicationName", application);
        p.setProperty("connectTimeout", "5");
        for (int i = 0; i + 1 < extra.length; i += 2) {
            p.setProperty(extra[i], extra[i + 1]);
        }
        return DriverManager.getConnection(url, p);
    }

    @Override
    public String toString() {
        return "CdcConfig[" + user + "@" + host + ":" + port + "/" + database + ", slot " + slot + ", replicas "
                + replicas + "]"; // never the password
    }
}
