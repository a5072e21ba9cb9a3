package dev.understudy.cdc;

import java.time.Duration;
import java.util.List;

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
 * @param replicas where the stream is applied
 */
public record CdcConfig(String host, int port, String database, String user, String password, String slot,
                        String publication, Duration beaconInterval, List<ReplicaTarget> replicas) {

    public CdcConfig {
        replicas = List.copyOf(replicas);
    }

    /** The master as pgjdbc reaches it. */
    String masterUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "CdcConfig[" + user + "@" + host + ":" + port + "/" + database + ", slot " + slot + ", replicas "
                + replicas + "]"; // never the password
    }
}
