package dev.understudy.cdc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.understudy.cdc.StreamEvent.Change;
import dev.understudy.cdc.StreamEvent.Ddl;
import dev.understudy.cdc.StreamEvent.Operation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Applies the change stream to one replica, on a thread of its own: each source transaction as
 * one replica transaction (several may share one when the replica is behind, none is split),
 * which also records the transaction's position in {@link AppliedPosition}. A transaction at or
 * below the recorded position was applied before (the stream delivers at least once) and is
 * skipped. Row changes are applied with {@code session_replication_role = replica}, so the
 * replica's triggers and foreign keys do not act a second time on what the master already did.
 *
 * <p>A replica that has no position yet (a new, empty one) or whose position the stream can no
 * longer continue from (the slot has moved past it) is first {@linkplain Seed seeded} from a
 * snapshot of the master. While it is seeded it holds the slot where it is, so that the stream
 * still has everything after the snapshot.
 *
 * <p>When the replica cannot be reached the applier drops what it holds and keeps trying to
 * reconnect; {@link Capture} then replays the stream from the replication slot, which the master
 * keeps until every replica has recorded it, or until a replica falls further behind than the
 * retention: it is then dropped from the stream (it no longer holds the slot) and marked for a
 * re-seed, which happens when it is back. A replica the applier cannot apply the stream to
 * (diverged from the master) is dropped and re-seeded the same way, after a pause that grows
 * with each failure.
 */
