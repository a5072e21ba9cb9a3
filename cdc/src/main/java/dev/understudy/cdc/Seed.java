package dev.understudy.cdc;

import dev.understudy.cdc.MasterSchema.CopiedTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOperation;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a replica a consistent copy of the master, schema and rows, and the position the change
 * stream continues from, in one replica transaction: afterwards the replica applies the stream
 * from exactly that position, with no gap and no duplicate.
 *
 * <p>How: a temporary logical replication slot created with an exported snapshot
 * ({@code CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')}) names a position, its consistent
 * point, and a snapshot that sees exactly the transactions committed before it. A transaction on
 * the master imports the snapshot, locks the tables (so that no DDL changes them while they are
 * read), reads the schema ({@link MasterSchema}) and copies every table's rows with COPY. The
 * replica transaction builds the schema, loads the rows, then records the consistent point as its
 * applied position in {@link AppliedPosition}. Transactions whose commit ends at or below that
 * point are in the copy; those after it are in the stream (the shared slot is held back while a
 * replica is seeded, see {@link Applier}).
 *
 * <p>A replica is seeded only when it is empty (no tables, types, functions or extensions of its
 * own) or when it is Understudy's own replica (it has a row for the stream) whose contents the
 * stream can no longer bring up to date; then its user schemas and objects are dropped first.
 */
public final class Seed {

    private static final Logger log = LoggerFactory.getLogger(Seed.class);
    private static final int ATTEMPTS = 3;
    private static final int COPY_CHUNK = 64 * 1024;

    private static final int USER_OBJECTS_LISTED = 5;

    /** User objects on a server: relations, types, routines and extensions other than plpgsql (their names, a few). */
    private static final String USER_OBJECTS = """
            SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
            UNION ALL SELECT t.oid::regtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE USER_NAMESPACE AND t.typtype IN ('e', 'd', 'r', 'm', 'b') AND t.typelem = 0
            UNION ALL SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE USER_NAMESPACE
            UNION ALL SELECT 'extension ' || x.extname FROM pg_extension x WHERE x.extname <> 'plpgsql'
            LIMIT %d
            """.replace("USER_NAMESPACE", MasterSchema.USER_NAMESPACE).formatted(USER_OBJECTS_LISTED);

    /** What a re-seed drops first: user schemas, extensions, then what is left in schema public. */
    private static final String DROPS = """
            SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname) FROM pg_namespace n
            WHERE USER_NAMESPACE AND n.nspname <> 'public'
            UNION ALL SELECT format('DROP EXTENSION IF EXISTS %I CASCADE', x.extname) FROM pg_extension x WHERE x.extname <> 'plpgsql'
            UNION ALL SELECT format('DROP %s IF EXISTS %s CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW'
                       WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                       WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, c.oid::regclass)
            FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
            UNION ALL SELECT format('DROP %s IF EXISTS %s CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                       t.oid::regtype)
            FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r', 'm') AND t.typelem = 0
            UNION ALL SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace
            """.replace("USER_NAMESPACE", MasterSchema.USER_NAMESPACE);

    /**
     * What a concurrent DDL would change about the objects the snapshot saw; read in the snapshot
     * and again, after the tables are locked, from the latest catalog: a difference means DDL
     * committed between the snapshot and the locks, and the seed starts again.
     */
    private static final String DIGEST = """
            WITH o AS (SELECT unnest(?::oid[]) AS oid)
            SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (
                SELECT format('class %s %s %s %s %s', c.oid, c.relname, c.relnamespace, c.relkind, c.relreplident) AS x
                FROM pg_class c JOIN o ON o.oid = c.oid
                UNION ALL SELECT format('column %s %s %s %s %s %s %s %s %s', a.attrelid, a.attnum, a.attname, a.atttypid,
                                        a.atttypmod, a.attnotnull, a.attisdropped, a.attidentity, a.attgenerated)
                FROM pg_attribute a JOIN o ON o.oid = a.attrelid WHERE a.attnum > 0
                UNION ALL SELECT format('index %s %s', i.indrelid, i.indexrelid) FROM pg_index i JOIN o ON o.oid = i.indrelid
                UNION ALL SELECT format('constraint %s %s', k.conrelid, k.oid) FROM pg_constraint k JOIN o ON o.oid = k.conrelid
                UNION ALL SELECT format('default %s %s %s', d.adrelid, d.adnum, d.adbin) FROM pg_attrdef d JOIN o ON o.oid = d.adrelid
                UNION ALL SELECT format('enum %s %s', e.enumtypid, e.enumlabel) FROM pg_enum e JOIN o ON o.oid = e.enumtypid
            ) s
            """;

    private static final String SNAPSHOT_OBJECTS = """
            SELECT array_agg(o)::text FROM (
                SELECT c.oid AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE USER_NAMESPACE
                UNION ALL SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE USER_NAMESPACE
            ) s
            """.replace("USER_NAMESPACE", MasterSchema.USER_NAMESPACE);

    private static final String TABLES_TO_LOCK = """
            SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND c.relkind = 'r'
            """.replace("USER_NAMESPACE", MasterSchema.USER_NAMESPACE);

    private Seed() {}

    /** A seed that found DDL committed while it took its snapshot: worth another attempt. */
    private static final class SchemaMoved extends Exception {
        SchemaMoved() {
            super("the master's schema changed while the seed took its snapshot", null, false, false);
        }
    }

    /**
     * Seeds {@code replica} (a connection with autocommit off and {@code session_replication_role =
     * replica}) from the master and commits. Returns the position recorded for {@code stream}.
     *
     * @param ours whether the replica is Understudy's own (it has a row for the stream), whose
     *     contents may be dropped; otherwise it must be empty
     * @throws SQLException when the replica is not empty and not ours, the master's schema holds
     *     what the seed cannot copy, or a server fails
     */
    static long run(CdcConfig config, Connection replica, String name, String stream, boolean ours) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                return attempt(config, replica, name, stream, ours);
            } catch (SchemaMoved e) {
                replica.rollback();
                if (attempt == ATTEMPTS) {
                    throw new SQLException(e.getMessage() + ", " + ATTEMPTS + " times in a row; the seed of replica " + name
                            + " will be tried again later", "55000");
                }
                log.info("seed of replica {}: {}; starting again", name, e.getMessage());
            }
        }
    }

    private static long attempt(CdcConfig config, Connection replica, String name, String stream, boolean ours)
            throws SQLException, SchemaMoved {
        long started = System.nanoTime();
        try (Connection master = config.connectToMaster("understudy-seed")) {
            long position;
            try (Connection exporter = config.connectToMaster("understudy-seed-snapshot", "replication", "database",
                    "preferQueryMode", "simple", "assumeMinServerVersion", "10")) {
                String slot = "understudy_seed_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
                String snapshot;
                String create = "CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')";
                try (Statement s = exporter.createStatement(); ResultSet rs = s.executeQuery(create)) {
                    rs.next();
                    position = Lsns.parse(rs.getString("consistent_point"));
                    snapshot = rs.getString("snapshot_name");
                }
                try (Statement s = master.createStatement()) {
                    s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
                    s.execute("SET TRANSACTION SNAPSHOT '" + snapshot.replace("'", "''") + "'");
                }
            } // the exporter and its temporary slot go: the snapshot lives on in the master's transaction
            return copy(config, master, replica, name, stream, ours, position, started);
        } // closing the master connection ends its read-only snapshot transaction
    }

    private static long copy(CdcConfig config, Connection master, Connection replica, String name, String stream, boolean ours,
                             long position, long started) throws SQLException, SchemaMoved {
        try (Statement s = master.createStatement()) {
            s.execute("SELECT set_config('search_path', '', true), set_config('lock_timeout', '10s', true)");
        }
        String tables = MasterSchema.column(master, TABLES_TO_LOCK).getFirst();
        if (tables != null) {
            try (Statement s = master.createStatement()) {
                s.execute("LOCK TABLE " + tables + " IN ACCESS SHARE MODE"); // no DDL on them until the copy is done
            }
        }
        String objects = MasterSchema.column(master, SNAPSHOT_OBJECTS).getFirst();
        if (objects != null) {
            String seen = digest(master, objects);
            try (Connection latest = config.connectToMaster("understudy-seed")) {
                if (!seen.equals(digest(latest, objects))) {
                    throw new SchemaMoved();
                }
            }
        }
        try (Statement s = replica.createStatement()) {
            s.execute("SELECT set_config('search_path', '', true), set_config('check_function_bodies', 'off', true)");
        }
        prepareReplica(replica, name, stream, ours);
        MasterSchema schema = MasterSchema.read(master, roles(replica));
        try (Statement s = replica.createStatement()) {
            run(s, schema.before());
            long rows = 0;
            for (CopiedTable t : schema.tables()) {
                rows += copyRows(master, replica, t);
            }
            run(s, schema.after());
            try (PreparedStatement ps = replica.prepareStatement(AppliedPosition.SEEDED)) {
                ps.setString(1, stream);
                ps.setLong(2, position);
                ps.setString(3, MasterSchema.column(master, AppliedPosition.SYSTEM_ID).getFirst());
                ps.executeUpdate();
            }
            replica.commit();
            log.info("replica {} seeded from the master at {}: {} tables, {} rows, {} ms", name, Lsns.format(position),
                    schema.tables().size(), rows, (System.nanoTime() - started) / 1_000_000);
            return position;
        }
    }

    /** Runs schema statements, naming the one that fails (DDL: nothing secret in it). */
    private static void run(Statement s, List<String> statements) throws SQLException {
        for (String sql : statements) {
            try {
                s.execute(sql);
            } catch (SQLException e) {
                String shown = sql.length() > 300 ? sql.substring(0, 300) + "..." : sql;
                throw new SQLException(e.getMessage() + "\n  in: " + shown, e.getSQLState(), e);
            }
        }
    }

    /**
     * Why server {@code candidate} cannot join {@code master}'s cluster as a new replica, empty
     * when it can: it must be reachable as the capture's role, must be neither the master nor one
     * of {@code members} (the cluster's other nodes, compared by system identifier: an address may
     * be spelled two ways), and must hold nothing of its own unless Understudy seeded it before
     * (it has a position of the stream). What the applier would otherwise find only when it tries,
     * told to whoever adds it.
     */
    public static Optional<String> refusal(CdcConfig master, ReplicaTarget candidate, List<ReplicaTarget> members) {
        String id;
        String notEmpty = null;
        try (Connection c = CdcConfig.connect(candidate.jdbcUrl(), candidate.user(), candidate.password(),
                "understudy-join-check")) {
            id = MasterSchema.column(c, AppliedPosition.SYSTEM_ID).getFirst();
            try {
                requireEmpty(c, candidate.name(), master.slot(), hasPosition(c, master.slot()));
            } catch (SQLException e) {
                notEmpty = e.getMessage();
            }
        } catch (SQLException e) {
            return Optional.of("cannot reach " + candidate.name() + " as " + candidate.user() + ": " + e.getMessage());
        }
        try (Connection m = master.connectToMaster("understudy-join-check")) {
            if (id.equals(MasterSchema.column(m, AppliedPosition.SYSTEM_ID).getFirst())) {
                return Optional.of(candidate.name() + " is the master itself (same system identifier): check its URL");
            }
        } catch (SQLException e) {
            return Optional.of("cannot reach the master: " + e.getMessage());
        }
        for (ReplicaTarget member : members) {
            try (Connection c = CdcConfig.connect(member.jdbcUrl(), member.user(), member.password(), "understudy-join-check")) {
                if (id.equals(MasterSchema.column(c, AppliedPosition.SYSTEM_ID).getFirst())) {
                    return Optional.of(candidate.name() + " is node " + member.name() + " (same system identifier)");
                }
            } catch (SQLException e) {
                log.debug("cannot compare {} with {}, which is down: {}", candidate.name(), member.name(), e.getMessage());
            }
        }
        return Optional.ofNullable(notEmpty);
    }

    /** Whether the server holds a position of {@code stream} (Understudy seeded it before). */
    private static boolean hasPosition(Connection c, String stream) throws SQLException {
        if (MasterSchema.column(c, "SELECT to_regclass('_understudy.applied')::text").getFirst() == null) {
            return false;
        }
        return AppliedPosition.find(c, stream).isPresent();
    }

    /** Refuses a replica that holds objects and is not Understudy's ({@code ours}: it has a position of the stream). */
    private static void requireEmpty(Connection replica, String name, String stream, boolean ours) throws SQLException {
        if (ours) {
            return;
        }
        List<String> objects = MasterSchema.column(replica, USER_OBJECTS);
        if (!objects.isEmpty()) {
            String listed = String.join(", ", objects) + (objects.size() == USER_OBJECTS_LISTED ? ", ..." : "");
            throw new SQLException("replica " + name + " is not empty (" + listed + ") and has no"
                    + " position of stream " + stream + ": Understudy seeds only an empty database; drop what it holds, or"
                    + " name an empty database", "55000");
        }
    }

    /** Refuses a replica that holds objects and is not Understudy's; empties one that is. */
    private static void prepareReplica(Connection replica, String name, String stream, boolean ours) throws SQLException {
        if (!ours) {
            requireEmpty(replica, name, stream, false);
            return;
        }
        List<String> drops = MasterSchema.column(replica, DROPS);
        try (Statement s = replica.createStatement()) {
            run(s, drops);
        }
        log.info("replica {}: dropped its contents ({} schemas and objects) to seed it again", name, drops.size());
    }

    private static long copyRows(Connection master, Connection replica, CopiedTable t) throws SQLException {
        if (t.columns() == null) {
            return 0; // unlogged (the stream never carries its rows), or without columns
        }
        CopyOut out = master.unwrap(PGConnection.class).getCopyAPI()
                .copyOut("COPY " + t.name() + " (" + t.columns() + ") TO STDOUT");
        CopyIn in = replica.unwrap(PGConnection.class).getCopyAPI()
                .copyIn("COPY " + t.name() + " (" + t.columns() + ") FROM STDIN");
        try {
            // rows come one CopyData message each; they go on in 64 KB chunks, as COPY FROM a file would send them
            byte[] chunk = new byte[COPY_CHUNK];
            int filled = 0;
            byte[] row;
            while ((row = out.readFromCopy()) != null) {
                if (filled + row.length > chunk.length) {
                    in.writeToCopy(chunk, 0, filled);
                    filled = 0;
                }
                if (row.length > chunk.length) {
                    in.writeToCopy(row, 0, row.length);
                } else {
                    System.arraycopy(row, 0, chunk, filled, row.length);
                    filled += row.length;
                }
            }
            if (filled > 0) {
                in.writeToCopy(chunk, 0, filled);
            }
            return in.endCopy();
        } catch (SQLException e) {
            cancel(in, e);
            cancel(out, e);
            throw e;
        }
    }

    /** Ends a COPY that an error interrupted, keeping that error the one reported. */
    private static void cancel(CopyOperation copy, SQLException cause) {
        if (copy.isActive()) {
            try {
                copy.cancelCopy();
            } catch (SQLException e) {
                cause.addSuppressed(e);
            }
        }
    }

    private static String digest(Connection c, String objects) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(DIGEST)) {
            ps.setString(1, objects);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static Set<String> roles(Connection replica) throws SQLException {
        return new HashSet<>(MasterSchema.column(replica, "SELECT rolname FROM pg_roles"));
    }
}
