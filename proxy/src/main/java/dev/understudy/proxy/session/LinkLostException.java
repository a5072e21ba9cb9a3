package dev.understudy.proxy.session;

import java.io.IOException;

/**
 * A backend connection ended with units unanswered that can be sent elsewhere (autocommit reads
 * on a replica, none of whose answer reached the client). The router sends them again.
 */
final class LinkLostException extends IOException {

    private final transient BackendLink link;

    LinkLostException(BackendLink link) {
        super("connection to " + link.node().name() + " closed");
        this.link = link;
    }

    BackendLink link() {
        return link;
    }
}
