package dev.understudy.proxy.demo;

/**
 * The client authentication rules of every demo PostgreSQL node, in one place.
 *
 * <p>First match wins. The harness (Unix socket, and the superuser {@code postgres} over loopback
 * TCP) keeps {@code trust}; the role {@value PgNode#MD5_ROLE} authenticates with {@code md5} so
 * that the proxy's md5 path has a real server to talk to; every other loopback connection,
 * replication connections included, must use {@code scram-sha-256}. Nothing else is accepted.
 */
final class PgHba {

    /** pg_hba.conf text; written over the file initdb created, then the server is reloaded. */
    static final String RULES = """
            # Written by Understudy's demo cluster (dev.understudy.proxy.demo.PgHba).
            # TYPE  DATABASE     USER            ADDRESS         METHOD
            local   all          all                             trust
            local   replication  all                             trust
            host    all          postgres        127.0.0.1/32    trust
            host    all          postgres        ::1/128         trust
            host    replication  postgres        127.0.0.1/32    trust
            host    replication  postgres        ::1/128         trust
            host    all          %1$-15s 127.0.0.1/32    md5
            host    all          %1$-15s ::1/128         md5
            host    all          all             127.0.0.1/32    scram-sha-256
            host    all          all             ::1/128         scram-sha-256
            host    replication  all             127.0.0.1/32    scram-sha-256
            host    replication  all             ::1/128         scram-sha-256
            """.formatted(PgNode.MD5_ROLE);

    private PgHba() {
    }
}
