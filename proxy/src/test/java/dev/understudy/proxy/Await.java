package dev.understudy.proxy;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The one way tests wait: poll a condition until it holds or a deadline passes. Deadlines are
 * generous and scaled by the system property {@code understudy.test.timeScale} for slow machines;
 * they bound a hang, they never assert a timing.
 */
public final class Await {

    private static final double SCALE = Double.parseDouble(System.getProperty("understudy.test.timeScale", "1"));
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private Await() {}

    public static Duration scaled(Duration d) {
        return Duration.ofMillis((long) (d.toMillis() * SCALE));
    }

    /** Waits until {@code condition} returns true; fails with {@code what} after {@code timeout} (scaled). */
    public static void until(String what, Duration timeout, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + scaled(timeout).toNanos();
        while (true) {
            if (Boolean.TRUE.equals(condition.call())) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + scaled(timeout) + " waiting for: " + what);
            }
            TimeUnit.NANOSECONDS.sleep(POLL_NANOS);
        }
    }
}
