package dev.understudy.cdc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
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

    static void prepare(CdcConfig config) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", config.user());
        p.setProperty("password", config.password());
        p.setProperty("ApplicationName", "understudy-cdc-setup");
        p.setProperty("connectTimeout", "5");
        try (Connection c = DriverManager.getConnection(config.masterUrl(), p)) {
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
