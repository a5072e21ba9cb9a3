package dev.understudy.election;

/**
 * Where a cluster keeps its coordination state in ZooKeeper, under {@code /understudy/<cluster>}:
 * {@code leader} (the leader latch), {@code topology} (epoch, master, replicas; changed only by
 * compare-and-set), {@code proxies/<id>} (ephemeral: each live proxy and where it listens) and
 * {@code health/<proxy>/<node>} (each proxy's latest view of each database node) and
 * {@code requests/req-<n>} (what nodes ask the leader to do, with its answers) and
 * {@code nodes/<name>} (where each database node added at runtime listens), {@code reload} (bumped
 * to make every node read its configuration again) and {@code reloaded/<proxy>} (ephemeral: what
 * each node's latest reload did).
 */
public record ClusterPaths(String cluster) {

    public ClusterPaths {
        if (!cluster.matches("[a-z0-9_-]+")) {
            throw new IllegalArgumentException("a cluster name is [a-z0-9_-]+, got " + cluster);
        }
    }

    public String root() {
        return "/understudy/" + cluster;
    }

    public String leader() {
        return root() + "/leader";
    }

    public String topology() {
        return root() + "/topology";
    }

    public String proxies() {
        return root() + "/proxies";
    }

    public String proxy(String id) {
        return proxies() + "/" + id;
    }

    public String healthRoot() {
        return root() + "/health";
    }

    public String health(String proxy, String node) {
        return healthRoot() + "/" + proxy + "/" + node;
    }

    public String requests() {
        return root() + "/requests";
    }

    public String nodes() {
        return root() + "/nodes";
    }

    public String node(String name) {
        return nodes() + "/" + name;
    }

    public String reload() {
        return root() + "/reload";
    }

    public String reloaded(String proxy) {
        return root() + "/reloaded/" + proxy;
    }
}
