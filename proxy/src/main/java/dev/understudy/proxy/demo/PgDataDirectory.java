package dev.understudy.proxy.demo;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A demo node's data directory on disk, and the postmaster process its postmaster.pid names. */
final class PgDataDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(PgDataDirectory.class);
    private static final Duration STOP_WAIT = Duration.ofSeconds(15);
    private static final long POLL_INTERVAL_MS = 20;

    private PgDataDirectory() {
    }

    /** postmaster.pid: line 1 the pid, line 4 the port, line 8 the status. */
    static ProcessHandle readPostmaster(Path dataDir, int expectedPort) throws IOException {
        List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
        if (lines.size() < 8 || !lines.get(3).strip().equals(Integer.toString(expectedPort))
                || !lines.get(7).strip().equals("ready")) {
            throw new IOException("postmaster.pid in " + dataDir + " does not describe a ready server on port "
                    + expectedPort + ": " + lines);
        }
        long pid = Long.parseLong(lines.get(0).strip());
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .orElseThrow(() -> new IOException("postmaster " + pid + " of " + dataDir + " is not running"));
    }

    /** Wipes {@code dir} for initdb; refuses when it is neither empty nor a data directory. */
    static void prepare(Path dir) throws IOException {
        if (Files.isDirectory(dir) && !isEmpty(dir)) {
            if (!Files.exists(dir.resolve("PG_VERSION"))) {
                throw new IOException("refusing to clean " + dir + ": it is neither empty nor a PostgreSQL data directory");
            }
            stopLeftoverPostmaster(dir);
            deleteContents(dir);
        }
        Files.createDirectories(dir);
    }

    /** A postmaster left behind by a JVM that died without closing its node. */
    static void stopLeftoverPostmaster(Path dir) throws IOException {
        Path pidFile = dir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        Optional<ProcessHandle> leftover = lines.isEmpty() || !lines.get(0).strip().matches("[0-9]{1,18}")
                ? Optional.empty()
                : ProcessHandle.of(Long.parseLong(lines.get(0).strip()))
                        .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false));
        if (leftover.isPresent()) {
            LOG.warn("demo: killing leftover postmaster {} of {}", leftover.get().pid(), dir);
            leftover.get().destroyForcibly();
            awaitExit(leftover.get());
        }
    }

    /** Waits until the process is gone (reaped, not a zombie), killing it if it outlives {@link #STOP_WAIT}. */
    static void awaitExit(ProcessHandle process) {
        if (awaitGone(process) || Thread.currentThread().isInterrupted()) {
            return;
        }
        LOG.warn("demo: postmaster {} still running {} after stop; killing it", process.pid(), STOP_WAIT);
        process.destroyForcibly();
        if (!awaitGone(process) && !Thread.currentThread().isInterrupted()) {
            LOG.error("demo: postmaster {} survived SIGKILL for {}", process.pid(), STOP_WAIT);
        }
    }

    private static boolean awaitGone(ProcessHandle process) {
        long deadline = System.nanoTime() + STOP_WAIT.toNanos();
        while (process.isAlive()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(POLL_INTERVAL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException failure) throws IOException {
                if (failure != null) {
                    throw failure;
                }
                if (!directory.equals(dir)) {
                    Files.delete(directory);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
