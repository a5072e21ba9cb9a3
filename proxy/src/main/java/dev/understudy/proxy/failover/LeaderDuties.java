package dev.understudy.proxy.failover;

import dev.understudy.cdc.Capture;
import dev.understudy.cdc.CdcConfig;
import dev.understudy.cdc.Promotion;
import dev.understudy.cdc.ReplicaState;
import dev.understudy.cdc.ReplicaTarget;
import dev.understudy.cdc.Seed;
import dev.understudy.election.ClusterPaths;
import dev.understudy.election.ClusterTopology;
import dev.understudy.election.LeaderRequests;
import dev.understudy.election.ClusterTopology.Replica;
import dev.understudy.election.HealthViews;
import dev.understudy.election.Membership;
import dev.understudy.election.NodeAddresses;
import dev.understudy.election.TopologyStore;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.config.ProxyConfig;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the cluster's leader does, one {@link #tick()} at a time: runs the change capture from the
 * master to the replicas, fails the master over when its own health checks and a majority of the
 * live proxies find it down, finishes a failover a previous leader began, marks re-seeded
 * replicas as serving reads again, and fences a former master that comes back.
 *
 * <p>A failover, in order: the topology moves to a new epoch with writes held (every proxy stops
 * sending writes anywhere); the old master is fenced if it can be reached; the capture lets the
 * replicas apply what it had captured; the replica with the highest applied position is promoted
 * (sequences moved past their data, a new slot); each other replica is told where it continues
 * in the new master's stream, from its start when it had applied exactly what the promoted one
 * had, or after a seed; the topology names the new master and releases writes; the capture starts
 * again from the new master. Every step can run again: a leader that dies midway leaves the
 * topology held, and the next one finishes the failover.
 *
 * <p>Not thread-safe on its own: {@link Coordinator} calls it from its one ticking thread, and
 * {@link #stop()} under the same lock.
 */
final class LeaderDuties {

    private static final Logger log = LoggerFactory.getLogger(LeaderDuties.class);
    /** The answer to a request whose compare-and-set found the topology changed since it was read. */
    private static final LeaderRequests.Answer UNDER_WAY =
            LeaderRequests.Answer.failed("55000", "a failover or switchover is under way", "Try again in a moment.");
    private static final LeaderRequests.Answer TOPOLOGY_CHANGED =
            LeaderRequests.Answer.failed("40001", "the topology changed meanwhile", "Try again.");
    /** How often a switchover looks at the master's transactions and the replicas' positions. */
    private static final Duration POLL = Duration.ofMillis(10);
    /** How long, at most, a switchover waits for the other replicas once its target has caught up. */
    private static final Duration OTHERS_GRACE = Duration.ofSeconds(2);

    private final ProxyConfig config;
    private final String id;
    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final TopologyStore store;
    private final NodeRegistry nodes;
    private final CdcTargets cdc;
    private volatile Capture capture;
    private String captureMaster;
    private List<String> captureReplicas = List.of();
    /** Former masters fenced since this node leads. */
    private final Set<String> fenced = new HashSet<>();
    /** What was last logged about waiting, so that a condition lasting many ticks is logged once. */
    private String lastWait;

    LeaderDuties(ProxyConfig config, String id, CuratorFramework client, ClusterPaths paths, TopologyStore store,
                 NodeRegistry nodes) {
        this.config = config;
        this.id = id;
        this.client = client;
        this.paths = paths;
        this.store = store;
        this.nodes = nodes;
        this.cdc = new CdcTargets(config, nodes);
    }

    /** Each replica's state in this node's capture; empty when it does not capture. */
    Map<String, ReplicaState> replicaStates() {
        Capture c = capture;
        return c == null ? Map.of() : c.replicaStates();
    }

    /** One round of the leader's duties. */
    void tick() throws Exception {
        // read from ZooKeeper, not the watch's copy: a copy one write behind could show a failover
        // this node already finished as still held, and it would promote again
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        if (t.held()) {
            completeFailover(v);
            return;
        }
        if (masterFailed(t)) {
            failover(v);
            return;
        }
        ensureCapture(t);
        markSeeded(v);
        formerMasters(v);
        serveRequests();
    }

    /** The topology as ZooKeeper holds it now. */
    private TopologyStore.Versioned current() throws Exception {
        return store.read().orElseThrow(() -> new IllegalStateException("the cluster has no topology"));
    }

    /** Stops what only a leader does (this node no longer leads, or is closing). */
    void stop() {
        closeCapture();
        fenced.clear();
        lastWait = null;
    }

    // ---- failure detection

    /**
     * Whether the master is down by this node's own checks and by those of a majority of the live
     * proxies (this one included), and a failover may begin.
     */
    private boolean masterFailed(ClusterTopology t) throws Exception {
        DatabaseNode master = nodes.get(t.master()).orElse(null);
        if (master == null || master.available()) {
            lastWait = null;
            return false;
        }
        if (!config.failover().enabled() || !config.cdc().enabled()) {
            waiting("master " + t.master() + " is down; no automatic failover ("
                    + (config.failover().enabled() ? "it needs cdc.enabled" : "failover.enabled is false") + ")");
            return false;
        }
        Map<String, String> live = Membership.live(client, paths);
        Map<String, Map<String, HealthViews.View>> views = HealthViews.read(client, paths);
        Set<String> proxies = new HashSet<>(live.keySet());
        proxies.add(id);
        int down = 0;
        for (String proxy : proxies) {
            HealthViews.View view = views.getOrDefault(proxy, Map.of()).get(t.master());
            if (proxy.equals(id) || (view != null && !view.up())) {
                down++; // this node's own view is the one it just read
            }
        }
        int majority = proxies.size() / 2 + 1;
        if (down < majority) {
            waiting("master " + t.master() + " is down by this node's checks, but only " + down + " of " + proxies.size()
                    + " live proxies agree (a failover needs " + majority + ")");
            return false;
        }
        log.warn("master {} is down: {} failed checks in a row here ({}), and {} of {} live proxies agree", t.master(),
                master.consecutiveFailures(), master.lastError().orElse("no error text"), down, proxies.size());
        return true;
    }

    private void waiting(String why) {
        if (!why.equals(lastWait)) {
            log.warn("{}", why);
            lastWait = why;
        }
    }

    // ---- failover

    /** Starts a failover: a new epoch in which writes are held. */
    private void failover(TopologyStore.Versioned v) throws Exception {
        ClusterTopology t = v.topology();
        ClusterTopology held = new ClusterTopology(t.epoch() + 1, t.master(), t.replicas(), true, t.lastFailover());
        if (!store.compareAndSet(v, held)) {
            log.info("the topology changed before the failover began; looking again");
            return;
        }
        log.warn("failover of master {} begins: epoch {}, writes held", t.master(), held.epoch());
        store.read().ifPresent(read -> {
            if (read.topology().equals(held)) {
                completeFailover(read);
            }
        });
    }

    /**
     * Finishes the failover that the held topology {@code v} stands for: fence, drain, promote,
     * point the replicas at the new master, release writes. Returns early (the topology stays
     * held, and the next tick tries again) when no replica can be promoted.
     */
    private ClusterTopology completeFailover(TopologyStore.Versioned v) {
        return completeFailover(v, null);
    }

    /** As {@link #completeFailover(TopologyStore.Versioned)}, promoting {@code preferred} if it can be reached. */
    private ClusterTopology completeFailover(TopologyStore.Versioned v, String preferred) {
        long began = System.nanoTime();
        ClusterTopology t = v.topology();
        String old = t.master();
        fence(old);
        long unconfirmed = -1;
        Capture drained = capture;
        if (drained != null) {
            capture = null;
            try {
                if (!drained.drain(config.failover().drainTimeout())) {
                    log.warn("not every replica applied what was captured within {} ms", config.failover().drainTimeout().toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                drained.close();
                return null;
            }
        }
        Map<String, Long> positions = new LinkedHashMap<>();
        for (Replica r : t.replicas()) {
            if (!ClusterTopology.STREAMING.equals(r.state())) {
                continue;
            }
            try {
                positions.put(r.name(), Promotion.appliedPosition(cdc.target(r.name()), cdc.stream()));
            } catch (SQLException e) {
                log.warn("replica {} cannot be promoted: cannot read its applied position: {}", r.name(), e.getMessage());
            }
        }
        String best = null;
        for (Map.Entry<String, Long> e : positions.entrySet()) {
            if (e.getValue() >= 0 && (best == null || e.getValue() > positions.get(best))) {
                best = e.getKey(); // the first in topology order among equals
            }
        }
        if (preferred != null && positions.getOrDefault(preferred, -1L) >= 0) {
            best = preferred;
        }
        if (best == null) {
            waiting("failover of master " + old + " cannot finish: no streaming replica can be reached; writes stay held");
            return null;
        }
        long bestPosition = positions.get(best);
        if (drained != null) {
            unconfirmed = drained.capturedAfter(bestPosition);
        }
        Promotion.StreamStart start;
        try {
            start = Promotion.promote(cdc.forMaster(best, List.of()));
        } catch (SQLException e) {
            log.error("cannot promote replica {}: {}; trying again", best, e.getMessage());
            return null;
        }
        List<Replica> next = pointReplicas(t, best, start, name -> positions.getOrDefault(name, -2L) == bestPosition);
        next.add(new Replica(old, ClusterTopology.STALE));
        ClusterTopology released = new ClusterTopology(t.epoch(), best, next, false,
                new ClusterTopology.Failover(t.epoch(), old, best, unconfirmed));
        try {
            if (!store.compareAndSet(v, released)) {
                log.warn("the topology changed while this node failed master {} over; leaving it as it is now", old);
                return null;
            }
        } catch (Exception e) {
            log.error("cannot publish the new master {}: {}; the failover will be finished again", best, e.getMessage());
            return null;
        }
        lastWait = null;
        log.warn("failover done in {} ms: master {} (applied position {}) replaces {} in epoch {}; replicas {}; {}",
                (System.nanoTime() - began) / 1_000_000, best, bestPosition, old, t.epoch(), next,
                unconfirmed < 0 ? "how many captured transactions the new master lacks is not known (the capture was elsewhere)"
                        : unconfirmed + " captured transaction(s) of the old master are not on the new one");
        ensureCapture(released);
        return released;
    }

    /**
     * Tells each replica of {@code t} but the promoted one and former masters where it continues in
     * the new master's stream: from its start when {@code proven} says it holds exactly what the new
     * master held (it keeps its state), else after a seed (state reseed). A replica that cannot be
     * told still holds the old master's origin, so its applier seeds it when it is back.
     */
    private List<Replica> pointReplicas(ClusterTopology t, String promoted, Promotion.StreamStart start,
                                        Predicate<String> proven) {
        List<Replica> next = new ArrayList<>();
        for (Replica r : t.replicas()) {
            if (r.name().equals(promoted)) {
                continue;
            }
            if (ClusterTopology.STALE.equals(r.state())) {
                next.add(r);
                continue;
            }
            boolean equal = proven.test(r.name());
            try {
                Promotion.continueFrom(cdc.target(r.name()), cdc.stream(), start, equal);
            } catch (SQLException e) {
                log.warn("cannot tell replica {} where it stands in the new master's stream ({}): it will be seeded again",
                        r.name(), e.getMessage());
                equal = false;
            }
            next.add(new Replica(r.name(), equal ? r.state() : ClusterTopology.RESEED));
        }
        return next;
    }

    /** Makes node {@code name}, a master no longer, refuse writes if it can be reached. */
    private void fence(String name) {
        try {
            Promotion.fence(cdc.forMaster(name, List.of()));
            fenced.add(name);
        } catch (SQLException e) {
            log.info("old master {} not fenced: it cannot be reached ({}); it gets no writes from Understudy either way", name,
                    e.getMessage());
        }
    }

    /**
     * Fences each former master that its health checks find up again, once; then, with
     * {@code failover.auto_rejoin}, readies it to return as a replica and marks it for re-seeding
     * (one per round: each is a compare-and-set of the topology).
     */
    private void formerMasters(TopologyStore.Versioned v) throws Exception {
        ClusterTopology t = v.topology();
        for (Replica r : t.replicas()) {
            DatabaseNode node = nodes.get(r.name()).orElse(null);
            if (!ClusterTopology.STALE.equals(r.state()) || node == null || !node.available()) {
                continue;
            }
            if (!fenced.contains(r.name())) {
                fence(r.name());
            } else if (config.failover().autoRejoin() && config.cdc().enabled()) {
                rejoin(v, r.name());
                return;
            }
        }
    }

    /** Turns fenced former master {@code name} into a replica that its applier seeds again. */
    private LeaderRequests.Answer rejoin(TopologyStore.Versioned v, String name) throws Exception {
        try {
            Promotion.rejoin(cdc.target(name), config.cdc().slot(), cdc.stream());
        } catch (SQLException e) {
            waiting("former master " + name + " cannot rejoin yet: " + e.getMessage());
            return LeaderRequests.Answer.failed("55000", "former master " + name + " cannot rejoin yet: " + e.getMessage(), null);
        }
        if (!store.compareAndSet(v, v.topology().withReplicaState(name, ClusterTopology.RESEED))) {
            return TOPOLOGY_CHANGED;
        }
        log.warn("former master {} rejoins as a replica: a seed from {} replaces its contents", name, v.topology().master());
        return LeaderRequests.Answer.done("REJOIN");
    }

    /** {@code REJOIN}: a former master that is up returns as a replica, re-seeded (fenced first). */
    private LeaderRequests.Answer rejoinRequested(String name) throws Exception {
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        if (name == null || nodes.get(name).isEmpty()) {
            return unknownNode(name);
        }
        String state = name.equals(t.master()) ? "the master" : t.replica(name).map(Replica::state).orElse("not in the topology");
        if (!ClusterTopology.STALE.equals(state)) {
            return LeaderRequests.Answer.failed("55000", name + " is " + state + ": only a former master (stale) rejoins", null);
        }
        if (!nodes.get(name).get().available()) {
            return LeaderRequests.Answer.failed("55000", name + " is down", "Start it, then REJOIN it.");
        }
        if (t.held()) {
            return UNDER_WAY;
        }
        if (!fenced.contains(name)) {
            fence(name);
        }
        return rejoin(v, name);
    }

    private LeaderRequests.Answer unknownNode(String name) {
        return LeaderRequests.Answer.failed("42704", "no database node is named \"" + name + "\"",
                "Nodes: " + String.join(", ", nodes.names()) + ".");
    }

    // ---- requests from any node (admin statements that change the cluster)

    /** Carries out the requests nodes handed to the leader, in order, and answers each. */
    private void serveRequests() throws Exception {
        for (LeaderRequests.Request r : LeaderRequests.pending(client, paths)) {
            LeaderRequests.Answer answer;
            try {
                answer = switch (r.command().command()) {
                    case Coordinator.SET_NODE -> setNode(r.command().args().get("node"), "online".equals(r.command().args().get("state")));
                    case Coordinator.SWITCHOVER -> switchover(r.command().args().get("node"));
                    case Coordinator.FAILOVER -> forcedFailover(r.command().args().get("node"));
                    case Coordinator.REJOIN -> rejoinRequested(r.command().args().get("node"));
                    case Coordinator.DRILL -> drill(r.command().args().get("node"));
                    case Coordinator.ADD_REPLICA -> addReplica(r.command().args());
                    case Coordinator.REMOVE_REPLICA -> removeReplica(r.command().args().get("node"));
                    default -> LeaderRequests.Answer.failed("0A000", "this leader does not know the command "
                            + r.command().command() + " (is it an older version than " + r.command().from() + "?)", null);
                };
            } catch (Exception e) {
                answer = LeaderRequests.Answer.failed("58000", "the leader could not carry it out: " + e.getMessage(), null);
            }
            log.info("request {} from {}: {}", r.command().command(), r.command().from(),
                    answer.ok() ? answer.message() : "refused, " + answer.message());
            LeaderRequests.answer(client, r, answer);
        }
    }

    /** {@code SET NODE} as the leader carries it out: a replica's state streaming <-> offline, by compare-and-set. */
    private LeaderRequests.Answer setNode(String name, boolean online) throws Exception {
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        if (name == null || nodes.get(name).isEmpty()) {
            return unknownNode(name);
        }
        if (name.equals(t.master())) {
            return LeaderRequests.Answer.failed("55000", name + " is the master: it cannot be taken offline",
                    "Switch over to another node first.");
        }
        String state = t.replica(name).map(Replica::state).orElse("");
        String wanted = online ? ClusterTopology.STREAMING : ClusterTopology.OFFLINE;
        if (state.equals(wanted)) {
            return LeaderRequests.Answer.done("SET NODE");
        }
        if (!state.equals(ClusterTopology.STREAMING) && !state.equals(ClusterTopology.OFFLINE)) {
            return LeaderRequests.Answer.failed("55000", name + " is " + state + ": only a streaming replica can go offline,"
                    + " and only an offline one online", null);
        }
        if (t.held()) {
            return LeaderRequests.Answer.failed("55000", "a failover is under way", "Try again in a moment.");
        }
        if (!store.compareAndSet(v, t.withReplicaState(name, wanted))) {
            return TOPOLOGY_CHANGED;
        }
        log.warn("replica {} is now {} (SET NODE from the admin console)", name, wanted);
        return LeaderRequests.Answer.done("SET NODE");
    }

    // ---- replicas added and removed

    /**
     * {@code ADD REPLICA}: a new server joins as a replica to be seeded. It must be empty (or one
     * Understudy seeded before and no node of the cluster now), and not the master. Its address
     * goes to ZooKeeper before the topology names it, so that every proxy can place it; the capture
     * seeds it at the next round, and {@link #markSeeded} lets it serve reads once it streams.
     */
    private LeaderRequests.Answer addReplica(Map<String, String> args) throws Exception {
        String name = args.get("node");
        NodeAddresses.Address address;
        try {
            address = new NodeAddresses.Address(args.get("host"), Integer.parseInt(args.getOrDefault("port", "")));
        } catch (IllegalArgumentException e) {
            return LeaderRequests.Answer.failed("22023", "not a server address: " + e.getMessage(), null);
        }
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        if (!config.cdc().enabled()) {
            return LeaderRequests.Answer.failed("55000", "replicas are kept in sync by change data capture, which is off",
                    "Set cdc.enabled: true.");
        }
        if (t.replica(name).isPresent() && NodeAddresses.read(client, paths, name).filter(address::equals).isPresent()) {
            return LeaderRequests.Answer.done("ADD REPLICA"); // asked again (a leader died before it answered)
        }
        if (name.equals(t.master()) || t.replica(name).isPresent()) {
            return LeaderRequests.Answer.failed("42710", "node " + name + " is in the cluster already",
                    "Pick another name, or REMOVE REPLICA it first.");
        }
        for (DatabaseNode n : nodes.all()) {
            if (n.target().host().equals(address.host()) && n.target().port() == address.port()) {
                return LeaderRequests.Answer.failed("42710", address + " is node " + n.name() + " already", null);
            }
        }
        if (t.held()) {
            return UNDER_WAY;
        }
        ReplicaTarget candidate = cdc.target(name, address);
        List<ReplicaTarget> members = nodes.names().stream().filter(n -> !n.equals(t.master())).map(cdc::target).toList();
        Optional<String> refusal = Seed.refusal(cdc.forMaster(t.master(), List.of()), candidate, members);
        if (refusal.isPresent()) {
            return LeaderRequests.Answer.failed("55000", "cannot add " + name + ": " + refusal.get(), null);
        }
        NodeAddresses.put(client, paths, name, address);
        nodes.put(name, address.host(), address.port()); // before the watch tells this node: the capture needs it next round
        List<Replica> next = new ArrayList<>(t.replicas());
        next.add(new Replica(name, ClusterTopology.RESEED));
        if (!store.compareAndSet(v, new ClusterTopology(t.epoch(), t.master(), next, false, t.lastFailover()))) {
            NodeAddresses.delete(client, paths, name);
            nodes.remove(name);
            return TOPOLOGY_CHANGED;
        }
        log.warn("replica {} at {} added (ADD REPLICA from the admin console): it is seeded from master {}, then serves"
                + " reads", name, address, t.master());
        return LeaderRequests.Answer.done("ADD REPLICA");
    }

    /**
     * {@code REMOVE REPLICA}: a replica leaves the topology (no reads, no more changes applied, no
     * hold on the master's slot) and its recorded address goes. Its data stays; added again later,
     * it continues from its recorded position if the slot still can, or is seeded again.
     */
    private LeaderRequests.Answer removeReplica(String name) throws Exception {
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        if (name != null && name.equals(t.master())) {
            return LeaderRequests.Answer.failed("55000", name + " is the master: it cannot be removed",
                    "Switch over to another node first.");
        }
        if (name == null || t.replica(name).isEmpty()) {
            return unknownNode(name);
        }
        if (t.held()) {
            return UNDER_WAY;
        }
        List<Replica> next = t.replicas().stream().filter(r -> !r.name().equals(name)).toList();
        if (!store.compareAndSet(v, new ClusterTopology(t.epoch(), t.master(), next, false, t.lastFailover()))) {
            return TOPOLOGY_CHANGED;
        }
        NodeAddresses.delete(client, paths, name);
        fenced.remove(name);
        log.warn("replica {} removed (REMOVE REPLICA from the admin console): no more reads, no more changes applied", name);
        return LeaderRequests.Answer.done("REMOVE REPLICA");
    }

    // ---- forced failover

    /**
     * {@code FAILOVER [TO 'name']}: the failover the leader runs for a dead master, started by an
     * operator whatever the health checks say, promoting {@code preferred} when named (and
     * reachable) instead of the most caught-up replica. Transactions the promoted replica lacks are
     * lost, and counted in the answer.
     */
    private LeaderRequests.Answer forcedFailover(String preferred) throws Exception {
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        if (preferred != null) {
            if (nodes.get(preferred).isEmpty()) {
                return unknownNode(preferred);
            }
            if (!t.replica(preferred).map(r -> ClusterTopology.STREAMING.equals(r.state())).orElse(false)) {
                return LeaderRequests.Answer.failed("55000", preferred + " is not a streaming replica", null);
            }
        }
        if (t.held()) {
            return UNDER_WAY;
        }
        ClusterTopology held = new ClusterTopology(t.epoch() + 1, t.master(), t.replicas(), true, t.lastFailover());
        if (!store.compareAndSet(v, held)) {
            return TOPOLOGY_CHANGED;
        }
        log.warn("forced failover of master {} begins (FAILOVER statement{}): epoch {}, writes held", t.master(),
                preferred == null ? "" : " to " + preferred, held.epoch());
        TopologyStore.Versioned read = store.read().orElseThrow();
        ClusterTopology released = read.topology().equals(held) ? completeFailover(read, preferred) : null;
        if (released == null) {
            return LeaderRequests.Answer.failed("55000", "the failover could not finish now",
                    "Writes stay held and the leader finishes it by itself; see SHOW CLUSTER and the leader's log.");
        }
        ClusterTopology.Failover f = released.lastFailover();
        return LeaderRequests.Answer.done("FAILOVER", List.of(f.from(), f.to(), Long.toString(released.epoch()),
                f.unconfirmed() < 0 ? "unknown" : Long.toString(f.unconfirmed())));
    }

    // ---- switchover

    /**
     * {@code SWITCHOVER TO}: holds writes (letting open transactions finish for a while), fences the
     * master, lets the target apply everything up to the master's final position, promotes it,
     * turns the old master into a replica without a seed, releases writes. No committed
     * transaction is lost: the master takes none after its final position, and the target has all
     * of them before it is promoted. Gives up, the master taking writes again, when the target does
     * not catch up in time.
     */
    private LeaderRequests.Answer switchover(String target) throws Exception {
        return switchover(target, null);
    }

    /**
     * As {@link #switchover(String)}; with {@code checksums}, also reads every table's checksum on
     * the master and on each replica that reached its final position, at the switch point (writes
     * held, the master fenced, the appliers stopped: every node still), by node.
     */
    private LeaderRequests.Answer switchover(String target, Map<String, Map<String, String>> checksums) throws Exception {
        TopologyStore.Versioned v = current();
        ClusterTopology t = v.topology();
        String old = t.master();
        LeaderRequests.Answer refused = switchoverRefused(t, target);
        if (refused != null) {
            return refused;
        }
        long began = System.nanoTime();
        ClusterTopology draining = new ClusterTopology(t.epoch() + 1, old, t.replicas(), true, t.lastFailover(), true);
        if (!store.compareAndSet(v, draining)) {
            return TOPOLOGY_CHANGED;
        }
        log.warn("switchover from {} to {} begins: epoch {}, writes held", old, target, draining.epoch());
        v = store.read().orElseThrow();
        CdcConfig master = cdc.forMaster(old, List.of());
        awaitOpenTransactions(master);
        long finalPosition;
        try {
            Promotion.fence(master);
            finalPosition = Promotion.finalPosition(master);
        } catch (SQLException e) {
            return abandonSwitchover(v, master, "cannot fence the master " + old + ": " + e.getMessage());
        }
        long deadline = System.nanoTime() + config.failover().switchoverTimeout().toNanos();
        List<String> caughtUp = awaitPosition(t, finalPosition, target, deadline);
        if (!caughtUp.contains(target)) {
            return abandonSwitchover(v, master, target + " did not apply everything the master committed within "
                    + config.failover().switchoverTimeout().toMillis() + " ms (failover.switchover_timeout_ms)");
        }
        closeCapture();
        if (checksums != null) {
            for (String node : concat(old, caughtUp)) {
                try {
                    checksums.put(node, Promotion.checksums(cdc.target(node)));
                } catch (SQLException e) {
                    log.warn("cannot read the checksums of {}: {}", node, e.getMessage());
                }
            }
        }
        Promotion.StreamStart start;
        try {
            start = Promotion.promote(cdc.forMaster(target, List.of()));
        } catch (SQLException e) {
            ensureCapture(t);
            return abandonSwitchover(v, master, "cannot promote " + target + ": " + e.getMessage());
        }
        List<Replica> next = pointReplicas(t, target, start, caughtUp::contains);
        String oldState = ClusterTopology.STREAMING;
        try {
            Promotion.demote(cdc.target(old), config.cdc().slot(), cdc.stream(), start);
        } catch (SQLException e) {
            log.warn("cannot turn the old master {} into a replica ({}): it will be seeded again", old, e.getMessage());
            oldState = ClusterTopology.RESEED;
        }
        next.add(new Replica(old, oldState));
        ClusterTopology released = new ClusterTopology(draining.epoch(), target, next, false, t.lastFailover());
        if (!store.compareAndSet(v, released)) {
            log.error("the topology changed during the switchover to {}; leaving it as it is now", target);
            return LeaderRequests.Answer.failed("40001", "the topology changed during the switchover", "Look with SHOW CLUSTER.");
        }
        long pauseMs = (System.nanoTime() - began) / 1_000_000;
        log.warn("switchover done: {} replaces {} in epoch {}; writes paused {} ms; replicas {}", target, old,
                released.epoch(), pauseMs, next);
        ensureCapture(released);
        return LeaderRequests.Answer.done("SWITCHOVER", List.of(old, target, Long.toString(released.epoch()),
                Long.toString(pauseMs)));
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    /**
     * {@code TEST SWITCHOVER [TO 'name']}: the failover drill. A switchover to {@code via} (the
     * first streaming replica when null) and back, comparing every table's checksum on every node
     * at the second switch point. Answers both write pauses and whether the nodes converged.
     */
    private LeaderRequests.Answer drill(String via) throws Exception {
        ClusterTopology t = current().topology();
        String home = t.master();
        String target = via != null ? via : t.replicas().stream().filter(r -> ClusterTopology.STREAMING.equals(r.state()))
                .map(Replica::name).findFirst().orElse(null);
        if (target == null) {
            return LeaderRequests.Answer.failed("55000", "no streaming replica to switch over to", null);
        }
        LeaderRequests.Answer there = switchover(target);
        if (!there.ok()) {
            return LeaderRequests.Answer.failed(there.sqlState(), "drill stopped, " + home + " is still master: " + there.message(),
                    there.hint());
        }
        Map<String, Map<String, String>> sums = new TreeMap<>();
        LeaderRequests.Answer back = switchover(home, sums);
        if (!back.ok()) {
            return LeaderRequests.Answer.failed(back.sqlState(), "drill stopped after the switchover to " + target
                    + ", which is master now: the switchover back failed: " + back.message(), back.hint());
        }
        Map<String, String> reference = sums.getOrDefault(target, Map.of());
        List<String> differences = new ArrayList<>();
        sums.forEach((node, tables) -> {
            for (String table : union(reference.keySet(), tables.keySet())) {
                if (!Objects.equals(reference.get(table), tables.get(table))) {
                    differences.add(node + ":" + table);
                }
            }
        });
        boolean converged = differences.isEmpty() && sums.size() == 1 + t.replicas().stream() // every node in sync compared
                .filter(r -> ClusterTopology.STREAMING.equals(r.state()) || ClusterTopology.OFFLINE.equals(r.state())).count();
        log.warn("failover drill via {}: {} ms there, {} ms back; {} node(s), {} table(s) compared: {}", target,
                there.row().get(3), back.row().get(3), sums.size(), reference.size(),
                converged ? "converged" : "NOT converged " + differences);
        return LeaderRequests.Answer.done("TEST SWITCHOVER", List.of(target, there.row().get(3), back.row().get(3),
                Integer.toString(sums.size()), Integer.toString(reference.size()), converged ? "yes" : "no",
                String.join(" ", differences)));
    }

    private static List<String> union(Collection<String> a, Collection<String> b) {
        TreeSet<String> all = new TreeSet<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    /** Why a switchover to {@code target} cannot begin; null when it can. */
    private LeaderRequests.Answer switchoverRefused(ClusterTopology t, String target) {
        if (target == null || nodes.get(target).isEmpty()) {
            return unknownNode(target);
        }
        if (target.equals(t.master())) {
            return LeaderRequests.Answer.failed("55000", target + " is the master already", null);
        }
        if (!t.replica(target).map(r -> ClusterTopology.STREAMING.equals(r.state())).orElse(false)) {
            return LeaderRequests.Answer.failed("55000", target + " is not a streaming replica ("
                    + t.replica(target).map(Replica::state).orElse("not in the topology") + ")",
                    "Only a replica in sync can take the master role; see SHOW REPLICATION.");
        }
        if (t.held()) {
            return UNDER_WAY;
        }
        if (capture == null || !t.master().equals(captureMaster)
                || !nodes.get(t.master()).map(DatabaseNode::available).orElse(false)) {
            return LeaderRequests.Answer.failed("55000", "the master " + t.master() + " is not up and captured now",
                    "A switchover needs a running master; after a failure the leader fails over by itself.");
        }
        return null;
    }

    /** Waits, up to failover.switchover_drain_ms, until no client transaction is open on the master. */
    private void awaitOpenTransactions(CdcConfig master) {
        long deadline = System.nanoTime() + config.failover().switchoverDrain().toNanos();
        try {
            int open;
            while ((open = Promotion.openTransactions(master)) > 0) {
                if (System.nanoTime() > deadline) {
                    log.info("{} transaction(s) still open on the master after {} ms: they are rolled back", open,
                            config.failover().switchoverDrain().toMillis());
                    return;
                }
                Thread.sleep(POLL);
            }
        } catch (SQLException e) {
            log.info("cannot count the master's open transactions ({}); fencing it now", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until {@code target} has applied {@code position} (or the deadline passes), and gives
     * the other replicas in sync (streaming or offline) at most {@link #OTHERS_GRACE} more to get
     * there too; returns the replicas that did.
     */
    private List<String> awaitPosition(ClusterTopology t, long position, String target, long deadline) {
        List<String> reached = new ArrayList<>();
        List<String> waiting = new ArrayList<>(List.of(target));
        t.replicas().stream().filter(r -> !r.name().equals(target) && (ClusterTopology.STREAMING.equals(r.state())
                        || ClusterTopology.OFFLINE.equals(r.state()))) // an offline replica is kept in sync too
                .forEach(r -> waiting.add(r.name()));
        long othersUntil = deadline;
        try (Promotion.Positions positions = new Promotion.Positions(cdc.stream())) {
            while (!waiting.isEmpty() && System.nanoTime() < othersUntil) {
                for (String name : List.copyOf(waiting)) {
                    try {
                        if (positions.read(cdc.target(name)) >= position) {
                            reached.add(name);
                            waiting.remove(name);
                            if (name.equals(target)) {
                                othersUntil = Math.min(deadline, System.nanoTime() + OTHERS_GRACE.toNanos());
                            }
                        }
                    } catch (SQLException e) {
                        log.debug("cannot read the position of {}: {}", name, e.getMessage());
                    }
                }
                if (!waiting.isEmpty()) {
                    Thread.sleep(POLL);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return reached;
    }

    /** Gives a switchover up: the master's fence lifted and writes released to it (same epoch). */
    private LeaderRequests.Answer abandonSwitchover(TopologyStore.Versioned held, CdcConfig master, String why)
            throws Exception {
        log.error("switchover abandoned: {}; {} stays master", why, held.topology().master());
        try {
            Promotion.unfence(master);
        } catch (SQLException e) {
            log.error("cannot lift the fence of {}: {}", held.topology().master(), e.getMessage());
        }
        ClusterTopology t = held.topology();
        store.compareAndSet(held, new ClusterTopology(t.epoch(), t.master(), t.replicas(), false, t.lastFailover()));
        return LeaderRequests.Answer.failed("55000", "switchover abandoned: " + why, "The master takes writes again.");
    }

    // ---- capture

    /**
     * Runs the capture from the topology's master to every replica that is not a former master:
     * started when there is none or the master changed; replicas added to or removed from a running
     * one, which keeps streaming to the others.
     */
    private void ensureCapture(ClusterTopology t) {
        if (!config.cdc().enabled()) {
            return;
        }
        List<String> replicas = t.replicas().stream().filter(r -> !ClusterTopology.STALE.equals(r.state()))
                .map(Replica::name).filter(n -> nodes.get(n).isPresent()).toList();
        if (capture != null && t.master().equals(captureMaster)) {
            if (!replicas.equals(captureReplicas)) {
                captureReplicas.stream().filter(r -> !replicas.contains(r)).forEach(capture::removeReplica);
                replicas.stream().filter(r -> !captureReplicas.contains(r)).forEach(r -> capture.addReplica(cdc.target(r)));
                captureReplicas = replicas;
            }
            return;
        }
        closeCapture();
        Capture c = new Capture(cdc.forMaster(t.master(), replicas));
        try {
            c.start();
        } catch (SQLException e) {
            waiting("cannot start change capture from master " + t.master() + " as cdc.user " + config.cdc().user()
                    + " (it needs REPLICATION and superuser rights): " + e.getMessage());
            return;
        }
        capture = c;
        captureMaster = t.master();
        captureReplicas = replicas;
    }

    private void closeCapture() {
        Capture c = capture;
        capture = null;
        captureMaster = null;
        captureReplicas = List.of();
        if (c != null) {
            c.close();
        }
    }

    /** Marks replicas that were being re-seeded as serving reads once the capture streams to them. */
    private void markSeeded(TopologyStore.Versioned v) throws Exception {
        Map<String, ReplicaState> states = replicaStates();
        ClusterTopology t = v.topology();
        List<Replica> next = new ArrayList<>();
        boolean changed = false;
        for (Replica r : t.replicas()) {
            if (ClusterTopology.RESEED.equals(r.state()) && states.get(r.name()) == ReplicaState.STREAMING) {
                next.add(new Replica(r.name(), ClusterTopology.STREAMING));
                changed = true;
                log.info("replica {} is seeded from master {} and serves reads again", r.name(), t.master());
            } else {
                next.add(r);
            }
        }
        if (changed) {
            store.compareAndSet(v, new ClusterTopology(t.epoch(), t.master(), next, false, t.lastFailover()));
        }
    }
}
