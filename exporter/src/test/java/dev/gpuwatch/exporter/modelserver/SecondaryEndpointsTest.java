package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secondary endpoint that fails (404, garbage, no answer in time) leaves the target up with what its metrics
 * give, and {@code inference_target_partial{part, reason}} says what is missing; the primary failing still downs
 * the target. The servers answer from copies of the adapter fixtures with files taken away or spoilt.
 */
class SecondaryEndpointsTest {
    private static final Path FIXTURES = Path.of("src/test/resources/inference");

    @TempDir
    Path tmp;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() throws Exception {
        release.countDown();
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    /** A copy of {@code fixture} to spoil. */
    private Path copy(String fixture) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(fixture));
        try (Stream<Path> files = Files.list(FIXTURES.resolve(fixture))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    /** Polls a server answering from {@code dir} as {@code type} once and scrapes. */
    private String pollAndScrape(ServerType type, Path dir) throws IOException {
        FixtureServer s = new FixtureServer(dir);
        closing.add(s);
        return pollAndScrape(type, s.url(), Duration.ofSeconds(5));
    }

    private String pollAndScrape(ServerType type, String url, Duration timeout) {
        URI u = URI.create(url);
        TargetSettings t = new TargetSettings("t", type, u, Optional.of(u.resolve("/metrics")), timeout,
                Optional.empty(), Map.of(), false, false);
        ModelServers m = new ModelServers(new InferenceSettings(List.of(t),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), timeout, 16L << 20, 10_000, false),
                new InferenceSettings.Attribution(false, Optional.empty())), List::of, Duration.ZERO);
        closing.add(m);
        m.poller("t").orElseThrow().pollOnce();
        return Scrapes.scrape(m.collector());
    }

    private static void assertUp(String scrape, String server) {
        assertTrue(scrape.contains("inference_target_up{server=\"" + server + "\",target=\"t\"} 1.0"), scrape);
        assertFalse(scrape.contains("inference_target_last_error{"), scrape);
    }

    /** The partial series of the scrape, exactly. */
    private static List<String> partial(String scrape) {
        return scrape.lines().filter(l -> l.startsWith("inference_target_partial{")).toList();
    }

    private static String partialLine(String server, String part, String reason) {
        return "inference_target_partial{part=\"" + part + "\",reason=\"" + reason + "\",server=\"" + server
                + "\",target=\"t\"} 1.0";
    }

    @Test
    void aCompletePollHasNoPartialSeries() throws Exception {
        for (String fixture : List.of("triton", "torchserve", "tgi", "llamacpp-old")) {
            String server = fixture.replace("-old", "");
            String scrape = pollAndScrape(ServerType.parse(server).orElseThrow(), copy(fixture));
            assertUp(scrape, server);
            assertEquals(List.of(), partial(scrape), scrape);
        }
    }

    @Test
    void tritonWithOnlyItsMetricsPortReachableServesTheMetrics() throws Exception {
        Path dir = copy("triton");
        Files.delete(dir.resolve("GET_v2_models_stats.json"));
        Files.delete(dir.resolve("POST_v2_repository_index.json"));
        String scrape = pollAndScrape(ServerType.TRITON, dir);
        assertUp(scrape, "triton");
        assertTrue(scrape.contains(
                "inference_requests_total{model=\"bert\",outcome=\"success\",server=\"triton\",target=\"t\"} 1000.0"), scrape);
        assertFalse(scrape.contains("inference_request_duration_seconds"), scrape); // from the statistics only
        assertFalse(scrape.contains("inference_model_state"), scrape); // from the repository index only
        assertEquals(List.of(partialLine("triton", "model_stats", "http_status"),
                partialLine("triton", "repository_index", "http_status")), partial(scrape));
    }

    @Test
    void tritonStatisticsThatAreGarbageAreMissingTheRestStands() throws Exception {
        Path dir = copy("triton");
        Files.writeString(dir.resolve("GET_v2_models_stats.json"), "<html>gateway</html>");
        String scrape = pollAndScrape(ServerType.TRITON, dir);
        assertUp(scrape, "triton");
        assertTrue(scrape.contains(
                "inference_model_state{model=\"bert\",server=\"triton\",state=\"ready\",target=\"t\"} 1.0"), scrape);
        assertEquals(List.of(partialLine("triton", "model_stats", "parse_error")), partial(scrape));

        Files.writeString(dir.resolve("GET_v2_models_stats.json"), "{\"error\":\"statistics extension disabled\"}");
        scrape = pollAndScrape(ServerType.TRITON, dir);
        assertUp(scrape, "triton");
        assertEquals(List.of(partialLine("triton", "model_stats", "parse_error")), partial(scrape));
    }

    @Test
    void tritonStatisticsThatNeverAnswerAreMissingAfterTheDeadline() throws Exception {
        String metrics = Files.readString(FIXTURES.resolve("triton/metrics.txt"));
        FakeHttp f = new FakeHttp((method, path, out) -> {
            if (path.equals("/metrics")) {
                FakeHttp.respond(out, 200, "text/plain; version=0.0.4", metrics);
            } else {
                release.await(); // the HTTP API hangs
            }
        });
        closing.add(f);
        String scrape = pollAndScrape(ServerType.TRITON, f.url(), Duration.ofMillis(300));
        assertUp(scrape, "triton");
        assertTrue(scrape.contains(
                "inference_requests_total{model=\"bert\",outcome=\"success\",server=\"triton\",target=\"t\"} 1000.0"), scrape);
        assertEquals(List.of(partialLine("triton", "model_stats", "timeout"),
                partialLine("triton", "repository_index", "timeout")), partial(scrape));
    }

    @Test
    void theMetricsFailingStillDownTheTarget() throws Exception {
        for (String fixture : List.of("triton", "torchserve", "tgi", "llamacpp-old")) {
            String server = fixture.replace("-old", "");
            Path dir = copy(fixture);
            Files.delete(dir.resolve("metrics.txt"));
            String scrape = pollAndScrape(ServerType.parse(server).orElseThrow(), dir);
            assertTrue(scrape.contains("inference_target_up{server=\"" + server + "\",target=\"t\"} 0.0"), scrape);
            assertTrue(scrape.contains("inference_target_last_error{reason=\"http_status\",server=\"" + server
                    + "\",target=\"t\"} 1.0"), scrape);
            assertEquals(List.of(), partial(scrape), scrape);
            assertFalse(Pattern.compile("(?m)^inference_(?!target_)").matcher(scrape).find(), scrape);
        }
    }

    @Test
    void torchServeWithoutItsManagementApiServesTheMetrics() throws Exception {
        Path dir = copy("torchserve");
        Files.delete(dir.resolve("GET_models.json"));
        String scrape = pollAndScrape(ServerType.TORCHSERVE, dir);
        assertUp(scrape, "torchserve");
        assertTrue(scrape.contains(
                "inference_request_duration_seconds_count{model=\"bert\",server=\"torchserve\",target=\"t\"} 10"), scrape);
        assertFalse(scrape.contains("inference_model_state"), scrape);
        assertEquals(List.of(partialLine("torchserve", "models", "http_status")), partial(scrape));
    }

    @Test
    void torchServeDescribesTheOtherModelsWhenOneDescriptionFails() throws Exception {
        Path dir = copy("torchserve");
        Files.delete(dir.resolve("GET_models_bert.json"));
        String scrape = pollAndScrape(ServerType.TORCHSERVE, dir);
        assertUp(scrape, "torchserve");
        assertTrue(scrape.contains("inference_model_state{model=\"resnet18\",server=\"torchserve\",state=\"unavailable\","
                + "target=\"t\"} 1.0"), scrape);
        assertFalse(scrape.contains("inference_model_state{model=\"bert\""), scrape);
        assertEquals(List.of(partialLine("torchserve", "model_description", "http_status")), partial(scrape));
    }

    @Test
    void tgiAndLlamaCppWithoutTheirModelCallKeepTheirSeriesWithoutAModel() throws Exception {
        Path tgi = copy("tgi");
        Files.delete(tgi.resolve("GET_info.json"));
        String scrape = pollAndScrape(ServerType.TGI, tgi);
        assertUp(scrape, "tgi");
        assertTrue(scrape.contains("inference_requests_running{server=\"tgi\",target=\"t\"} 24.0"), scrape);
        assertEquals(List.of(partialLine("tgi", "info", "http_status")), partial(scrape));

        scrape = pollAndScrape(ServerType.LLAMACPP, copy("llamacpp-new")); // its fixture has no /v1/models
        assertUp(scrape, "llamacpp");
        assertEquals(List.of(partialLine("llamacpp", "models", "http_status")), partial(scrape));
    }
}
