package dev.understudy.proxy.session;

import java.time.Instant;

/**
 * What the admin console shows of one client session.
 *
 * @param id the session's id in this node's logs
 * @param client the client's address and port
 * @param state where it is in its life (startup, authenticating, connecting, active, closed)
 * @param transaction the transaction status of its last ReadyForQuery: 'I' idle, 'T' in a
 *     transaction, 'E' in a failed one
 * @param node the database node running its latest request, null before it has one
 */
public record SessionInfo(String id, String user, String database, String client, String state, char transaction,
                          String node, Instant connectedAt) {}
