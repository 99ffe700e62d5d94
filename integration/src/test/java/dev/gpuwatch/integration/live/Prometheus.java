package dev.gpuwatch.integration.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The real Prometheus (/usr/bin/prometheus) on loopback, scraping every second into a temp TSDB. */
public final class Prometheus implements AutoCloseable {

    public static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(1);

    private static final String BINARY = "/usr/bin/prometheus";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern READY = Pattern.compile("(Server is ready to receive web requests)");

    private final ChildProcess process;
    private final Path dir;
    private final String address;

    private Prometheus(ChildProcess process, Path dir, String address) {
        this.process = process;
        this.dir = dir;
        this.address = address;
    }

    /** Starts Prometheus scraping {@code jobs} (job name to host:port targets) and loading {@code ruleFiles}. */
    public static Prometheus start(Map<String, List<String>> jobs, List<Path> ruleFiles) {
        Path dir;
        try {
            dir = Files.createTempDirectory("gpuwatch-prometheus-");
            Files.writeString(dir.resolve("prometheus.yml"), config(jobs, ruleFiles));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Prometheus cannot bind port 0 and tell us the port: take a free one, and try again in the rare case
        // that another process took it in between.
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            String address = "127.0.0.1:" + freePort();
            ChildProcess p = ChildProcess.start("prometheus", List.of(BINARY,
                    "--config.file=" + dir.resolve("prometheus.yml"),
                    "--storage.tsdb.path=" + dir.resolve("data-" + attempt),
                    "--web.listen-address=" + address), Map.of(), dir.resolve("prometheus-" + attempt + ".log"));
            try {
                p.await(READY, Duration.ofSeconds(60));
                return new Prometheus(p, dir, address);
            } catch (IllegalStateException e) {
                p.close();
                last = e;
            }
        }
        LiveFleet.deleteRecursively(dir);
        throw last;
    }

    private static String config(Map<String, List<String>> jobs, List<Path> ruleFiles) {
        String scrapeConfigs = jobs.entrySet().stream()
                .map(job -> "  - job_name: " + job.getKey() + "\n    static_configs:\n      - targets: ["
                        + job.getValue().stream().map(t -> "'" + t + "'").collect(Collectors.joining(", ")) + "]\n")
                .collect(Collectors.joining());
        String rules = ruleFiles.stream().map(f -> "  - '" + f.toAbsolutePath() + "'\n").collect(Collectors.joining());
        return "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                + "rule_files:\n" + rules + "scrape_configs:\n" + scrapeConfigs;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GET /api/v1/{path}?{query}: the whole JSON answer, whatever its status. */
    public JsonNode api(String path, Map<String, String> params) {
        String query = params.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        HttpResponse<String> response = LiveFleet.send(HttpRequest.newBuilder(
                        URI.create("http://" + address + "/api/v1/" + path + (query.isEmpty() ? "" : "?" + query)))
                .timeout(Duration.ofSeconds(30)).GET().build());
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

    public String tail() {
        return process.tail();
    }

    @Override
    public void close() {
        process.close();
        LiveFleet.deleteRecursively(dir);
    }
}
