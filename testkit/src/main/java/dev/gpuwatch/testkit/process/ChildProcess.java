package dev.gpuwatch.testkit.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A process the tests or the demo started (one of our main classes in a JVM of its own, Prometheus,
 * Alertmanager, promtool): stdout and stderr go together to a log file, so a failure can show what the process
 * said; readiness is a line in that log or an HTTP answer; {@link #stop} always ends it, {@link #kill} ends it
 * without a goodbye.
 *
 * <p>Every failure to start, to become ready or to finish in time is an unchecked exception whose message holds
 * the end of the log: callers in tests let it fail the test, the demo turns it into its own error.
 */
public final class ChildProcess implements AutoCloseable {

    /** How a command that ran to completion ended: its exit code and its output (stdout and stderr together). */
    public record Finished(int exitCode, String output) {}

    private static final Duration GRACE = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    private final String name;
    private final Process process;
    private final Path log;

    private ChildProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code command} with stdout and stderr written to {@code log} (created with its directory, emptied
     * first, so whatever it holds was said by this process) and stdin empty.
     *
     * @throws UncheckedIOException when the program cannot be started
     */
    public static ChildProcess start(Command command, Path log) {
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            return new ChildProcess(command.name(), builder(command)
                    .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.name() + " (" + command.line().getFirst() + "): "
                    + e.getMessage(), e);
        }
    }

    /** Runs {@code command} to completion with nothing on stdin. */
    public static Finished run(Command command, Duration timeout) {
        return run(command, "", timeout);
    }

    /**
     * Runs {@code command} to completion with {@code stdin} as its input (e.g. exposition text for
     * {@code promtool check metrics}).
     *
     * @throws IllegalStateException with what it printed when it has not finished within {@code timeout}; it is
     *     killed then
     */
    public static Finished run(Command command, String stdin, Duration timeout) {
        // files rather than pipes: nothing to drain while waiting, so the timeout holds whatever it prints
        Path input;
        Path output;
        try {
            String prefix = "gpuwatch-" + command.name().replaceAll("[^A-Za-z0-9.-]", "_");
            input = Files.writeString(Files.createTempFile(prefix, ".in"), stdin, StandardCharsets.UTF_8);
            output = Files.createTempFile(prefix, ".out");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.name() + ": no temporary file: " + e.getMessage(), e);
        }
        try {
            Process p = builder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(input.toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.to(output.toFile()))
                    .start();
            ChildProcess child = new ChildProcess(command.name(), p, output);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                child.kill();
                throw new IllegalStateException(String.join(" ", command.line()) + " did not finish within "
                        + text(timeout) + ":\n" + child.output());
            }
            return new Finished(p.exitValue(), child.output());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.name() + " (" + command.line().getFirst() + "): "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.line(), e);
        } finally {
            deleteQuietly(input);
            deleteQuietly(output);
        }
    }

    private static ProcessBuilder builder(Command command) {
        ProcessBuilder builder = new ProcessBuilder(command.line())
                .directory(command.directory().toFile())
                .redirectErrorStream(true);
        builder.environment().putAll(command.environment());
        return builder;
    }

    public String name() {
        return name;
    }

    /** The process id, e.g. for the exporter's {@code --gpu.simulated.model-server-pid}. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** Everything it printed so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    /** The last {@code lines} lines of its output, for error messages and failure dumps. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Waits until its output holds a match of {@code pattern} and returns the match's first group, or the whole
     * match when the pattern has no group (e.g. the port the process printed after binding port 0).
     *
     * @throws IllegalStateException with the end of the log when it exits first or {@code timeout} passes
     */
    public String await(Pattern pattern, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(output());
            if (m.find()) {
                return m.groupCount() > 0 ? m.group(1) : m.group();
            }
            checkRunning("printing " + pattern, "did not print " + pattern, deadline, timeout);
            sleep(POLL);
        }
    }

    /**
     * Waits until GET {@code url} answers 2xx (e.g. Prometheus' {@code /-/ready}).
     *
     * @throws IllegalStateException with the end of the log when it exits first or {@code timeout} passes
     */
    public void awaitHttp(URI url, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).GET().build();
        while (true) {
            try {
                if (HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() / 100 == 2) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name, e);
            }
            checkRunning("answering " + url, "did not answer " + url + " with 2xx", deadline, timeout);
            sleep(POLL);
        }
    }

    private void checkRunning(String before, String didNot, long deadline, Duration timeout) {
        if (!process.isAlive()) {
            throw new IllegalStateException(name + " exited with " + process.exitValue() + " before " + before
                    + "; its log " + log + ":\n" + tail(30));
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException(name + " " + didNot + " within " + text(timeout) + "; its log " + log
                    + ":\n" + tail(30));
        }
    }

    private static String text(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /** SIGTERM to it and its descendants, then SIGKILL after a grace period: a child never outlives its user. */
    public void stop() {
        if (!process.isAlive()) {
            return;
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** SIGKILL (kill -9): no shutdown hook, no flush, no goodbye; returns once it is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #stop}. */
    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // a temp file left behind loses nothing
        }
    }
}
