package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.scrape.Prerendered;
import dev.gpuwatch.exporter.scrape.TextExposition;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The model-server families are built once per set of poll results: scrapes between polls get the very same
 * snapshots (so their text is rendered once), a poll makes a new generation, and that generation's text is the
 * families' text as client_java writes it.
 */
class PrerenderedGenerationTest {
    private static final String METRICS = """
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{model_name="m"} 3.0
            """;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void familiesChangeOnlyWhenAPollEnds() throws Exception {
        ModelServers m = module();
        m.pollAll();

        List<Prerendered> offered = new ArrayList<>();
        MetricSnapshots first = m.collector().collect();
        MetricSnapshots second = m.collector().collect();
        MetricSnapshot running = family(first, "inference_requests_running");
        assertSame(running, family(second, "inference_requests_running"), "no poll in between: the same family");

        m.pollAll();
        MetricSnapshots third = m.collector().collect();
        assertNotSame(running, family(third, "inference_requests_running"), "a poll ended: a new generation");

        // what a scrape request is offered renders to client_java's text of the same families
        var sinkRequest = new SinkRequest(offered);
        MetricSnapshots fourth = m.collector().collect(sinkRequest);
        assertEquals(1, offered.size());
        Prerendered.Format text = new Prerendered.Format(TextExposition.PROMETHEUS_TEXT, EscapingScheme.UNDERSCORE_ESCAPING);
        MetricSnapshot now = family(fourth, "inference_requests_running");
        String rendered = new String(offered.getFirst().text(now, text).orElseThrow(), StandardCharsets.UTF_8);
        assertEquals(Scrapes.text(new MetricSnapshots(now)), rendered);
        assertTrue(rendered.contains("inference_requests_running{model=\"m\",server=\"vllm\",target=\"t\"} 3.0"), rendered);
    }

    @Test
    void scrapesKeepThePreviousGenerationUntilTheNextIsRendered() throws Exception {
        ModelServers m = module();
        m.pollAll();
        List<TargetState> first = m.states();
        m.pollAll();
        List<TargetState> second = m.states();

        AtomicReference<List<TargetState>> published = new AtomicReference<>(first);
        InferenceCollector c = new InferenceCollector(published::get, () -> InferenceCollector.Attribution.NONE,
                List::of, Optional.empty(), false, new ScrapeTimeouts());
        assertTrue(c.collect().stream().noneMatch(x -> x.getMetadata().getPrometheusName().equals("inference_requests_running")),
                "nothing rendered yet: nothing served, even though a result is published");
        c.refresh();
        MetricSnapshot rendered = family(c.collect(), "inference_requests_running");

        published.set(second); // a poll ended; its generation is not rendered yet
        assertSame(rendered, family(c.collect(), "inference_requests_running"), "scrapes never render: the old one");
        c.refresh();
        assertNotSame(rendered, family(c.collect(), "inference_requests_running"));
    }

    /** A module polling one vLLM-shaped target, driven by the test. */
    private ModelServers module() throws Exception {
        FakeHttp f = new FakeHttp((method, path, out) -> FakeHttp.respond(out, 200, "text/plain; version=0.0.4", METRICS));
        closing.add(f);
        InferenceSettings s = new InferenceSettings(List.of(PollFaultsTest.vllm("t", f.url())),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofMillis(500), 1 << 20, 100, false),
                new InferenceSettings.Attribution(false, Optional.empty()));
        ModelServers m = new ModelServers(s, List::of, Duration.ZERO);
        closing.add(m);
        return m;
    }

    private static MetricSnapshot family(MetricSnapshots all, String name) {
        for (MetricSnapshot s : all) {
            if (s.getMetadata().getPrometheusName().equals(name)) {
                return s;
            }
        }
        throw new AssertionError(name + " missing");
    }

    private record SinkRequest(List<Prerendered> offered)
            implements io.prometheus.metrics.model.registry.PrometheusScrapeRequest, Prerendered.Sink {
        @Override
        public void offer(Prerendered families) {
            offered.add(families);
        }

        @Override
        public String getRequestPath() {
            return "/metrics";
        }

        @Override
        public String[] getParameterValues(String name) {
            return null;
        }
    }
}
