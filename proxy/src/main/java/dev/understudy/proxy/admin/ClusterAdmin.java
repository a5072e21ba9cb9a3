package dev.understudy.proxy.admin;

import dev.understudy.cdc.ReplicaState;
import dev.understudy.election.ClusterTopology;
import dev.understudy.election.ConfigReloads;
import dev.understudy.election.HealthViews;
import dev.understudy.election.LeaderRequests;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.Lsn;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.failover.Coordinator;
import dev.understudy.proxy.session.SessionInfo;
import dev.understudy.proxy.session.SessionRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The admin statements of one node, over what it knows: the cluster's topology and leader and
 * every live node's published health views (from ZooKeeper), and its own database nodes'
 * health, lag and counters, and its own sessions. SHOW SESSIONS and SHOW STATS are this node's
 * (each node routes its own clients); the rest is the cluster's, the same from any node.
 */
public final class ClusterAdmin implements AdminService {

    /** How long a statement the leader carries out may take before the console gives up waiting. */
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);
    /** How long RELOAD CONFIG waits for every live node to answer. */
    private static final Duration RELOAD_TIMEOUT = Duration.ofSeconds(10);

    private final Supplier<Coordinator> coordinator;
    private final NodeRegistry nodes;
    private final SessionRegistry sessions;

    /** {@code coordinator} supplies the node's coordinator once it has joined its cluster (null before). */
    public ClusterAdmin(Supplier<Coordinator> coordinator, NodeRegistry nodes, SessionRegistry sessions) {
        this.coordinator = coordinator;
        this.nodes = nodes;
        this.sessions = sessions;
    }

    @Override
    public AdminResult execute(AdminStatement statement) throws AdminException {
        return switch (statement) {
            case AdminStatement.Show show -> switch (show.what()) {
                case CLUSTER -> cluster();
                case REPLICATION -> replication();
                case PROXIES -> proxies();
                case SESSIONS -> sessions();
                case STATS -> stats();
            };
            case AdminStatement.Set set -> new AdminResult(List.of(), "SET");
            case AdminStatement.SetNode set -> askLeader(Coordinator.SET_NODE,
                    Map.of("node", set.node(), "state", set.online() ? "online" : "offline"));
            case AdminStatement.Switchover s -> askLeader(Coordinator.SWITCHOVER, Map.of("node", s.target()));
            case AdminStatement.Failover f -> askLeader(Coordinator.FAILOVER,
                    f.target() == null ? Map.of() : Map.of("node", f.target()));
            case AdminStatement.Rejoin r -> askLeader(Coordinator.REJOIN, Map.of("node", r.node()));
            case AdminStatement.Drill d -> askLeader(Coordinator.DRILL, d.via() == null ? Map.of() : Map.of("node", d.via()));
            case AdminStatement.AddReplica a -> askLeader(Coordinator.ADD_REPLICA,
                    Map.of("node", a.node(), "host", a.host(), "port", Integer.toString(a.port())));
            case AdminStatement.RemoveReplica r -> askLeader(Coordinator.REMOVE_REPLICA, Map.of("node", r.node()));
            case AdminStatement.ReloadConfig r -> reload();
        };
    }

    /** Hands a command to the leader (maybe this node) and answers with its tag, or its error. */
    private AdminResult askLeader(String command, Map<String, String> args) throws AdminException {
        Coordinator c = joined();
        LeaderRequests.Answer answer;
        try {
            answer = c.askLeader(command, args, LEADER_TIMEOUT);
        } catch (TimeoutException e) {
            throw new AdminException("57014", "the leader did not answer within " + LEADER_TIMEOUT.toSeconds() + " s",
                    "It may still carry the statement out: look with SHOW CLUSTER.");
        } catch (Exception e) {
            throw new AdminException("58000", "cannot reach the leader through ZooKeeper: " + e.getMessage(), null);
        }
        if (!answer.ok()) {
            throw new AdminException(answer.sqlState(), answer.message(), answer.hint());
        }
        return new AdminResult(answer.row() == null ? List.of() : List.of(answer.row()), answer.message());
    }

    /** Every live node reads its configuration again; a row per node says what it took. */
    private AdminResult reload() throws AdminException {
        Coordinator c = joined();
        Map<String, Optional<ConfigReloads.Result>> answers = read(() -> c.reloadConfig(RELOAD_TIMEOUT));
        List<List<String>> rows = new ArrayList<>();
        answers.forEach((node, answer) -> rows.add(answer
                .map(r -> row(node, r.file().isEmpty() ? null : r.file(), String.join(", ", r.applied()),
                        String.join(", ", r.needRestart()), r.error()))
                .orElseGet(() -> row(node, null, null, null, "did not answer within " + RELOAD_TIMEOUT.toSeconds() + " s"))));
        return new AdminResult(rows, "RELOAD CONFIG");
    }

    private AdminResult cluster() throws AdminException {
        Coordinator c = joined();
        ClusterTopology t = c.clusterTopology();
        Map<String, Map<String, HealthViews.View>> views = read(c::healthViews);
        String leader = c.leaderId().orElse(null);
        List<List<String>> rows = new ArrayList<>();
        for (DatabaseNode n : nodes.all()) {
            boolean master = n.name().equals(t.master());
            String state = master ? (t.held() ? "writes held" : "takes writes")
                    : t.replica(n.name()).map(ClusterTopology.Replica::state).orElse("not in the topology");
            rows.add(row(n.name(), n.target().host() + ":" + n.target().port(), master ? "master" : "replica", state,
                    yesNo(n.available()), views(views, n.name()), Long.toString(t.epoch()), leader));
        }
        return AdminResult.rows(rows);
    }

    /** Each live node's view of {@code node}, "proxy=up|down" in id order; "?" where one published none yet. */
    private static String views(Map<String, Map<String, HealthViews.View>> views, String node) {
        List<String> out = new ArrayList<>();
        views.keySet().stream().sorted().forEach(proxy -> {
            HealthViews.View v = views.get(proxy).get(node);
            out.add(proxy + "=" + (v == null ? "?" : v.up() ? "up" : "down"));
        });
        return String.join(" ", out);
    }

    private AdminResult replication() throws AdminException {
        Coordinator c = joined();
        ClusterTopology t = c.clusterTopology();
        Map<String, ReplicaState> capture = c.replicaStates();
        List<List<String>> rows = new ArrayList<>();
        for (ClusterTopology.Replica r : t.replicas()) {
            DatabaseNode n = nodes.get(r.name()).orElse(null);
            if (n == null) {
                continue;
            }
            ReplicaState s = capture.get(r.name());
            rows.add(row(r.name(), r.state(), n.appliedPosition() < 0 ? null : Lsn.format(n.appliedPosition()),
                    known(n.lagBytes()), known(n.lagMillis()), s == null ? null : s.name().toLowerCase(Locale.ROOT)));
        }
        return AdminResult.rows(rows);
    }

    private AdminResult proxies() throws AdminException {
        Coordinator c = joined();
        Map<String, String> live = read(c::liveProxies);
        String leader = c.leaderId().orElse(null);
        List<List<String>> rows = new ArrayList<>();
        live.keySet().stream().sorted().forEach(id -> rows.add(row(id, live.get(id), yesNo(id.equals(leader)),
                yesNo(id.equals(c.id())))));
        return AdminResult.rows(rows);
    }

    private AdminResult sessions() {
        List<List<String>> rows = new ArrayList<>();
        sessions.sessions().stream().map(s -> s.info()).sorted(Comparator.comparing(SessionInfo::connectedAt))
                .forEach(i -> rows.add(row(i.id(), i.user(), i.database(), i.client(), i.state(),
                        String.valueOf(i.transaction()), i.node(), i.connectedAt().toString())));
        return AdminResult.rows(rows);
    }

    private AdminResult stats() throws AdminException {
        String master = joined().clusterTopology().master();
        List<List<String>> rows = new ArrayList<>();
        for (DatabaseNode n : nodes.all()) {
            double latency = n.averageLatencyMillis();
            rows.add(row(n.name(), n.name().equals(master) ? "master" : "replica", Long.toString(n.statements()),
                    Long.toString(n.failures()), Long.toString(n.resent()), Integer.toString(n.outstanding()),
                    Double.isNaN(latency) ? null : String.format(Locale.ROOT, "%.3f", latency)));
        }
        return AdminResult.rows(rows);
    }

    private Coordinator joined() throws AdminException {
        Coordinator c = coordinator.get();
        if (c == null || c.clusterTopology() == null) {
            throw new AdminException(AdminException.NOT_IN_PREREQUISITE_STATE,
                    "this node has not joined its cluster yet", "Try again in a moment.");
        }
        return c;
    }

    /** What {@code zookeeperRead} returns, or an error naming ZooKeeper. */
    private static <T> T read(ZooKeeperRead<T> zookeeperRead) throws AdminException {
        try {
            return zookeeperRead.get();
        } catch (Exception e) {
            throw new AdminException("58000", "cannot read the cluster from ZooKeeper: " + e.getMessage(),
                    "SHOW SESSIONS and SHOW STATS need no ZooKeeper.");
        }
    }

    @FunctionalInterface
    private interface ZooKeeperRead<T> {
        T get() throws Exception;
    }

    private static List<String> row(String... values) {
        return Arrays.asList(values);
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    private static String known(long value) {
        return value < 0 ? null : Long.toString(value);
    }
}
