package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The master's schema as the statements that rebuild it on an empty replica, read from the
 * master's catalog inside the seed's snapshot transaction (the embedded PostgreSQL bundle has no
 * {@code pg_dump}, and a {@code pg_dump} of another major version refuses the server). Names come
 * out schema-qualified: the snapshot transaction runs with an empty {@code search_path}.
 *
 * <p>What it rebuilds: schemas, extensions, enum, domain and composite types, functions and
 * procedures, sequences (with their values), tables (column types, collations, defaults,
 * identity and generated columns, NOT NULL; unlogged ones stay empty), then after the rows: constraints, indexes,
 * replica identity, sequence ownership, views and materialized views, triggers, row-level
 * security and its policies, owners and privileges on schemas, tables, views and sequences.
 * What it refuses ({@link #UNSUPPORTED}): objects it would rebuild wrongly (partitioned and
 * inherited tables, foreign tables, range and base types, aggregates), rather than leave a replica
 * that silently lacks them.
 *
 * @param before what runs before the rows are copied
 * @param tables the tables whose rows are copied, with the columns copied
 * @param after what runs once the rows are in
 */
record MasterSchema(List<String> before, List<CopiedTable> tables, List<String> after) {

    /**
     * A table the seed made: its qualified name and the stored columns whose rows it copies, quoted,
     * comma-separated; null for an unlogged table (PostgreSQL never logs its rows, so the stream
     * could not keep a copy current) and one without columns.
     */
    record CopiedTable(String name, String columns) {}

    /** Schemas that hold user objects (as SQL over a pg_namespace alias {@code n}). */
    static final String USER_NAMESPACE =
            "n.nspname NOT IN ('pg_catalog', 'information_schema', '_understudy') AND n.nspname !~ '^pg_'";

    /** An object that belongs to an extension is the extension's to create (alias, catalog). */
    private static String notInExtension(String alias, String catalog) {
        return "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '" + catalog + "'::regclass AND e.objid = "
                + alias + ".oid AND e.deptype = 'e')";
    }

    private static final String UNSUPPORTED = """
            SELECT format('%s %s', CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'
                                   ELSE 'inherited table' END, c.oid::regclass)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_CLASS_EXTENSION AND (c.relkind IN ('p', 'f') OR c.relispartition
                   OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid))
            UNION ALL
            SELECT format('type %s (%s)', t.oid::regtype, CASE t.typtype WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange'
                                                           ELSE 'base' END)
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE USER_NAMESPACE AND NOT_IN_TYPE_EXTENSION AND t.typtype IN ('b', 'r', 'm') AND t.typelem = 0
            UNION ALL
            SELECT format('aggregate or window function %s', p.oid::regprocedure)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE USER_NAMESPACE AND NOT_IN_PROC_EXTENSION AND p.prokind IN ('a', 'w')
            """.replace("USER_NAMESPACE", USER_NAMESPACE).replace("NOT_IN_CLASS_EXTENSION", notInExtension("c", "pg_class"))
            .replace("NOT_IN_TYPE_EXTENSION", notInExtension("t", "pg_type"))
            .replace("NOT_IN_PROC_EXTENSION", notInExtension("p", "pg_proc"));

    private static final String SCHEMAS = """
            SELECT format('CREATE SCHEMA IF NOT EXISTS %I', n.nspname), format('SCHEMA %I', n.nspname),
                   pg_get_userbyid(n.nspowner)
            FROM pg_namespace n WHERE USER_NAMESPACE ORDER BY n.oid
            """;

    private static final String EXTENSIONS = """
            SELECT format('CREATE EXTENSION IF NOT EXISTS %I SCHEMA %I', x.extname, n.nspname)
            FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
            WHERE x.extname <> 'plpgsql' ORDER BY x.oid
            """;

    /** Enum, domain and composite types, in the order they were made (a domain over an enum comes after it). */
    private static final String TYPES = """
            SELECT CASE t.typtype
                     WHEN 'e' THEN format('CREATE TYPE %s AS ENUM (%s)', t.oid::regtype,
                         (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                          FROM pg_enum e WHERE e.enumtypid = t.oid))
                     WHEN 'd' THEN format('CREATE DOMAIN %s AS %s', t.oid::regtype, format_type(t.typbasetype, t.typtypmod))
                         || CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation
                                 THEN ' COLLATE ' || t.typcollation::regcollation::text ELSE '' END
                         || CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' END
                         || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                         || coalesce((SELECT string_agg(format(' CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)), ''
                                                        ORDER BY k.oid)
                                      FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '')
                     ELSE format('CREATE TYPE %s AS (%s)', t.oid::regtype,
                         (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                          FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
                   END,
                   format('%s %s', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype),
                   pg_get_userbyid(t.typowner)
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            LEFT JOIN pg_type b ON b.oid = t.typbasetype
            LEFT JOIN pg_class r ON r.oid = t.typrelid
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION
              AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND r.relkind = 'c'))
            ORDER BY t.oid
            """;

    private static final String FUNCTIONS = """
            SELECT pg_get_functiondef(p.oid),
                   format('%s %s', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure),
                   pg_get_userbyid(p.proowner)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND p.prokind IN ('f', 'p')
            ORDER BY p.oid
            """;

    /** The options of a sequence (alias q, a pg_sequence row) but its type, as CREATE SEQUENCE and identity columns take them. */
    private static final String SEQUENCE_OPTIONS = """
            format('INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s', q.seqincrement, q.seqmin, q.seqmax,
                   q.seqstart, q.seqcache, CASE WHEN q.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
            """;

    /** Sequences other than identity columns' (those come with their column). */
    private static final String SEQUENCES = """
            SELECT format('CREATE %sSEQUENCE %s AS %s ', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END,
                          c.oid::regclass, format_type(q.seqtypid, NULL))
                   || SEQUENCE_OPTIONS
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence q ON q.seqrelid = c.oid
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
            ORDER BY c.oid
            """;

    private static final String TABLES = """
            SELECT format('CREATE %sTABLE %s (%s)', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, c.oid::regclass,
                   coalesce((SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
                       || CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
                               THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END
                       || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                               WHEN a.attgenerated = 'v' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') VIRTUAL'
                               WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
                       || CASE WHEN a.attidentity IN ('a', 'd') THEN
                               format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %s ',
                                      CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, q.seqrelid::regclass)
                               || SEQUENCE_OPTIONS || ')' ELSE '' END
                       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY a.attnum)
                       FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
                       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                       LEFT JOIN pg_depend dq ON a.attidentity IN ('a', 'd') AND dq.classid = 'pg_class'::regclass
                            AND dq.refobjid = a.attrelid AND dq.refobjsubid = a.attnum AND dq.deptype = 'i'
                       LEFT JOIN pg_sequence q ON q.seqrelid = dq.objid
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')),
                   c.oid::regclass::text,
                   CASE WHEN c.relpersistence = 'p' THEN
                       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind = 'r'
            ORDER BY c.oid
            """;

    /** Constraints of the copied tables, after the rows: keys first, foreign keys (which need them) last. */
    private static final String CONSTRAINTS = """
            SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid))
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind = 'r' AND k.contype IN ('p', 'u', 'x', 'c', 'f')
            ORDER BY k.contype = 'f', k.contype = 'c', k.oid
            """;

    private static final String INDEXES = """
            SELECT pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind IN ('r', 'm')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                              AND k.contype IN ('p', 'u', 'x'))
            ORDER BY i.indexrelid
            """;

    private static final String REPLICA_IDENTITY = """
            SELECT format('ALTER TABLE %s REPLICA IDENTITY %s', c.oid::regclass, CASE c.relreplident
                     WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
                     ELSE 'USING INDEX ' || (SELECT quote_ident(x.relname) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                                             WHERE i.indrelid = c.oid AND i.indisreplident) END)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind = 'r' AND c.relreplident IN ('f', 'n', 'i')
            ORDER BY c.oid
            """;

    private static final String SEQUENCE_OWNERS = """
            SELECT format('ALTER SEQUENCE %s OWNED BY %s.%I', c.oid::regclass, d.refobjid::regclass, a.attname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind = 'S'
            ORDER BY c.oid
            """;

    /** Views and materialized views, in the order they were made; a materialized view is filled from the copied rows. */
    private static final String VIEWS = """
            SELECT format('CREATE %s %s AS %s', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, c.oid::regclass,
                          rtrim(pg_get_viewdef(c.oid), ';')),
                   format('%s %s', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, c.oid::regclass),
                   pg_get_userbyid(c.relowner)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind IN ('v', 'm')
            ORDER BY c.oid
            """;

    private static final String TRIGGERS = """
            SELECT pg_get_triggerdef(g.oid) || ';' || CASE g.tgenabled
                     WHEN 'D' THEN format(' ALTER TABLE %s DISABLE TRIGGER %I', c.oid::regclass, g.tgname)
                     WHEN 'R' THEN format(' ALTER TABLE %s ENABLE REPLICA TRIGGER %I', c.oid::regclass, g.tgname)
                     WHEN 'A' THEN format(' ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', c.oid::regclass, g.tgname)
                     ELSE '' END
            FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND NOT g.tgisinternal
            ORDER BY g.oid
            """;

    private static final String ROW_SECURITY = """
            SELECT format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', c.oid::regclass)
                   || CASE WHEN c.relforcerowsecurity THEN format('; ALTER TABLE %s FORCE ROW LEVEL SECURITY', c.oid::regclass)
                      ELSE '' END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relrowsecurity
            ORDER BY c.oid
            """;

    /** Policies, with the roles they name (a policy for a role the replica lacks cannot be made there). */
    private static final String POLICIES = """
            SELECT format('CREATE POLICY %I ON %s AS %s FOR %s TO %s', p.polname, c.oid::regclass,
                          CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                          CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                        WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                          (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
                           FROM unnest(p.polroles) r))
                   || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
                   || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''),
                   ARRAY(SELECT pg_get_userbyid(r) FROM unnest(p.polroles) r WHERE r <> 0)
            FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION
            ORDER BY p.oid
            """;

    /** Owners of tables and sequences (views come with theirs; a sequence a column owns follows its table). */
    private static final String RELATION_OWNERS = """
            SELECT format('%s %s', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::regclass),
                   pg_get_userbyid(c.relowner)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind IN ('r', 'S')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
            ORDER BY c.oid
            """;

    /** Privileges granted on schemas, tables, views and sequences, each with its grantee (NULL for PUBLIC). */
    private static final String GRANTS = """
            SELECT format('GRANT %s ON %s TO %s%s', a.privilege_type, o.object,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                          CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END),
                   CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END
            FROM (SELECT 0 AS kind, n.oid, format('SCHEMA %I', n.nspname) AS object, n.nspacl AS acl
                  FROM pg_namespace n WHERE USER_NAMESPACE
                  UNION ALL
                  SELECT 1, c.oid, CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || c.oid::regclass, c.relacl
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE USER_NAMESPACE AND NOT_IN_EXTENSION AND c.relkind IN ('r', 'v', 'm', 'S')) o,
                 aclexplode(o.acl) a
            ORDER BY o.kind, o.oid
            """;

    /** Where the copied sequences stand (a sequence never called keeps its start). */
    private static final String SEQUENCE_VALUES = """
            SELECT format('SELECT setval(%L, %s, true)', x.oid::regclass, x.v) FROM (
                SELECT c.oid, pg_sequence_last_value(c.oid) AS v  -- in the select list: only ever called on a sequence
                FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE USER_NAMESPACE AND NOT_IN_EXTENSION OFFSET 0) x
            WHERE x.v IS NOT NULL
            ORDER BY x.oid
            """;

    /**
     * Reads the schema through {@code master}, which must be inside the seed's snapshot transaction
     * with an empty search_path. {@code replicaRoles} are the roles the replica has: owners and
     * grantees it lacks are left out (the seed's own role owns those objects), a policy naming one
     * is refused.
     *
     * @throws SQLException when the schema holds objects the seed cannot rebuild (SQLSTATE 0A000)
     */
    static MasterSchema read(Connection master, Set<String> replicaRoles) throws SQLException {
        List<String> refused = column(master, UNSUPPORTED);
        if (!refused.isEmpty()) {
            throw new SQLException("the seed cannot copy " + String.join(", ", refused)
                    + " (see docs/cdc.md, Seeding); create the replica yourself", "0A000");
        }
        List<String> before = new ArrayList<>();
        List<String> after = new ArrayList<>();
        try (Statement s = master.createStatement()) {
            withOwners(s, sql(SCHEMAS), before, replicaRoles);
            before.addAll(column(master, EXTENSIONS));
            withOwners(s, sql(TYPES, "t", "pg_type"), before, replicaRoles);
            withOwners(s, sql(FUNCTIONS, "p", "pg_proc"), before, replicaRoles);
            before.addAll(column(master, sql(SEQUENCES, "c", "pg_class")));
            List<CopiedTable> tables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery(sql(TABLES, "c", "pg_class"))) {
                while (rs.next()) {
                    before.add(rs.getString(1));
                    tables.add(new CopiedTable(rs.getString(2), rs.getString(3)));
                }
            }
            after.addAll(column(master, sql(CONSTRAINTS, "c", "pg_class")));
            after.addAll(column(master, sql(INDEXES, "c", "pg_class")));
            after.addAll(column(master, sql(REPLICA_IDENTITY, "c", "pg_class")));
            after.addAll(column(master, sql(SEQUENCE_OWNERS, "c", "pg_class")));
            withOwners(s, sql(VIEWS, "c", "pg_class"), after, replicaRoles);
            after.addAll(column(master, sql(TRIGGERS, "c", "pg_class")));
            after.addAll(column(master, sql(ROW_SECURITY, "c", "pg_class")));
            try (ResultSet rs = s.executeQuery(sql(POLICIES, "c", "pg_class"))) {
                while (rs.next()) {
                    for (String role : (String[]) rs.getArray(2).getArray()) {
                        if (!replicaRoles.contains(role)) {
                            throw new SQLException("the replica lacks role " + role + ", which a row security policy names"
                                    + " (" + rs.getString(1) + "): create the role on the replica", "42704");
                        }
                    }
                    after.add(rs.getString(1));
                }
            }
            try (ResultSet rs = s.executeQuery(sql(RELATION_OWNERS, "c", "pg_class"))) {
                while (rs.next()) {
                    owner(after, rs.getString(1), rs.getString(2), replicaRoles);
                }
            }
            try (ResultSet rs = s.executeQuery(sql(GRANTS, "c", "pg_class"))) {
                while (rs.next()) {
                    String grantee = rs.getString(2);
                    if (grantee == null || replicaRoles.contains(grantee)) {
                        after.add(rs.getString(1)); // a grant to a role the replica lacks gives nobody anything there
                    }
                }
            }
            after.addAll(column(master, sql(SEQUENCE_VALUES, "c", "pg_class")));
            return new MasterSchema(List.copyOf(before), List.copyOf(tables), List.copyOf(after));
        }
    }

    /** Rows of (statement, object, owner): the statement, then the owner's change when the replica has the role. */
    private static void withOwners(Statement s, String sql, List<String> out, Set<String> replicaRoles) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
                owner(out, rs.getString(2), rs.getString(3), replicaRoles);
            }
        }
    }

    private static void owner(List<String> out, String object, String owner, Set<String> replicaRoles) {
        if (replicaRoles.contains(owner)) {
            out.add("ALTER " + object + " OWNER TO " + StreamEvent.TableName.quote(owner));
        }
    }

    private static String sql(String template) {
        return template.replace("USER_NAMESPACE", USER_NAMESPACE).replace("SEQUENCE_OPTIONS", SEQUENCE_OPTIONS);
    }

    private static String sql(String template, String alias, String catalog) {
        return sql(template).replace("NOT_IN_EXTENSION", notInExtension(alias, catalog));
    }

    static List<String> column(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
