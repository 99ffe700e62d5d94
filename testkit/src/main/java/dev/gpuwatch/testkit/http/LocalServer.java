package dev.gpuwatch.testkit.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The lifecycle shared by the local Slack and PagerDuty servers: a JDK HttpServer on 127.0.0.1 with one virtual
 * thread per request, a queue of programmed failures, and "down" (the listener closed, so connections are
 * refused, then reopened on the same port), and a slow answer. Public because the servers live in packages of
 * their own; what a test calls is {@link #port}, {@link #failNext}, {@link #goDown}, {@link #comeBack},
 * {@link #answerAfter}, {@link #acted} and {@link #close}.
 */
public abstract class LocalServer implements AutoCloseable {

    protected static final ObjectMapper JSON = new ObjectMapper();

    private final Object lock = new Object();
    private final Deque<Failure> failures = new ArrayDeque<>();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Instant> acted = new ArrayList<>();
    private volatile Duration answerDelay = Duration.ZERO;
    private HttpServer server;
    private int port;

    protected LocalServer() {}

    /** Binds {@code port} (0 picks a free one) and starts serving. */
    protected final void bind(int requestedPort) {
        synchronized (lock) {
            try {
                server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), requestedPort), 64);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot bind 127.0.0.1:" + requestedPort, e);
            }
            server.setExecutor(executor);
            server.createContext("/", guarded(this::handle));
            server.start();
            port = server.getAddress().getPort();
        }
    }

    protected abstract void handle(HttpExchange exchange) throws IOException;

    public final int port() {
        return port;
    }

    /** The next {@code count} requests get {@code failure} instead of being processed. */
    public final void failNext(int count, Failure failure) {
        synchronized (lock) {
            for (int i = 0; i < count; i++) {
                failures.addLast(failure);
            }
        }
    }

    /** Closes the listener: connections are refused until {@link #comeBack}. */
    public final void goDown() {
        synchronized (lock) {
            if (server != null) {
                server.stop(0);
                server = null;
            }
        }
    }

    /** Listens again on the same port after {@link #goDown}. */
    public final void comeBack() {
        synchronized (lock) {
            if (server == null) {
                bind(port);
            }
        }
    }

    /**
     * From now on, a request that is taken (a message posted, an event recorded) is acted on at once and answered
     * only {@code delay} later, as a slow target that has already done what it was asked before its caller hears
     * back. Zero (the default) answers at once.
     */
    public final void answerAfter(Duration delay) {
        answerDelay = delay;
    }

    /** When each taken request was acted on, in order: where a caller's at-least-once window starts. */
    public final List<Instant> acted() {
        synchronized (lock) {
            return List.copyOf(acted);
        }
    }

    /** Called by a server once it has acted on a request and before it answers: notes when, then waits. */
    protected final void actedOn() {
        synchronized (lock) {
            acted.add(Instant.now());
        }
        Duration delay = answerDelay;
        if (delay.isPositive()) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    protected final Optional<Failure> nextFailure() {
        synchronized (lock) {
            return Optional.ofNullable(failures.pollFirst());
        }
    }

    @Override
    public void close() {
        goDown();
        executor.close();
    }

    protected static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
        exchange.close();
    }

    protected static String body(HttpExchange exchange) throws IOException {
        return new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static HttpHandler guarded(HttpHandler handler) {
        return exchange -> {
            try {
                handler.handle(exchange);
            } catch (IOException | RuntimeException e) {
                send(exchange, 500, "text/plain; charset=utf-8", "local server error: " + e);
            }
        };
    }
}
