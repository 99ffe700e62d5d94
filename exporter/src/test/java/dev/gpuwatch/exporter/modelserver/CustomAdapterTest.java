package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.exporter.modelserver.adapter.AdapterOptions;
import dev.gpuwatch.exporter.modelserver.adapter.Adapters;
import dev.gpuwatch.exporter.modelserver.adapter.CustomMapping;
import dev.gpuwatch.exporter.modelserver.adapter.Fetcher;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.TextFormat;
import dev.gpuwatch.exporter.modelserver.discovery.Endpoint;
import io.prometheus.metrics.model.snapshots.Labels;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code custom} type on the bodies of the setup guides' own services: a FastAPI app instrumented with
 * prometheus-fastapi-instrumentator and a Flask app with prometheus_flask_exporter, each with a few
 * prometheus_client metrics of its own (src/test/resources/inference/custom-*: metrics.txt, the target's
 * mapping.yml, the exact normalised exposition in expected.txt; -Dinference.fixtures.write=true regenerates it).
 */
class CustomAdapterTest {
    private static final Path ROOT = Path.of("src/test/resources/inference");
    private static final ConfigReader READER = ConfigReader.create();

    private static CustomMapping mapping(String yaml) throws Exception {
        return READER.parse("mapping.yml", yaml, CustomMapping.class).value();
    }

    private static Normalized poll(CustomMapping mapping, Fetcher fetcher) throws PollFailure {
        return Adapters.forType(ServerType.CUSTOM, Optional.of(mapping)).poll(fetcher, AdapterOptions.DEFAULTS);
    }

    private static String render(Normalized n) {
        return Scrapes.render(n, Labels.of("target", "t1", "server", "custom"));
    }

    /** A fetcher whose metrics endpoint answers {@code body}. */
    private static Fetcher body(String body) {
        return new Fetcher() {
            @Override
            public Exposition metrics() throws PollFailure {
                try {
                    return TextFormat.parse(body, 10_000);
                } catch (Exception e) {
                    throw new PollFailure(PollFailure.Reason.PARSE_ERROR, e.getMessage());
                }
            }

            @Override
            public JsonNode getJson(String path) throws PollFailure {
                throw new PollFailure(PollFailure.Reason.HTTP_STATUS, path + ": 404");
            }

            @Override
            public JsonNode postJson(String path, String jsonBody) throws PollFailure {
                throw new PollFailure(PollFailure.Reason.HTTP_STATUS, path + ": 404");
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"custom-fastapi", "custom-flask"})
    void normalisesTheGuidesAppsExactly(String fixture) throws Exception {
        Path dir = ROOT.resolve(fixture);
        Normalized n = poll(mapping(Files.readString(dir.resolve("mapping.yml"))), new FixtureFetcher(dir));
        String actual = render(n);
        Path expected = dir.resolve("expected.txt");
        if (Boolean.getBoolean("inference.fixtures.write")) {
            Files.writeString(expected, actual);
        }
        assertEquals(Files.readString(expected), actual);
    }

    @Test
    void modelFromALabelAndASummaryAsItsCountAndSum() throws Exception {
        CustomMapping m = mapping("""
                model_label: model
                requests: {metric: predictions_total, status_label: code, error_values: '5\\d\\d|error'}
                latency: predict_seconds
                running: predict_inprogress
                """);
        Normalized n = poll(m, body("""
                # TYPE predictions_total counter
                predictions_total{model="resnet50",code="200"} 90
                predictions_total{model="resnet50",code="503"} 3
                predictions_total{model="bert",code="error"} 2
                predictions_total{model="bert",code="200"} 40
                # TYPE predict_seconds summary
                predict_seconds_count{model="resnet50"} 93
                predict_seconds_sum{model="resnet50"} 4.65
                # TYPE predict_inprogress gauge
                predict_inprogress{model="bert"} 2
                """));
        assertEquals("""
                # HELP inference_request_duration_seconds End-to-end request latency in seconds (the server's own buckets; +Inf only where it keeps just a sum and a count).
                # TYPE inference_request_duration_seconds histogram
                inference_request_duration_seconds_bucket{model="resnet50",server="custom",target="t1",le="+Inf"} 93
                inference_request_duration_seconds_count{model="resnet50",server="custom",target="t1"} 93
                inference_request_duration_seconds_sum{model="resnet50",server="custom",target="t1"} 4.65
                # HELP inference_requests_total Finished requests by outcome (success, error, cancelled).
                # TYPE inference_requests_total counter
                inference_requests_total{model="bert",outcome="error",server="custom",target="t1"} 2.0
                inference_requests_total{model="bert",outcome="success",server="custom",target="t1"} 40.0
                inference_requests_total{model="resnet50",outcome="error",server="custom",target="t1"} 3.0
                inference_requests_total{model="resnet50",outcome="success",server="custom",target="t1"} 90.0
                # HELP inference_requests_running Requests the server is executing now.
                # TYPE inference_requests_running gauge
                inference_requests_running{model="bert",server="custom",target="t1"} 2.0
                """, render(n));
    }

    @Test
    void anIdleAppThatOnlyDeclaresItsFamiliesIsUpWithNoSeries() throws Exception {
        // prometheus_client writes a labelled family's HELP and TYPE before its first observation
        Normalized n = poll(mapping("requests: {metric: http_requests_total}\nlatency: http_request_duration_seconds\n"),
                body("""
                        # HELP http_requests_total Total number of requests by method, status and handler.
                        # TYPE http_requests_total counter
                        # HELP http_request_duration_seconds Latency with only few buckets by handler.
                        # TYPE http_request_duration_seconds histogram
                        """));
        assertEquals("", render(n));
    }

    @Test
    void aBodyWithNoneOfTheMappedMetricsIsTheWrongTypeNamingThemAndWhatItLooksLike() throws Exception {
        CustomMapping m = mapping("requests: {metric: http_requests_total}\nqueue: app_queue_depth\n");
        PollFailure f = assertThrows(PollFailure.class, () -> poll(m, new FixtureFetcher(ROOT.resolve("vllm-v1"))));
        assertEquals(PollFailure.Reason.WRONG_TYPE, f.reason());
        assertEquals("the body has none of the mapped metrics http_requests_total, app_queue_depth; it looks like vllm",
                f.getMessage());
    }

    @Test
    void aCustomTargetNeedsItsMapping() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Adapters.forType(ServerType.CUSTOM));
        assertEquals("a custom target needs its mapping", e.getMessage());
        URI u = URI.create("http://127.0.0.1:8000");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> new TargetSettings("app",
                ServerType.CUSTOM, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(1), Optional.empty(),
                Map.of(), false, false));
        assertEquals("app: a mapping goes with type custom, and only with it", none.getMessage());
    }

    @Test
    void discoveryNeverTakesAnAppForAModelServer() throws Exception {
        try (FixtureServer app = new FixtureServer(ROOT.resolve("custom-fastapi"))) {
            assertEquals(Optional.empty(), Fingerprint.identify(HttpClient.newHttpClient(),
                    new Endpoint("127.0.0.1", app.port())));
        }
        CustomMapping m = mapping("queue: q\n");
        URI u = URI.create("http://127.0.0.1:8000");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TargetSettings("app",
                ServerType.CUSTOM, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(1), Optional.empty(),
                Map.of(), false, true, Optional.of(m)));
        assertEquals("app: discovery cannot know a custom target's mapping", e.getMessage());
    }
}
