package dev.understudy.proxy.session;

import dev.understudy.proxy.admin.AdminService;
import dev.understudy.proxy.backend.BackendPool;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.config.AuthMethod;
import dev.understudy.proxy.routing.ClassificationCache;
import dev.understudy.proxy.routing.Consistency;
import dev.understudy.proxy.routing.FunctionCatalog;
import dev.understudy.proxy.routing.ReplicaSelector;
import java.time.Duration;
import java.util.function.Supplier;
import javax.net.ssl.SSLSocketFactory;

/**
 * What every session of one listener shares.
 *
 * @param settings what may change while the node runs (users, routing), read when needed
 * @param tls the server-side TLS factory, or null when TLS is off (SSLRequest answered 'N')
 * @param topology the master and replicas now, with the proxy's credentials (read again for each
 *     session, each replica connection and each unit bound for the master)
 * @param commits what the commit of a transaction that wrote waits for before the client hears of it
 * @param adminDatabase the database name that opens the admin console instead of a database
 * @param admin what runs the admin console's statements
 * @param pool idle master connections kept for later sessions that relay to the master alone
 */
public record SessionEnvironment(
        Supplier<SessionSettings> settings,
        int maxMessageBytes,
        Duration authenticationTimeout,
        SSLSocketFactory tls,
        SessionRegistry registry,
        CurrentTopology topology,
        ClassificationCache classifier,
        FunctionCatalog functions,
        CommitGate commits,
        String adminDatabase,
        AdminService admin,
        BackendPool pool) {

    public Credentials credentials() {
        return settings.get().credentials();
    }

    public AuthMethod authMethod() {
        return settings.get().authMethod();
    }

    /** How long a unit bound for the master waits while no node takes writes. */
    public Duration writeHold() {
        return settings.get().writeHold();
    }

    /** Whether reads may leave the master at all ({@code routing.replica_reads}). */
    public boolean replicaReads() {
        return settings.get().replicaReads();
    }

    public ReplicaSelector selector() {
        return settings.get().selector();
    }

    public Consistency defaultConsistency() {
        return settings.get().defaultConsistency();
    }

    /** The consistency a session of {@code user} starts with. */
    public Consistency consistencyOf(String user) {
        SessionSettings s = settings.get();
        return s.userConsistency().getOrDefault(user, s.defaultConsistency());
    }
}
