package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database side of a failover, step by step, for the leader to run in order: fence the old
 * master, read where each replica stands, promote the chosen one (its sequences past its data, a
 * fresh slot whose start is the new stream's origin), and tell each remaining replica where it
 * continues: from the new slot's start when it had applied exactly what the promoted replica had
 * (then it holds the same data), else from nothing, which makes its applier seed it again.
 *
 * <p>Positions of different masters are unrelated numbers: a replica's recorded position is
 * rewritten here, with no applier running, before the capture from the new master starts.
 */
public final class Promotion {

    private static final Logger log = LoggerFactory.getLogger(Promotion.class);
    /** A recorded position below any slot's start: the replica is seeded before it streams again. */
    private static final long NOTHING = 0;
    /**
     * The sessions that are clients' (of the proxies, or anyone's), not Understudy's own: its health
     * checks, beacons and steps are named "understudy...", the capture's Debezium connections
     * "Debezium ..." (ending those would stop the capture a switchover still needs).
     */
    private static final String CLIENTS = "coalesce(application_name, '') NOT LIKE 'understudy%'"
            + " AND coalesce(application_name, '') NOT LIKE 'Debezium %'";
    /** Session options that lift a fence ({@code default_transaction_read_only}) for the leader's own steps. */
    private static final String READ_WRITE = "-c default_transaction_read_only=off";

    private Promotion() {}

    /**
     * Makes a master that may still be running refuse writes: {@code default_transaction_read_only}
     * for every new transaction, and every client connection ended (their transactions roll back;
     * Understudy's own connections, the capture's included, stay).
     * Throws when it cannot be reached; the caller decides whether that is fatal (a dead master
     * needs no fence).
     *
     * <p>The client connections are ended before read-only takes effect, and once more after: a
     * session the proxy relays without looking at statements does not hold its writes during a
     * switchover, and a write of its that reached the master between the reload and the end of its
     * connection would fail with 25006 (read-only transaction), which clients do not retry, instead
     * of the connection ending (57P01, retryable). Nothing of the proxy's logs in meanwhile: logins
     * to the master wait while writes are held.
     */
    public static void fence(CdcConfig oldMaster) throws SQLException {
        try (Connection c = oldMaster.connectToMaster("understudy-fence", "connectTimeout", "1", "socketTimeout", "5");
             Statement s = c.createStatement()) {
            String endClients = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    + " AND pid <> pg_backend_pid() AND " + CLIENTS;
            s.execute("ALTER SYSTEM SET default_transaction_read_only = on");
            s.execute(endClients);
            s.execute("SELECT pg_reload_conf()");
            s.execute(endClients);
        }
        log.info("fenced the old master {}:{}: read only, its client connections ended", oldMaster.host(), oldMaster.port());
    }

    /**
     * How many client transactions are open on {@code master} (Understudy's own sessions, whose
     * application names start with "understudy", left out): a switchover lets them finish before it
     * fences the master.
     */
    public static int openTransactions(CdcConfig master) throws SQLException {
        try (Connection c = master.connectToMaster("understudy-switchover", "connectTimeout", "2", "socketTimeout", "10");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                     + " AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND " + CLIENTS)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Writes a last beacon on a fenced master and returns its position: the stream carries it after
     * every transaction the master committed, so a replica that applied it has everything.
     */
    public static long finalPosition(CdcConfig master) throws SQLException {
        try (Connection c = master.connectToMaster("understudy-switchover", "connectTimeout", "2", "socketTimeout", "10",
                "options", READ_WRITE);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(Confirmations.MARK)) {
            rs.next();
            return Lsns.parse(rs.getString(1));
        }
    }

    /** Lifts the fence of a master that keeps its place (a switchover that gave up). */
    public static void unfence(CdcConfig master) throws SQLException {
        try (Connection c = master.connectToMaster("understudy-switchover", "connectTimeout", "2", "socketTimeout", "10");
             Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM RESET default_transaction_read_only");
            s.execute("SELECT pg_reload_conf()");
        }
        log.info("lifted the fence of master {}:{}", master.host(), master.port());
    }

    /**
     * Turns the fenced former master of a switchover into a replica of the new master without a
     * seed: it holds exactly what the new master held when it was promoted (both stopped at the same
     * final position), so it continues from the new stream's start. Its slot from its time as
     * master is dropped (its capture has stopped).
     */
    public static void demote(ReplicaTarget formerMaster, String slot, String stream, StreamStart start) throws SQLException {
        try (Connection c = connect(formerMaster)) {
            dropSlot(c, slot);
        }
        continueFrom(formerMaster, stream, start, true);
    }

    /** Drops {@code slot}, ending the walsender still attached to it, if any. */
    private static void dropSlot(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                + " WHERE slot_name = ? AND active")) {
            ps.setString(1, slot);
            ps.execute();
        }
        for (int attempt = 1; ; attempt++) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name = ?")) {
                ps.setString(1, slot);
                ps.execute();
                return;
            } catch (SQLException e) {
                if (!"55006".equals(e.getSQLState()) || attempt == 50) { // object_in_use: the walsender is still leaving
                    throw e;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while dropping slot " + slot, e);
                }
            }
        }
    }

    /** Reads replicas' recorded positions again and again, over one connection each (opened on first use). */
    public static final class Positions implements AutoCloseable {
        private final String stream;
        private final Map<String, Connection> connections = new HashMap<>();

        public Positions(String stream) {
            this.stream = stream;
        }

        /** The position replica {@code r} recorded; -1 when it has none. */
        public long read(ReplicaTarget r) throws SQLException {
            Connection c = connections.get(r.name());
            if (c == null) {
                c = connect(r);
                connections.put(r.name(), c);
            }
            try {
                return AppliedPosition.read(c, stream);
            } catch (SQLException e) {
                connections.remove(r.name());
                c.close();
                throw e;
            }
        }

        @Override
        public void close() {
            for (Connection c : connections.values()) {
                try {
                    c.close();
                } catch (SQLException e) {
                    // gone either way
                }
            }
            connections.clear();
        }
    }

    /** The tables a checksum covers: every permanent table of the database's own schemas, in name order. */
    private static final String CHECKED_TABLES = """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition AND USER_NAMESPACE
            ORDER BY 1""".replace("USER_NAMESPACE", MasterSchema.USER_NAMESPACE);

    /**
     * Each table's row count and a checksum of its rows (md5 of the md5s of every row's text, in
     * order), by table name: equal on two nodes when they hold the same rows. Reads every row of
     * every table: it takes as long as reading the database.
     */
    public static Map<String, String> checksums(ReplicaTarget node) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = CdcConfig.connect(node.jdbcUrl(), node.user(), node.password(), "understudy-checksums",
                "connectTimeout", "2", "socketTimeout", "600"); Statement s = c.createStatement()) {
            for (String table : MasterSchema.column(c, CHECKED_TABLES)) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) || ' rows, ' || coalesce(md5(string_agg(h, '' ORDER BY h)),"
                        + " '-') FROM (SELECT md5(t::text) AS h FROM " + table + " t) rows")) {
                    rs.next();
                    out.put(table, rs.getString(1));
                }
            }
        }
        return out;
    }

    /** The position replica {@code r} recorded for {@code stream}; -1 when it has none. */
    public static long appliedPosition(ReplicaTarget r, String stream) throws SQLException {
        try (Connection c = connect(r)) {
            return AppliedPosition.read(c, stream);
        }
    }

    /**
     * Readies the replica {@code newMaster} names to take writes: every sequence that feeds a column
     * moved past the column's data ({@link Sequences}), the DDL capture, the publication and a new
     * replication slot (an old one of the same name, from an earlier time as master, is dropped).
     * Returns where the new stream starts.
     */
    public static StreamStart promote(CdcConfig newMaster) throws SQLException {
        String systemId;
        try (Connection c = newMaster.connectToMaster("understudy-promote");
             Statement s = c.createStatement()) {
            systemId = MasterSchema.column(c, AppliedPosition.SYSTEM_ID).getFirst();
            s.execute("ALTER SYSTEM RESET default_transaction_read_only"); // a former master fenced once
            s.execute("SELECT pg_reload_conf()");
            int moved = Sequences.advanceToData(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name = ?")) {
                ps.setString(1, newMaster.slot());
                ps.execute();
            }
            log.info("promoting {}:{}: {} sequence(s) moved past their data", newMaster.host(), newMaster.port(), moved);
        }
        return new StreamStart(systemId, MasterSetup.prepare(newMaster));
    }

    /** Where a new master's stream starts: its system identifier and its slot's start position. */
    public record StreamStart(String systemId, long position) {}

    /**
     * Records on replica {@code r} where it continues in the new master's stream: at its start
     * when it holds exactly what the new master held, or nothing when it does not ({@code proven}
     * false), so that its applier seeds it again from the new master.
     */
    public static void continueFrom(ReplicaTarget r, String stream, StreamStart start, boolean proven) throws SQLException {
        try (Connection c = connect(r)) {
            AppliedPosition.create(c);
            try (PreparedStatement ps = c.prepareStatement(AppliedPosition.SEEDED)) {
                ps.setString(1, stream);
                ps.setLong(2, proven ? start.position() : NOTHING);
                ps.setString(3, start.systemId());
                ps.executeUpdate();
            }
        }
        log.info("replica {} continues {}", r.name(), proven ? "from the new master's stream at " + Lsns.format(start.position())
                : "after a seed from the new master (it had not applied what the new master had)");
    }

    /**
     * Readies a fenced former master to return as a replica: its replication slot, left from its
     * time as master, is dropped (it would keep WAL forever), and it records a position of nothing,
     * so that its applier seeds it again from the current master. The seed replaces its contents:
     * whatever it took that never reached the new master is gone then. It stays fenced (read only)
     * for every session but the applier's.
     */
    public static void rejoin(ReplicaTarget r, String slot, String stream) throws SQLException {
        try (Connection c = connect(r)) {
            dropSlot(c, slot);
            AppliedPosition.create(c);
            try (PreparedStatement ps = c.prepareStatement(AppliedPosition.SEEDED)) {
                ps.setString(1, stream);
                ps.setLong(2, NOTHING);
                ps.setString(3, null); // in no master's stream
                ps.executeUpdate();
            }
        }
        log.info("former master {} readied to rejoin as a replica: slot {} dropped, it will be seeded again", r.name(), slot);
    }

    /** A connection to a node as the leader's failover steps use it: writes allowed even where the node is fenced. */
    private static Connection connect(ReplicaTarget r) throws SQLException {
        return CdcConfig.connect(r.jdbcUrl(), r.user(), r.password(), "understudy-failover", "connectTimeout", "2",
                "socketTimeout", "30", "options", READ_WRITE);
    }
}
