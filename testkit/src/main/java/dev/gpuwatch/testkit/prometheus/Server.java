package dev.gpuwatch.testkit.prometheus;

import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** The start both servers share: a loopback port, the child process, and {@code /-/ready}. */
final class Server {

    /** A server that answered {@code /-/ready} on {@code port}. */
    record Started(ChildProcess process, int port) {}

    /** Tries of a free port: a second or third one only when another process took the first in between. */
    private static final int FREE_PORT_TRIES = 3;

    private Server() {}

    /**
     * Starts {@code binary} with {@code args(port)} and the options' flags, and waits until it is ready.
     *
     * @throws IllegalStateException with the end of its log when it exits or is not ready in time
     */
    static Started start(String name, Path binary, ServerOptions options, IntFunction<List<String>> args) {
        int tries = options.port().isPresent() ? 1 : FREE_PORT_TRIES;
        Path directory = options.configFile().toAbsolutePath().getParent();
        for (int attempt = 1; ; attempt++) {
            int port = options.port().orElseGet(Server::freePort);
            List<String> line = new ArrayList<>();
            line.add(binary.toString());
            line.addAll(args.apply(port));
            line.addAll(options.flags());
            ChildProcess process = ChildProcess.start(Command.of(name, line).in(directory), options.log());
            try {
                process.awaitHttp(URI.create("http://127.0.0.1:" + port + "/-/ready"), options.readyTimeout());
                return new Started(process, port);
            } catch (IllegalStateException e) {
                // only an exit can be a port taken in between; one that is not ready in time is not retried
                boolean exited = !process.isAlive();
                process.stop();
                if (!exited || attempt >= tries) {
                    throw e;
                }
            }
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
