package dev.understudy.cdc;

import java.time.Duration;
import java.util.List;

/**
 * A capture in a JVM of its own, for the test that kills it with SIGKILL: arguments are the
 * master's port and the replicas' ports (all on 127.0.0.1, database and role postgres).
 */
public final class CaptureProcess {

    private CaptureProcess() {}

    public static void main(String[] args) throws Exception {
        int masterPort = Integer.parseInt(args[0]);
        List<ReplicaTarget> replicas = new java.util.ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            replicas.add(new ReplicaTarget("r" + i, "jdbc:postgresql://127.0.0.1:" + args[i] + "/postgres", "postgres", "postgres"));
        }
        Capture capture = new Capture(new CdcConfig("127.0.0.1", masterPort, "postgres", "postgres", "postgres",
                "understudy", "understudy", Duration.ofMillis(100), 1L << 30, replicas));
        capture.start();
        System.out.println("capture started");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
