package dev.understudy.proxy.session;

import dev.understudy.proxy.config.AuthMethod;
import dev.understudy.proxy.routing.Consistency;
import dev.understudy.proxy.routing.ReplicaSelector;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What sessions read from the configuration that a running node may change ({@code RELOAD
 * CONFIG}): replaced as a whole, read again by each session when it logs in and, for routing, at
 * each unit. A session that is in the middle of something finishes it under the settings it read.
 *
 * @param credentials the proxy's own users
 * @param authMethod how clients prove who they are
 * @param writeHold how long a unit bound for the master waits while no node takes writes
 * @param replicaReads whether reads may leave the master at all ({@code routing.replica_reads})
 * @param selector how a replica is chosen for a read
 * @param defaultConsistency the consistency of a session whose user has none of its own
 * @param userConsistency the consistency of users that have their own
 */
public record SessionSettings(
        Credentials credentials,
        AuthMethod authMethod,
        Duration writeHold,
        boolean replicaReads,
        ReplicaSelector selector,
        Consistency defaultConsistency,
        Map<String, Consistency> userConsistency) {

    public SessionSettings {
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(authMethod, "authMethod");
        Objects.requireNonNull(writeHold, "writeHold");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(defaultConsistency, "defaultConsistency");
        userConsistency = Map.copyOf(userConsistency);
    }
}
