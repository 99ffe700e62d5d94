package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.prometheus.Promtool;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code type: custom} target through the whole exporter: its file, its poller and its {@code /metrics}. The app
 * is the FastAPI service of the worked example in docs/model-servers.md, served from its fixture by a local HTTP
 * server, and the file is the example's own; the app's metric names come out as the {@code inference_*} series,
 * with the target's labels, exactly as the docs show them.
 */
class CustomTargetTest {
    private static final Path APP_METRICS = Path.of("src/test/resources/inference/custom-fastapi/metrics.txt");
    private static final Path DOCS_EXAMPLE = Path.of("../docs/model-servers.md");

    @TempDir
    Path dir;

    private static HttpServer app() throws Exception {
        byte[] body = Files.readAllBytes(APP_METRICS);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/metrics", ex -> {
            try (ex) {
                ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.start();
        return server;
    }

    /** The worked example's file from docs/model-servers.md, aimed at the local app, with fast polling. */
    private Path config(int appPort) throws Exception {
        String example = section(DOCS_EXAMPLE, "```yaml\nmodel_servers:\n  - name: chat-api\n");
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, """
                gpu: {backend: simulated}
                model_server_discovery:
                  enabled: false
                  poll_interval: 100ms
                """ + example.replace("http://chat-api.internal:8000", "http://127.0.0.1:" + appPort));
        return file;
    }

    /** The fenced block of docs/model-servers.md that starts with {@code opening}, without its fences. */
    private static String section(Path doc, String opening) throws Exception {
        String text = Files.readString(doc);
        int start = text.indexOf(opening);
        if (start < 0) {
            throw new AssertionError(doc + " has no block starting " + opening);
        }
        int body = text.indexOf('\n', start) + 1;
        return text.substring(body, text.indexOf("```", body));
    }

    @Test
    void theAppsOwnMetricsComeOutAsTheInferenceFamily() throws Exception {
        HttpServer app = app();
        try (Exporter exporter = TestExporters.startBackend(TestExporters.loopback("--config.file="
                + config(app.getAddress().getPort())))) {
            String up = "inference_target_up{server=\"custom\",target=\"chat-api\",team=\"assistants\"} 1.0";
            String scrape = "";
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!TestGpus.lines(scrape, "inference_target_up{").contains(up)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("chat-api not up within 30 s:\n" + scrape);
                }
                Thread.sleep(50);
                scrape = TestExporters.get(exporter, "/metrics").body();
            }
            String labels = "model=\"llama-3.1-8b-instruct\",server=\"custom\",target=\"chat-api\",team=\"assistants\"";
            assertEquals(List.of(
                    "inference_requests_total{model=\"llama-3.1-8b-instruct\",outcome=\"error\",server=\"custom\",target=\"chat-api\",team=\"assistants\"} 13.0",
                    "inference_requests_total{model=\"llama-3.1-8b-instruct\",outcome=\"success\",server=\"custom\",target=\"chat-api\",team=\"assistants\"} 1757.0"),
                    TestGpus.lines(scrape, "inference_requests_total{"));
            assertEquals(List.of(
                    "inference_request_duration_seconds_bucket{" + labels + ",le=\"0.1\"} 0",
                    "inference_request_duration_seconds_bucket{" + labels + ",le=\"0.5\"} 30",
                    "inference_request_duration_seconds_bucket{" + labels + ",le=\"1.0\"} 240",
                    "inference_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 1770"),
                    TestGpus.lines(scrape, "inference_request_duration_seconds_bucket{"));
            assertEquals(List.of("inference_time_to_first_token_seconds_count{" + labels + "} 1750"),
                    TestGpus.lines(scrape, "inference_time_to_first_token_seconds_count{"));
            assertEquals(List.of("inference_requests_waiting{" + labels + "} 4.0"),
                    TestGpus.lines(scrape, "inference_requests_waiting{"));
            assertEquals(List.of("inference_requests_running{" + labels + "} 4.0"),
                    TestGpus.lines(scrape, "inference_requests_running{"));
            assertEquals(List.of("inference_kv_cache_usage_ratio{" + labels + "} 0.625"),
                    TestGpus.lines(scrape, "inference_kv_cache_usage_ratio{"));

            // the output the docs show for the example
            for (String line : section(DOCS_EXAMPLE, "```\ninference_requests_total{").strip().split("\n")) {
                assertEquals(List.of(line), TestGpus.lines(scrape, line.substring(0, line.lastIndexOf(' ') + 1)));
            }

            ChildProcess.Finished lint = Promtool.checkMetrics(scrape);
            assertEquals("", lint.output().strip(), "promtool check metrics:\n" + lint.output());
        } finally {
            app.stop(0);
        }
    }

    @Test
    void aBadMappingStopsTheExporterWithTheKeyAndLineAndExitStatus2() throws Exception {
        Path file = config(1);
        Files.writeString(file, Files.readString(file).replace("error_values: \"5..\"", "error_values: \"5(..\""));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new ExporterMain(new PrintWriter(out, true), new PrintWriter(err, true))
                .run("--web.listen-address=127.0.0.1:0", "--config.file=" + file);
        assertEquals(ConfigException.EXIT_CODE, code);
        assertEquals("gpuwatch-exporter: " + file + ":13: model_servers[0].mapping.requests.error_values: not a valid "
                + "regular expression (Unclosed group at index 4), got \"5(..\"\n", err.toString());
        assertEquals("", out.toString());
    }
}
