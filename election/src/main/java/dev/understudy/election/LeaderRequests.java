package dev.understudy.election;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * What any node asks the cluster's leader to do (an admin statement that changes the cluster,
 * typed on whichever node the operator reached): a persistent sequential znode
 * {@code requests/req-<n>} holding the command; the leader carries requests out in order and
 * writes each answer into its znode; the asking node waits for the answer, then deletes the
 * znode. A request whose asker went away is deleted by the leader a while after it answered it.
 *
 * <p>A leader that dies while carrying a request out leaves it unanswered, and the next leader
 * carries it out again: commands must be safe to run twice.
 */
public final class LeaderRequests {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration POLL = Duration.ofMillis(20);
    /** How long an answered request is kept for an asker that did not collect it. */
    private static final Duration KEEP_ANSWERED = Duration.ofMinutes(1);

    /**
     * A command for the leader.
     *
     * @param command its name ({@code set_node}, ...)
     * @param args its arguments
     * @param from the asking node's id
     */
    public record Command(String command, Map<String, String> args, String from) {}

    /**
     * The leader's answer: {@code ok} with the command tag in {@code message} and, for a command
     * that reports something, one row of values; or an error with its SQLSTATE, message and hint
     * (null when none).
     */
    public record Answer(boolean ok, String message, String sqlState, String hint, List<String> row) {
        public static Answer done(String tag) {
            return new Answer(true, tag, null, null, null);
        }

        public static Answer done(String tag, List<String> row) {
            return new Answer(true, tag, null, null, row);
        }

        public static Answer failed(String sqlState, String message, String hint) {
            return new Answer(false, message, sqlState, hint, null);
        }
    }

    /** A request as the leader reads it: its znode and command. */
    public record Request(String path, Command command) {}

    /** The znode's content: the command, then the answer once there is one. */
    record Stored(Command command, Answer answer) {}

    private LeaderRequests() {}

    /**
     * Hands {@code command} to the leader and waits at most {@code timeout} for its answer.
     *
     * @throws TimeoutException when no answer came in time: the leader may still carry it out
     */
    public static Answer ask(CuratorFramework client, ClusterPaths paths, Command command, Duration timeout)
            throws Exception {
        String path = client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                .forPath(paths.requests() + "/req-", JSON.writeValueAsBytes(new Stored(command, null)));
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                Stored stored = JSON.readValue(client.getData().forPath(path), Stored.class);
                if (stored.answer() != null) {
                    return stored.answer();
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("the leader did not answer within " + timeout.toMillis() + " ms");
                }
                Thread.sleep(POLL);
            }
        } finally {
            try {
                client.delete().forPath(path);
            } catch (KeeperException.NoNodeException gone) {
                // deleted already
            }
        }
    }

    /** The requests not answered yet, oldest first; answered ones left for too long are deleted on the way. */
    public static List<Request> pending(CuratorFramework client, ClusterPaths paths) throws Exception {
        List<String> children;
        try {
            children = new ArrayList<>(client.getChildren().forPath(paths.requests()));
        } catch (KeeperException.NoNodeException none) {
            return List.of();
        }
        children.sort(null); // sequence numbers are zero-padded: name order is arrival order
        List<Request> out = new ArrayList<>();
        for (String child : children) {
            String path = paths.requests() + "/" + child;
            Stat stat = new Stat();
            Stored stored;
            try {
                stored = JSON.readValue(client.getData().storingStatIn(stat).forPath(path), Stored.class);
            } catch (KeeperException.NoNodeException gone) {
                continue;
            } catch (IOException unreadable) {
                client.delete().quietly().forPath(path);
                continue;
            }
            if (stored.answer() == null) {
                out.add(new Request(path, stored.command()));
            } else if (System.currentTimeMillis() - stat.getMtime() > KEEP_ANSWERED.toMillis()) {
                client.delete().quietly().forPath(path);
            }
        }
        return out;
    }

    /** Writes the leader's answer to {@code request}; nothing happens when its asker gave up and deleted it. */
    public static void answer(CuratorFramework client, Request request, Answer answer) throws Exception {
        try {
            client.setData().forPath(request.path(), JSON.writeValueAsBytes(new Stored(request.command(), answer)));
        } catch (KeeperException.NoNodeException gone) {
            // the asker timed out and left
        }
    }
}
