package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks the master's position in the change stream at a fixed interval with a non-transactional
 * logical decoding message. The stream carries it after every transaction committed before it, so
 * once a replica has applied everything ahead of a beacon it has reached the beacon's position:
 * an idle replica's applied position follows the master's WAL, and read-your-writes (which
 * compares the two) is not held back by WAL the master wrote for other reasons.
 */
final class Beacon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Beacon.class);
    static final String EMIT = "SELECT pg_logical_emit_message(false, '" + ChangeStream.BEACON_PREFIX + "', '')";

    private final CdcConfig config;
    private final Thread thread;
    private volatile boolean closed;
    /** The master's WAL position at the last beacon (-1 before the first). */
    private volatile long masterPosition = -1;

    Beacon(CdcConfig config) {
        this.config = config;
        this.thread = Thread.ofPlatform().name("cdc-beacon").daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        boolean warned = false;
        while (!closed) {
            try (Connection c = connect(); Statement s = c.createStatement()) {
                warned = false;
                while (!closed) {
                    try (ResultSet rs = s.executeQuery(EMIT)) {
                        rs.next();
                        masterPosition = Lsns.parse(rs.getString(1));
                    }
                    Thread.sleep(config.beaconInterval());
                }
            } catch (SQLException e) {
                if (!warned && !closed) {
                    log.warn("cannot write position beacons on the master: {}", e.getMessage());
                    warned = true;
                }
                pause();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Where the master's WAL stood at the last beacon written (-1 before the first): how far replicas have to go. */
    long masterPosition() {
        return masterPosition;
    }

    private Connection connect() throws SQLException {
        return config.connectToMaster("understudy-beacon", "socketTimeout", "5");
    }

    private void pause() {
        try {
            Thread.sleep(Math.max(500, config.beaconInterval().toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
