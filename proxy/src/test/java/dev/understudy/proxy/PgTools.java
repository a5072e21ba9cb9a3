package dev.understudy.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the PostgreSQL client programs of this machine (psql, pgbench). They are required: .ci/run
 * installs them; a missing one fails the test with the package to install.
 */
public final class PgTools {

    private PgTools() {}

    /** What a program printed and how it ended. */
    public record Result(int exitCode, String output) {}

    /** The newest /usr/lib/postgresql/N/bin/name, else name on PATH. */
    public static Path find(String name) throws IOException {
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                var found = versions.map(v -> v.resolve("bin").resolve(name)).filter(Files::isExecutable)
                        .max(Comparator.comparingInt(p -> Integer.parseInt(p.getParent().getParent().getFileName().toString().replaceAll("\\D", "0"))));
                if (found.isPresent()) {
                    return found.get();
                }
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(name + " not found: install Debian's postgresql-15 (pgbench) and"
                + " postgresql-client-15 (psql), as .ci/run does");
    }

    /** Runs a program to its end (bounded by {@code timeout}, scaled) with PGPASSWORD set. */
    public static Result run(List<String> command, String password, Duration timeout) throws Exception {
        return run(command, password, timeout, null);
    }

    /** As {@link #run(List, String, Duration)}, with {@code pathFirst} (if not null) first on PATH. */
    public static Result run(List<String> command, String password, Duration timeout, Path pathFirst) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        if (pathFirst != null) {
            env.put("PATH", pathFirst + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
        }
        env.put("PGPASSWORD", password);
        env.remove("PGSERVICE");
        Process p = pb.start();
        p.getOutputStream().close();
        var output = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                output.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                output.complete("(output lost: " + e + ")");
            }
        });
        if (!p.waitFor(Await.scaled(timeout).toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command.get(0) + " did not finish in " + timeout);
        }
        return new Result(p.exitValue(), output.get(10, TimeUnit.SECONDS));
    }
}
