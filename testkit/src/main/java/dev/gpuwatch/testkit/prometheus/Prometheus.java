package dev.gpuwatch.testkit.prometheus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.testkit.process.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** A real Prometheus on loopback, started as the demo and the tests need it, ready when {@link #start} returns. */
public final class Prometheus implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final ChildProcess process;
    private final int port;

    private Prometheus(ChildProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** The installed {@code prometheus}, if any. */
    public static Optional<Path> binary() {
        return Programs.find("prometheus");
    }

    /**
     * Starts Prometheus with {@code options} and waits until it answers {@code /-/ready}.
     *
     * @throws IllegalStateException when it is not installed, or with the end of its log when it exits or is not
     *     ready in time
     */
    public static Prometheus start(ServerOptions options) {
        Path binary = options.binary().orElseGet(() -> Programs.require("prometheus"));
        Server.Started started = Server.start("prometheus", binary, options, port -> List.of(
                "--config.file=" + options.configFile(),
                "--storage.tsdb.path=" + options.dataDir(),
                "--web.listen-address=127.0.0.1:" + port));
        return new Prometheus(started.process(), started.port());
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

    /** GET /api/v1/{path}?{params}: the whole JSON answer, whatever its status. */
    public JsonNode api(String path, Map<String, String> params) {
        String query = params.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        URI uri = URI.create(url() + "/api/v1/" + path + (query.isEmpty() ? "" : "?" + query));
        HttpResponse<String> response;
        try {
            response = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException("/api/v1/" + path + " answered " + response.statusCode() + ": "
                    + response.body(), e);
        }
    }

    /** An instant query now: {"status": "success"|"error", "data": {"resultType", "result"}, "error"}. */
    public JsonNode query(String expr) {
        return api("query", Map.of("query", expr));
    }

    /** Stops it (SIGTERM, then SIGKILL after a grace period). */
    @Override
    public void close() {
        process.stop();
    }
}
