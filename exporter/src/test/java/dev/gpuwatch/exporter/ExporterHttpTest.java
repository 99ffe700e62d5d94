package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.web.WebConfig;
import java.net.http.HttpResponse;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The exporter over real HTTP: content negotiation, health endpoints, landing page. */
class ExporterHttpTest {

    @Test
    void notReadyUntilTheFirstSampleThenReady() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of(TestGpus.full(0))) {
            @Override
            public List<GpuSnapshot> sample() {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.sample();
            }
        };
        try (Exporter exporter = TestExporters.start(probe)) {
            HttpResponse<String> ready = TestExporters.get(exporter, "/-/ready");
            assertEquals(503, ready.statusCode());
            assertEquals("not ready: waiting for the first GPU sample\n", ready.body());
            assertEquals(200, TestExporters.get(exporter, "/-/healthy").statusCode(), "a sample in progress is not a hang");
            HttpResponse<String> metrics = TestExporters.get(exporter, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertEquals(List.of(), TestGpus.lines(metrics.body(), "gpu_up"));

            release.countDown();
            TestExporters.awaitSample(exporter);
            assertEquals(200, TestExporters.get(exporter, "/-/ready").statusCode());
            assertEquals(1, TestGpus.lines(TestExporters.get(exporter, "/metrics").body(), "gpu_up{").size());
        }
        assertTrue(probe.closed());
    }

    @Test
    void textOrOpenMetricsByAcceptHeader() throws Exception {
        try (Exporter exporter = TestExporters.start(new TestGpus.FakeProbe(List.of(TestGpus.full(0))))) {
            TestExporters.awaitSample(exporter);
            HttpResponse<String> text = TestExporters.get(exporter, "/metrics");
            assertEquals("text/plain; version=0.0.4; charset=utf-8", text.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(text.body().contains("# TYPE gpu_energy_joules_total counter\n"));
            assertFalse(text.body().contains("# EOF"));

            HttpResponse<String> om = TestExporters.get(exporter, "/metrics",
                    "Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8");
            assertTrue(om.headers().firstValue("Content-Type").orElseThrow().startsWith("application/openmetrics-text; version=1.0.0"));
            assertTrue(om.body().contains("# TYPE gpu_energy_joules counter\n"));
            assertTrue(om.body().contains("# UNIT gpu_energy_joules joules\n"));
            assertTrue(om.body().contains("# TYPE gpu info\n"));
            assertTrue(om.body().endsWith("# EOF\n"));
        }
    }

    @Test
    void aLostGpuStillAnswers200ForTheRest() throws Exception {
        try (Exporter exporter = TestExporters.start(new TestGpus.FakeProbe(List.of(TestGpus.full(0), TestGpus.lost(1))))) {
            TestExporters.awaitSample(exporter);
            HttpResponse<String> r = TestExporters.get(exporter, "/metrics");
            assertEquals(200, r.statusCode());
            assertEquals(List.of("gpu_up{gpu=\"1\",uuid=\"" + TestGpus.uuid(1) + "\"} 0.0"), TestGpus.lines(r.body(), "gpu=\"1\""));
            assertTrue(TestGpus.lines(r.body(), "gpu=\"0\"").size() > 40);
        }
    }

    @Test
    void landingPageNamesTheBackendAndLinksTheEndpoints() throws Exception {
        try (Exporter exporter = TestExporters.start(new TestGpus.FakeProbe(List.of()))) {
            HttpResponse<String> page = TestExporters.get(exporter, "/");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("GPU backend: <b>fake</b>"));
            assertTrue(page.body().contains("fake probe for tests"));
            for (String link : List.of("href=\"metrics\"", "href=\"-/healthy\"", "href=\"-/ready\"")) {
                assertTrue(page.body().contains(link), link);
            }
            assertEquals(404, TestExporters.get(exporter, "/favicon.ico").statusCode());
        }
    }

    @Test
    void withoutABackendTheExporterStartsAndSaysWhy() throws Exception {
        String reason = "libnvidia-ml.so.1 was not found by the dynamic loader";
        try (Exporter exporter = Exporter.start(TestExporters.loopback(), WebConfig.none(),
                c -> new GpuProbes.Result(new ProbeOpening.Unavailable("nvml", reason), List.of()),
                ExporterMain::collectors, InstantSource.system())) {
            assertEquals("none", exporter.backend());
            HttpResponse<String> metrics = TestExporters.get(exporter, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("gpuwatch_exporter_build_info{backend=\"none\""));
            assertTrue(metrics.body().contains("gpuwatch_exporter_gpus 0.0"));
            assertEquals(List.of(), TestGpus.lines(metrics.body(), "gpu_up"));
            HttpResponse<String> ready = TestExporters.get(exporter, "/-/ready");
            assertEquals(503, ready.statusCode());
            assertEquals("not ready: no GPU backend: " + reason + "\n", ready.body());
            assertEquals(200, TestExporters.get(exporter, "/-/healthy").statusCode());
            assertTrue(TestExporters.get(exporter, "/").body()
                    .contains("No GPU is exposed: the nvml backend is unavailable: " + reason));
        }
    }
}
