package dev.gpuwatch.receiver;

import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/** {@link ReceiverMain} in a child JVM, so a test can kill it with SIGKILL and start it again. */
final class ChildReceiver implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+) ");

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final ChildProcess process;
    private final int port;

    private ChildReceiver(ChildProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts it on a free port, its output in {@code output}, and returns once it listens. */
    static ChildReceiver start(Path config, Path db, Path output) {
        return start(List.of(), config, db, output);
    }

    /** As {@link #start(Path, Path, Path)}, the JVM started with {@code jvmOptions} (a bounded heap). */
    static ChildReceiver start(List<String> jvmOptions, Path config, Path db, Path output) {
        ChildProcess process = ChildProcess.start(Command.java("receiver", jvmOptions, ReceiverMain.class.getName(),
                List.of("--web.listen-address=127.0.0.1:0", "--config.file=" + config, "--storage.path=" + db)), output);
        try {
            return new ChildReceiver(process, Integer.parseInt(process.await(LISTENING, Duration.ofSeconds(60))));
        } catch (RuntimeException e) {
            process.kill();
            throw e;
        }
    }

    int port() {
        return port;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Everything it has written to stdout and stderr so far. */
    String output() {
        return process.output();
    }

    /**
     * The sum of {@code metric}'s samples on this replica's {@code /metrics} whose lines contain every one of
     * {@code labels} (e.g. {@code integration="slack"}).
     */
    long metric(String metric, String... labels) {
        try {
            String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            return Math.round(text.lines()
                    .filter(l -> l.startsWith(metric + "{") && Arrays.stream(labels).allMatch(l::contains))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                    .sum());
        } catch (IOException e) {
            throw new UncheckedIOException("no metrics from the replica on port " + port, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGKILL: no shutdown hook, no flush, no goodbye. */
    void kill() {
        process.kill();
    }

    @Override
    public void close() {
        process.stop();
    }
}