final class Applier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Applier.class);
    /** The most events held for a replica; the capture waits when a live replica is this far behind. */
    static final int QUEUE = 4_096;
    /** The most source transactions (or row changes) one replica transaction takes. */
    private static final int GROUP_TRANSACTIONS = 256;
    private static final int GROUP_CHANGES = 4_096;
    private static final Duration RETRY = Duration.ofMillis(500);
    private static final Duration FIRST_FAILURE_PAUSE = Duration.ofSeconds(5);
    private static final Duration LONGEST_FAILURE_PAUSE = Duration.ofMinutes(5);

    private final CdcConfig config;
    private final ReplicaTarget target;
    private final String stream;
    private final HikariDataSource pool;
    private final BlockingQueue<StreamEvent> queue = new ArrayBlockingQueue<>(QUEUE);
    private final Thread thread;
    private volatile ReplicaState state = ReplicaState.CONNECTING;
    private volatile long applied = -1;
    /** The position of the last event queued for the replica (-1: none). */
    private volatile long offered = -1;
    /** Dropped from the stream (too far behind, or failed): holds no slot, and is seeded again before it streams. */
    private volatile boolean reseed;
    private int failures;
    private long lastFailure;
    /** Each table's key columns on the replica, as of the stream's point (cleared by DDL and on reconnect). */
    private final TableKeys keys = new TableKeys();
    private final RowBatch rows = new RowBatch();
    /** Told the recorded position each time the applier (re)attaches: it needs the stream from there. */
    private final LongConsumer attached;

    Applier(CdcConfig config, ReplicaTarget target, LongConsumer attached) {
        this.config = config;
        this.target = target;
        this.stream = config.slot();
        this.attached = attached;
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("applier-" + target.name());
        hikari.setJdbcUrl(target.jdbcUrl());
        hikari.setUsername(target.user());
        hikari.setPassword(target.password());
        hikari.setMaximumPoolSize(1);
        hikari.setMinimumIdle(0);
        hikari.setAutoCommit(false);
        hikari.setConnectionTimeout(RETRY.toMillis() * 4);
        hikari.setInitializationFailTimeout(-1); // a replica that is down at start is no error: it is retried
        hikari.setConnectionInitSql("SET session_replication_role = replica");
        // a former master rejoining as a replica stays fenced (read only) for everyone but its
        // applier; set at login, since the init statement already begins a transaction
        hikari.addDataSourceProperty("options", "-c default_transaction_read_only=off");
        hikari.addDataSourceProperty("ApplicationName", "understudy-applier");
        this.pool = new HikariDataSource(hikari);
        this.thread = Thread.ofPlatform().name("applier-" + target.name()).daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    String name() {
        return target.name();
    }

    /** The position recorded on the replica as far as this applier knows (-1 before it read it). */
    long applied() {
        return applied;
    }

    ReplicaState state() {
        ReplicaState s = state;
        return reseed && (s == ReplicaState.CONNECTING || s == ReplicaState.STREAMING || s == ReplicaState.DETACHED)
                ? ReplicaState.DROPPED : s;
    }

    /**
     * How far the master's slot must keep the stream for this replica: its applied position; -1
     * (everything) while it is seeded, so that the stream keeps what follows the snapshot; nothing
     * ({@code Long.MAX_VALUE}) once it is dropped from the stream.
     */
    long holds() {
        if (state == ReplicaState.SEEDING) {
            return -1;
        }
        return reseed ? Long.MAX_VALUE : applied;
    }

    /**
     * Drops the replica from the stream, marked for a re-seed, when it is unreachable and further
     * behind {@code masterPosition} than the retention allows. A replica that can be reached is
     * catching up, however far behind a large transaction (or a long stop of the capture) left
     * it, and is never dropped. {@code floor} is where the slot stood when the capture started: a
     * replica whose position is not known yet is at least there, or it will be seeded anyway.
     */
    void dropIfBehind(long masterPosition, long floor) {
        if (reseed || masterPosition < 0 || state != ReplicaState.DETACHED) {
            return;
        }
        long behind = masterPosition - Math.max(applied, floor);
        if (behind > config.retentionBytes()) {
            reseed = true;
            log.warn("replica {} is away and {} MB behind the master, more than the retention of {} MB: dropped from the"
                    + " stream, it no longer holds the master's WAL and will be seeded again when it is back", target.name(),
                    behind >> 20, config.retentionBytes() >> 20);
        }
    }

    /**
     * Hands the applier the next event; waits while its queue is full. Returns false, dropping the
     * event, when the applier is not streaming (it will be given the stream again from its own
     * position once it is).
     */
    boolean offer(StreamEvent event) throws InterruptedException {
        while (streaming()) {
            if (queue.offer(event, 100, TimeUnit.MILLISECONDS)) {
                offered = event.position();
                return true;
            }
        }
        return false;
    }

    /** Whether the replica applied every event queued for it, or is not streaming (nothing more will reach it). */
    boolean caughtUp() {
        return !streaming() || (queue.isEmpty() && applied >= offered);
    }

    private boolean streaming() {
        return state == ReplicaState.STREAMING && !reseed;
    }

    private void run() {
        MDC.put("node", target.name());
        try {
            while (state != ReplicaState.CLOSED) {
                try (Connection c = pool.getConnection()) {
                    attach(c);
                    applyLoop(c);
                } catch (SQLException | RuntimeException e) {
                    if (state == ReplicaState.CLOSED) {
                        break;
                    }
                    if (e instanceof SQLException sql && connectionLost(sql)) {
                        detach("cannot reach it: " + e.getMessage());
                        Thread.sleep(RETRY);
                    } else {
                        Thread.sleep(fail(e));
                    }
                }
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            MDC.remove("node");
        }
    }

    /**
     * Reads the replica's recorded position and seeds it first if the stream cannot continue from
     * there: it has none (a new replica), it was dropped from the stream, or the master's slot has
     * moved past it (it was dropped by an earlier run, or restored from an old backup).
     */
    private void attach(Connection c) throws SQLException {
        keys.clear();
        queue.clear();
        try (Connection master = config.connectToMaster("understudy-applier")) {
            String masterId = refuseTheMaster(c, master);
            AppliedPosition.create(c);
            Optional<AppliedPosition.Recorded> row = AppliedPosition.find(c, stream);
            c.commit();
            boolean ours = row.isPresent(); // seeded for this stream before: its contents may be replaced
            String origin = row.map(AppliedPosition.Recorded::origin).orElse(null);
            boolean otherMaster = origin != null && !origin.equals(masterId);
            long recorded = otherMaster ? -1 : row.map(AppliedPosition.Recorded::position).orElse(-1L);
            if (!reseed) {
                applied = recorded; // holds the slot here from now on, before the slot is read
            }
            long slot = MasterSetup.slotPosition(master, config.slot());
            if (reseed || !ours || otherMaster || recorded < slot) {
                if (otherMaster) {
                    log.warn("replica {} holds a position in another master's stream (it missed a failover): it will be"
                            + " seeded again", target.name());
                } else if (ours && !reseed) {
                    log.warn("replica {} is at {}, behind the stream's start at {}: it will be seeded again", target.name(),
                            Lsns.format(recorded), Lsns.format(slot));
                }
                state = ReplicaState.SEEDING;
                applied = Seed.run(config, c, target.name(), stream, ours);
                reseed = false;
            }
        }
        state = ReplicaState.STREAMING;
        log.info("applier for replica {} streaming from position {}", target.name(), Lsns.format(applied));
        attached.accept(applied);
    }

    /**
     * Returns the master's system identifier, and refuses a replica that has the same: a replica
     * URL that names the master by mistake would feed the master its own changes, and a seed would empty it.
     */
    private String refuseTheMaster(Connection replica, Connection master) throws SQLException {
        String masterId = MasterSchema.column(master, AppliedPosition.SYSTEM_ID).getFirst();
        if (masterId.equals(MasterSchema.column(replica, AppliedPosition.SYSTEM_ID).getFirst())) {
            throw new SQLException("replica " + target.name() + " is the master itself (same system identifier): check its URL",
                    "55000");
        }
        return masterId;
    }

    private void detach(String why) {
        if (state == ReplicaState.STREAMING || state == ReplicaState.CONNECTING) {
            log.warn("applier for replica {} detached: {}", target.name(), why);
        }
        state = ReplicaState.DETACHED;
        queue.clear();
    }

    /** Gives the replica up until a re-seed, and returns how long to wait before it (longer after each failure). */
    private Duration fail(Exception e) {
        boolean wasSeeding = state == ReplicaState.SEEDING;
        state = ReplicaState.FAILED;
        queue.clear();
        long now = System.nanoTime();
        if (now - lastFailure > LONGEST_FAILURE_PAUSE.multipliedBy(2).toNanos()) {
            failures = 0;
        }
        lastFailure = now;
        failures++;
        Duration pause = FIRST_FAILURE_PAUSE.multipliedBy(1L << Math.min(failures - 1, 6));
        if (pause.compareTo(LONGEST_FAILURE_PAUSE) > 0) {
            pause = LONGEST_FAILURE_PAUSE;
        }
        reseed = true; // it holds no slot from now on, and is seeded before it streams again
        log.error("applier for replica {}: {} ({}); it is dropped from the stream and will be seeded again in {} s",
                target.name(), wasSeeding ? "its seed failed" : "it could not apply the stream", e.getMessage(),
                pause.toSeconds());
        return pause;
    }

    private void applyLoop(Connection c) throws SQLException, InterruptedException {
        List<StreamEvent> group = new ArrayList<>();
        while (streaming()) {
            StreamEvent first = queue.poll(200, TimeUnit.MILLISECONDS);
            if (first == null) {
                continue;
            }
            group.clear();
            group.add(first);
            int changes = size(first);
            while (group.size() < GROUP_TRANSACTIONS && changes < GROUP_CHANGES) {
                StreamEvent next = queue.peek();
                if (next == null) {
                    break;
                }
                group.add(queue.poll());
                changes += size(next);
            }
            apply(c, group);
        }
    }

    private static int size(StreamEvent e) {
        return e instanceof StreamEvent.Transaction t ? t.operations().size() : 0;
    }

    private void apply(Connection c, List<StreamEvent> group) throws SQLException {
        try {
            // the recorded position, locked: a second applier of the same stream (another node's
            // capture, for a moment) waits here, then skips what this one applied
            long recorded = AppliedPosition.lock(c, stream);
            long reached = recorded;
            for (StreamEvent e : group) {
                if (e.position() <= reached) {
                    continue; // applied before: the stream was replayed from an earlier point
                }
                if (e.previous() > reached) {
                    continue; // after a gap (this replica was away): the capture replays the stream from the slot
                }
                if (e instanceof StreamEvent.Transaction t) {
                    for (Operation op : t.operations()) {
                        switch (op) {
                            case Change change -> apply(c, change);
                            case Ddl ddl -> {
                                rows.flush();
                                apply(c, ddl);
                                keys.clear();
                            }
                        }
                    }
                }
                reached = e.position();
            }
            rows.flush();
            if (reached == recorded) {
                c.rollback();
                applied = recorded;
                return;
            }
            try (PreparedStatement ps = c.prepareStatement(AppliedPosition.UPSERT)) {
                ps.setString(1, stream);
                ps.setLong(2, reached);
                ps.executeUpdate();
            }
            c.commit();
            applied = reached;
        } catch (SQLException e) {
            rows.discard();
            rollbackQuietly(c);
            throw e;
        }
    }

    private void apply(Connection c, Change change) throws SQLException {
        String table = change.table().quoted();
        switch (change.kind()) {
            case INSERT -> {
                List<String> values = new ArrayList<>();
                StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" (");
                StringBuilder params = new StringBuilder();
                for (Map.Entry<String, String> col : change.after().entrySet()) {
                    if (!values.isEmpty()) {
                        sql.append(", ");
                        params.append(", ");
                    }
                    sql.append(StreamEvent.TableName.quote(col.getKey()));
                    params.append('?');
                    values.add(col.getValue());
                }
                // the master's values, identity columns included (GENERATED ALWAYS refuses them otherwise)
                rows.add(c, sql.append(") OVERRIDING SYSTEM VALUE VALUES (").append(params).append(')').toString(), values, table);
            }
            case UPDATE -> {
                List<String> keyValues = new ArrayList<>();
                String where = where(c, change, keyValues);
                // a key column keeps its value unless the key changed: not set (GENERATED ALWAYS
                // identity columns refuse any value but DEFAULT)
                List<String> key = keys.get(c, change.table());
                Map<String, String> old = oldKeyValues(change);
                List<String> values = new ArrayList<>();
                StringBuilder sql = new StringBuilder("UPDATE ").append(table).append(" SET ");
                for (Map.Entry<String, String> col : change.after().entrySet()) {
                    if (key.contains(col.getKey()) && Objects.equals(col.getValue(), old.get(col.getKey()))) {
                        continue;
                    }
                    if (!values.isEmpty()) {
                        sql.append(", ");
                    }
                    sql.append(StreamEvent.TableName.quote(col.getKey())).append(" = ?");
                    values.add(col.getValue());
                }
                if (values.isEmpty()) {
                    return; // nothing but the unchanged key
                }
                values.addAll(keyValues);
                rows.add(c, sql.append(where).toString(), values, table);
            }
            case DELETE -> {
                List<String> values = new ArrayList<>();
                String sql = "DELETE FROM " + table + where(c, change, values);
                rows.add(c, sql, values, table);
            }
            case TRUNCATE -> {
                rows.flush();
                try (Statement s = c.createStatement()) {
                    s.execute("TRUNCATE ONLY " + table + " CASCADE");
                }
            }
        }
    }

    /**
     * The old row: by the table's key on the replica (its replica identity index, else its
     * primary key), taken from the old row when the master logged it (a DELETE, a key change) and
     * from the new one otherwise; by every column of the old row, compared as text (json and
     * others have no equality operator), when the table has no key, and then one row only, as
     * PostgreSQL's own logical replication does with REPLICA IDENTITY FULL.
     */
    private String where(Connection c, Change change, List<String> values) throws SQLException {
        List<String> key = keys.get(c, change.table());
        String table = change.table().quoted();
        StringBuilder cond = new StringBuilder();
        if (key.isEmpty()) {
            if (change.before().isEmpty()) {
                throw new SQLException("table " + change.table() + " has no key on the replica and the master did not log the"
                        + " old row (REPLICA IDENTITY is not FULL): the change cannot be applied", "UU002");
            }
            for (Map.Entry<String, String> col : change.before().entrySet()) {
                String name = StreamEvent.TableName.quote(col.getKey());
                cond.append(cond.isEmpty() ? "" : " AND ");
                if (col.getValue() == null) {
                    cond.append(name).append(" IS NULL");
                } else {
                    cond.append(name).append("::text = ?::text");
                    values.add(col.getValue());
                }
            }
            return " WHERE ctid = (SELECT ctid FROM " + table + " WHERE " + cond + " LIMIT 1)";
        }
        Map<String, String> old = oldKeyValues(change);
        for (String column : key) {
            String value = old.get(column);
            if (value == null) {
                throw new SQLException("a change to " + change.table() + " without a value for its key column " + column, "UU002");
            }
            cond.append(cond.isEmpty() ? " WHERE " : " AND ").append(StreamEvent.TableName.quote(column)).append(" = ?");
            values.add(value);
        }
        return cond.toString();
    }

    /** Where the old row's key values are: the old row when the master logged one (a DELETE, a key change), else the new row. */
    private static Map<String, String> oldKeyValues(Change change) {
        return change.before().isEmpty() ? change.after() : change.before();
    }

    /**
     * Runs a DDL command as the master ran it: with its search_path, and as its role when the
     * replica has that role (so that the objects it creates have the same owner), then back to the
     * applier's own.
     */
    private void apply(Connection c, Ddl ddl) throws SQLException {
        String sql = ReplicaDdl.statement(ddl);
        if (sql == null) {
            log.debug("DDL command {} of a statement already run on replica {}", ddl.ordinal(), target.name());
            return;
        }
        boolean asRole = roleExists(c, ddl.role());
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('search_path', ?, true)")) {
            ps.setString(1, ddl.searchPath());
            ps.execute();
        }
        try (Statement s = c.createStatement()) {
            s.setEscapeProcessing(false);
            if (asRole) {
                s.execute("SET LOCAL ROLE " + StreamEvent.TableName.quote(ddl.role()));
            }
            s.execute(sql);
            s.execute("RESET ROLE");
            s.execute("RESET search_path");
        }
        log.info("replica {} ran {}{}", target.name(), ddl.tag(), asRole ? "" : " (as the applier: role " + ddl.role() + " is missing)");
    }

    private static boolean roleExists(Connection c, String role) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Row changes in a row with the same statement text (the same table, kind and columns), sent
     * together, one round trip for many, and checked one by one: each must touch exactly one row,
     * or the replica diverged from the master. Whatever must run in order with them (DDL, TRUNCATE,
     * the position's upsert) flushes it first.
     */
    private static final class RowBatch {
        private static final int MAX = 1_000;
        private PreparedStatement statement;
        private String sql;
        private String table;
        private int size;

        void add(Connection c, String sql, List<String> values, String table) throws SQLException {
            if (!sql.equals(this.sql) || size >= MAX) {
                flush();
                statement = c.prepareStatement(sql);
                this.sql = sql;
                this.table = table;
            }
            for (int i = 0; i < values.size(); i++) {
                statement.setObject(i + 1, values.get(i), Types.OTHER);
            }
            statement.addBatch();
            size++;
        }

        void flush() throws SQLException {
            if (statement == null) {
                return;
            }
            try {
                for (int rows : statement.executeBatch()) {
                    if (rows != 1) {
                        throw new SQLException("replica diverged: a change to " + table + " matched " + rows
                                + " rows instead of 1", "UU001");
                    }
                }
            } finally {
                discard();
            }
        }

        void discard() {
            if (statement != null) {
                try {
                    statement.close();
                } catch (SQLException ignored) {
                    // the connection is being given up on
                }
            }
            statement = null;
            sql = null;
            size = 0;
        }
    }

    private static boolean connectionLost(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03");
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; the replica rolls back by itself
        }
    }

    @Override
    public void close() {
        state = ReplicaState.CLOSED;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.close();
    }
}
