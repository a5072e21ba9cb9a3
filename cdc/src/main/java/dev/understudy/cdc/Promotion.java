package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
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

    private Promotion() {}

    /**
     * Makes a master that may still be running refuse writes: {@code default_transaction_read_only}
     * for every new transaction, and every client connection ended (their transactions roll back).
     * Throws when it cannot be reached; the caller decides whether that is fatal (a dead master
     * needs no fence).
     */
    public static void fence(CdcConfig oldMaster) throws SQLException {
        try (Connection c = oldMaster.connectToMaster("understudy-fence", "connectTimeout", "1", "socketTimeout", "5");
             Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET default_transaction_read_only = on");
            s.execute("SELECT pg_reload_conf()");
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    + " AND pid <> pg_backend_pid() AND coalesce(application_name, '') <> 'understudy-fence'");
        }
        log.info("fenced the old master {}:{}: read only, its client connections ended", oldMaster.host(), oldMaster.port());
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
        try (Connection c = connect(r); Statement s = c.createStatement()) {
            s.execute("SET default_transaction_read_only = off"); // this session only: the fence stays
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE slot_name = ? AND NOT active")) {
                ps.setString(1, slot);
                ps.execute();
            }
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

    private static Connection connect(ReplicaTarget r) throws SQLException {
        return CdcConfig.connect(r.jdbcUrl(), r.user(), r.password(), "understudy-failover", "connectTimeout", "2",
                "socketTimeout", "30");
    }
}
