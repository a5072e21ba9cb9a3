package dev.understudy.proxy;

import dev.understudy.proxy.config.ConfigException;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.DemoCluster;
import dev.understudy.proxy.demo.WorkDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar understudy.jar} starts the demo cluster on this machine;
 * {@code java -jar understudy.jar --config understudy.yaml} starts a node against real servers.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(usage());
            return;
        }
        if (args.length == 0) {
            runDemo();
        } else if (args.length == 2 && args[0].equals("--config")) {
            runConfigured(Path.of(args[1]));
        } else {
            System.err.println(usage());
            System.exit(2);
        }
    }

    private static String usage() {
        return """
                usage: java -jar understudy.jar                          start a demo cluster on this machine
                       java -jar understudy.jar --config understudy.yaml start a node against your servers
                configuration keys: docs/configuration.md""";
    }

    private static void runConfigured(Path file) throws Exception {
        UnderstudyNode node;
        try {
            node = UnderstudyNode.start(ProxyConfig.load(file), file);
        } catch (ConfigException e) {
            System.err.println("understudy: bad configuration in " + file + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        runUntilStopped(node);
    }

    private static void runDemo() throws Exception {
        Path work = Files.createTempDirectory("understudy-demo-");
        AutoCloseable deleteWork = () -> WorkDirectory.delete(work);
        DemoCluster cluster;
        try {
            cluster = DemoCluster.start(work);
        } catch (Exception e) {
            closeEach(deleteWork);
            throw e;
        }
        UnderstudyNode node;
        try {
            node = UnderstudyNode.start(DemoConfig.of(cluster));
        } catch (Exception e) {
            closeEach(cluster, deleteWork);
            throw e;
        }
        System.out.println(DemoConfig.banner(node.pgPort(), cluster.master().postmasterPid()));
        runUntilStopped(node, cluster, deleteWork);
    }

    /** Blocks until SIGTERM or Ctrl-C, then closes {@code resources} in order. */
    private static void runUntilStopped(AutoCloseable... resources) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutting down");
            closeEach(resources);
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }

    /** Closes each resource even when one before it fails, so no database process is left behind. */
    private static void closeEach(AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                log.warn("shutdown: {}", e.toString());
            }
        }
    }
}
