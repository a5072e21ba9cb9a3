package dev.understudy.proxy.admin;

import java.util.List;

/**
 * A statement of the admin console, as {@link AdminParser} reads it. Each kind knows the columns
 * of its result, so that a client can have them described before it runs (the extended protocol).
 */
public sealed interface AdminStatement {

    /** The result's column names; empty (the default) when the statement returns only a command tag. */
    default List<String> columns() {
        return List.of();
    }

    /** {@code SHOW <what>}: a read of the cluster's state; nothing changes. */
    record Show(What what) implements AdminStatement {
        @Override
        public List<String> columns() {
            return what.columns;
        }
    }

    /**
     * {@code SET [SESSION] name {= | TO} value} and {@code RESET name}: accepted and ignored (the
     * console keeps no settings), because drivers send them on connect (pgjdbc sets
     * application_name).
     */
    record Set(String name) implements AdminStatement {}

    /**
     * {@code SET NODE 'name' OFFLINE | ONLINE}: a replica stops or starts serving reads; the
     * capture keeps it in sync either way. Carried out by the leader.
     */
    record SetNode(String node, boolean online) implements AdminStatement {}

    /**
     * {@code SWITCHOVER TO 'name'}: the master role moves to a streaming replica with no committed
     * transaction lost; answers with one row saying what happened and how long writes paused.
     * Carried out by the leader.
     */
    record Switchover(String target) implements AdminStatement {
        @Override
        public List<String> columns() {
            return List.of("old_master", "new_master", "epoch", "write_pause_ms");
        }
    }

    /**
     * {@code FAILOVER [TO 'name']}: the master is failed over now, whatever the health checks say,
     * to {@code target} when named (null: the most caught-up replica). Transactions the promoted
     * replica lacks are lost, and counted. Carried out by the leader.
     */
    record Failover(String target) implements AdminStatement {
        @Override
        public List<String> columns() {
            return List.of("old_master", "new_master", "epoch", "unconfirmed");
        }
    }

    /** {@code REJOIN 'name'}: a former master returns as a replica, its contents replaced by a seed. */
    record Rejoin(String node) implements AdminStatement {}

    /**
     * {@code ADD REPLICA 'name' URL 'url'}: a new, empty server joins the cluster as a replica: it is
     * seeded from the master while the master takes writes, then serves reads. Carried out by the leader.
     */
    record AddReplica(String node, String host, int port) implements AdminStatement {}

    /**
     * {@code REMOVE REPLICA 'name'}: a replica leaves the cluster: no more reads, no more changes
     * applied, and it no longer holds the master's WAL. Its data stays as it is. Carried out by the leader.
     */
    record RemoveReplica(String node) implements AdminStatement {}

    /**
     * {@code RELOAD CONFIG}: every live node reads its configuration file again and takes what can
     * change without a restart; answers with a row per node saying what it took and what waits for
     * a restart.
     */
    record ReloadConfig() implements AdminStatement {
        @Override
        public List<String> columns() {
            return List.of("node", "file", "applied", "needs_restart", "error");
        }
    }

    /**
     * {@code TEST SWITCHOVER [TO 'name']}: the failover drill, a switchover to {@code via} (null:
     * the first streaming replica) and back, with every table's checksum compared on every node at
     * the switch point. Carried out by the leader.
     */
    record Drill(String via) implements AdminStatement {
        @Override
        public List<String> columns() {
            return List.of("via", "first_pause_ms", "second_pause_ms", "nodes_checked", "tables_checked", "converged",
                    "differences");
        }
    }

    /** What a SHOW reads, with its result's columns. */
    enum What {
        CLUSTER("node", "address", "role", "state", "up", "views", "epoch", "leader"),
        REPLICATION("node", "state", "applied_position", "lag_bytes", "lag_ms", "capture"),
        PROXIES("id", "address", "leader", "this"),
        SESSIONS("id", "user", "database", "client", "state", "transaction", "node", "connected_at"),
        STATS("node", "role", "statements", "errors", "resent", "outstanding", "avg_latency_ms");

        private final List<String> columns;

        What(String... columns) {
            this.columns = List.of(columns);
        }
    }
}
