package dev.understudy.driver.discovery;

import dev.understudy.driver.HostPort;
import java.util.List;
import java.util.Optional;

/** Where a connection can go: the cluster's proxies and, when known, its topology. */
public interface Endpoints {

    /** The proxies as known now, in their listed order (for ZooKeeper: by proxy id); may be empty. */
    List<HostPort> proxies();

    /** The topology as known now; empty when it is not followed (a list of proxies) or not read yet. */
    Optional<Topology> topology();

    /**
     * Waits until what this knows may have changed, or {@code nanos} passed, whichever is first
     * (a list of proxies never changes: it just waits).
     */
    void awaitChange(long nanos) throws InterruptedException;

    /** What this is, for messages: the listed proxies, or the ZooKeeper servers and the cluster. */
    String describe();
}
