package dev.understudy.cdc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the master ready for capture before the engine starts, in this order: the DDL capture
 * (event triggers, see ddl-capture.sql; tables without a primary key get REPLICA IDENTITY FULL),
 * the publication of every table (pgoutput decodes a change only if the publication existed when it was written),
 * then the logical replication slot (which keeps every change from its creation on). Done
 * synchronously, so that what commits after {@link Capture#start()} returns is never missed.
 */
final class MasterSetup {

    private static final Logger log = LoggerFactory.getLogger(MasterSetup.class);

    /** The event triggers that write DDL into the stream; installed first, so that no DDL after the slot escapes. */
    private static final String DDL_CAPTURE = resource("ddl-capture.sql");

    private MasterSetup() {}

    private static String resource(String name) {
        try (InputStream in = MasterSetup.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Prepares the master; returns the slot's confirmed position (where the stream starts). */
    static long prepare(CdcConfig config) throws SQLException {
        try (Connection c = config.connectToMaster("understudy-cdc-setup")) {
            try (Statement s = c.createStatement()) {
                s.execute(DDL_CAPTURE);
            }
            if (!exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", config.publication())) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE PUBLICATION " + StreamEvent.TableName.quote(config.publication()) + " FOR ALL TABLES");
                }
                log.info("created publication {} of every table on the master", config.publication());
            }
            if (!exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", config.slot())) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
                    ps.setString(1, config.slot());
                    ps.execute();
                }
                log.info("created replication slot {} on the master", config.slot());
            }
            return slotPosition(c, config.slot());
        }
    }

    /** The slot's confirmed position (-1 when there is no such slot): the stream restarts there, and has nothing before it. */
    static long slotPosition(Connection master, String slot) throws SQLException {
        try (PreparedStatement ps = master.prepareStatement(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(1) != null ? Lsns.parse(rs.getString(1)) : -1;
            }
        }
    }

    private static boolean exists(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
