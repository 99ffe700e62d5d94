package dev.gpuwatch.receiver;

import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** {@link ReceiverMain} in a child JVM, so a test can kill it with SIGKILL and start it again. */
final class ChildReceiver implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+) ");

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

    /** SIGKILL: no shutdown hook, no flush, no goodbye. */
    void kill() {
        process.kill();
    }

    @Override
    public void close() {
        process.stop();
    }
}
