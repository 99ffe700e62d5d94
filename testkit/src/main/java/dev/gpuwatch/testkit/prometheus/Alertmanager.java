package dev.gpuwatch.testkit.prometheus;

import dev.gpuwatch.testkit.process.ChildProcess;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A real Alertmanager on loopback, one instance without gossip, ready when {@link #start} returns. */
public final class Alertmanager implements AutoCloseable {

    private final ChildProcess process;
    private final int port;

    private Alertmanager(ChildProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** The installed Alertmanager, under Debian's name ({@code prometheus-alertmanager}) or upstream's. */
    public static Optional<Path> binary() {
        return Programs.find("prometheus-alertmanager", "alertmanager");
    }

    /**
     * Starts Alertmanager with {@code options} and waits until it answers {@code /-/ready}.
     *
     * @throws IllegalStateException when it is not installed, or with the end of its log when it exits or is not
     *     ready in time
     */
    public static Alertmanager start(ServerOptions options) {
        // one instance: no gossip port to collide with anything
        return start(options, List.of("--cluster.listen-address="));
    }

    /** As {@link #start(ServerOptions)}, with the gossip flags of one peer of an {@link AlertmanagerCluster}. */
    static Alertmanager start(ServerOptions options, List<String> clusterFlags) {
        Path binary = options.binary().orElseGet(() -> Programs.require("prometheus-alertmanager", "alertmanager"));
        Server.Started started = Server.start("alertmanager", binary, options, port -> {
            List<String> args = new java.util.ArrayList<>(List.of(
                    "--config.file=" + options.configFile(),
                    "--storage.path=" + options.dataDir(),
                    "--web.listen-address=127.0.0.1:" + port));
            args.addAll(clusterFlags);
            return args;
        });
        return new Alertmanager(started.process(), started.port());
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** The process, for its pid, whether it still runs, and its log. */
    public ChildProcess process() {
        return process;
    }

    /** Stops it (SIGTERM, then SIGKILL after a grace period). */
    @Override
    public void close() {
        process.stop();
    }
}
