package dev.understudy.election;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in the cluster's leader election (Curator's leader latch). A node is leader
 * only while it holds the latch <em>and</em> its ZooKeeper connection is neither SUSPENDED nor
 * LOST: a node that cannot reach ZooKeeper cannot know that no one else has taken over.
 *
 * <p>Callbacks only flip state and hand the news to a thread this object owns; the listener is
 * told {@code true} when the node becomes leader and {@code false} when it stops being one.
 */
public final class Leadership implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    /** Told of each change of this node's leadership, on the leadership's own thread. */
    public interface Listener {
        void leadershipChanged(boolean leader);
    }

    private enum State { LATENT, STARTED, CLOSED }

    private final CuratorFramework client;
    private final LeaderLatch latch;
    private final String id;
    private final Listener listener;
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform()
            .name("leadership").daemon().unstarted(r));
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private volatile boolean connected = true;
    private volatile boolean told;
    private final ConnectionStateListener connection = (c, newState) -> {
        connected = newState.isConnected();
        if (newState == ConnectionState.SUSPENDED || newState == ConnectionState.LOST) {
            log.warn("ZooKeeper connection {}: not leader until it is back", newState);
        }
        post(this::tell);
    };

    public Leadership(CuratorFramework client, ClusterPaths paths, String id, Listener listener) {
        this.client = client;
        this.id = id;
        this.listener = listener;
        this.latch = new LeaderLatch(client, paths.leader(), id);
    }

    public void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("leadership already started");
        }
        client.getConnectionStateListenable().addListener(connection);
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                post(Leadership.this::tell);
            }

            @Override
            public void notLeader() {
                post(Leadership.this::tell);
            }
        }, events);
        latch.start();
    }

    /** Whether this node leads the cluster now: it holds the latch and its ZooKeeper connection is up. */
    public boolean isLeader() {
        return state.get() == State.STARTED && connected && latch.hasLeadership();
    }

    public String id() {
        return id;
    }

    /** The id of the node that holds the latch, as ZooKeeper says now; empty when none does (or it cannot tell). */
    public Optional<String> leaderId() {
        try {
            Participant leader = latch.getLeader();
            return leader.isLeader() ? Optional.of(leader.getId()) : Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** Runs {@code task} on the events thread; dropped once the leadership is closed. */
    private void post(Runnable task) {
        try {
            events.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("leadership closed: a late event is dropped");
        }
    }

    /** Tells the listener when what it was last told is no longer true (runs on the events thread). */
    private void tell() {
        boolean now = isLeader();
        if (now != told) {
            told = now;
            log.info("node {} {} the cluster's leader", id, now ? "is now" : "is no longer");
            listener.leadershipChanged(now);
        }
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            events.shutdownNow();
            return;
        }
        client.getConnectionStateListenable().removeListener(connection);
        try {
            latch.close(LeaderLatch.CloseMode.SILENT);
        } catch (IOException e) {
            log.debug("closing the leader latch: {}", e.getMessage());
        }
        post(this::tell);
        events.shutdown();
    }
}
