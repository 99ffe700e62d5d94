package dev.gpuwatch.testkit.prometheus;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How to start a {@link Prometheus} or an {@link Alertmanager} on loopback.
 *
 * @param configFile its {@code --config.file}; it runs in this file's directory
 * @param dataDir its storage ({@code --storage.tsdb.path} or {@code --storage.path})
 * @param log where its output goes
 * @param port a fixed port, or empty for a free one (neither program can bind port 0 and say which port it got,
 *     so a free port is taken and, should another process take it first, another one)
 * @param binary the program, or empty for the one on the PATH or in /usr/bin
 * @param flags more flags, e.g. {@code --web.external-url=...}
 * @param readyTimeout how long it may take to answer {@code /-/ready}
 */
public record ServerOptions(Path configFile, Path dataDir, Path log, OptionalInt port, Optional<Path> binary,
        List<String> flags, Duration readyTimeout) {

    public ServerOptions {
        flags = List.copyOf(flags);
    }

    /** On a free port, the installed program, no more flags, 60 s to be ready. */
    public static ServerOptions of(Path configFile, Path dataDir, Path log) {
        return new ServerOptions(configFile, dataDir, log, OptionalInt.empty(), Optional.empty(), List.of(),
                Duration.ofSeconds(60));
    }

    public ServerOptions withPort(int port) {
        return new ServerOptions(configFile, dataDir, log, OptionalInt.of(port), binary, flags, readyTimeout);
    }

    public ServerOptions withBinary(Path binary) {
        return new ServerOptions(configFile, dataDir, log, port, Optional.of(binary), flags, readyTimeout);
    }

    public ServerOptions withFlags(List<String> flags) {
        return new ServerOptions(configFile, dataDir, log, port, binary, flags, readyTimeout);
    }
}
