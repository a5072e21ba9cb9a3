package dev.understudy.proxy.session;

import dev.understudy.proxy.admin.AdminService;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.config.AuthMethod;
import dev.understudy.proxy.routing.ClassificationCache;
import dev.understudy.proxy.routing.Consistency;
import dev.understudy.proxy.routing.FunctionCatalog;
import dev.understudy.proxy.routing.ReplicaSelector;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLSocketFactory;

/**
 * What every session of one listener shares.
 *
 * @param tls the server-side TLS factory, or null when TLS is off (SSLRequest answered 'N')
 * @param topology the master and replicas now, with the proxy's credentials (read again for each
 *     session, each replica connection and each unit bound for the master)
 * @param writeHold how long a unit bound for the master waits while no node takes writes
 * @param replicaReads whether reads may leave the master at all ({@code routing.replica_reads})
 * @param userConsistency the consistency of users that have their own; others get {@code defaultConsistency}
 * @param commits what the commit of a transaction that wrote waits for before the client hears of it
 * @param adminDatabase the database name that opens the admin console instead of a database
 * @param admin what runs the admin console's statements
 */
public record SessionEnvironment(
        Credentials credentials,
        AuthMethod authMethod,
        int maxMessageBytes,
        Duration authenticationTimeout,
        SSLSocketFactory tls,
        SessionRegistry registry,
        CurrentTopology topology,
        Duration writeHold,
        boolean replicaReads,
        ReplicaSelector selector,
        ClassificationCache classifier,
        FunctionCatalog functions,
        Consistency defaultConsistency,
        Map<String, Consistency> userConsistency,
        CommitGate commits,
        String adminDatabase,
        AdminService admin) {

    /** The consistency a session of {@code user} starts with. */
    public Consistency consistencyOf(String user) {
        return userConsistency.getOrDefault(user, defaultConsistency);
    }
}
