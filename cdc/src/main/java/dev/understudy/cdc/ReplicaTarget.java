package dev.understudy.cdc;

/** A replica the change stream is applied to, as its applier connects to it. */
public record ReplicaTarget(String name, String jdbcUrl, String user, String password) {

    @Override
    public String toString() {
        return name + " " + jdbcUrl; // never the password
    }
}
