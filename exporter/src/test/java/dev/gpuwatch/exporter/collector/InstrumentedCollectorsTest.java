package dev.gpuwatch.exporter.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.TestGpus;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class InstrumentedCollectorsTest {

    private static InstrumentedCollectors with(List<NamedCollector> collectors) {
        return new InstrumentedCollectors(collectors, new InstrumentedCollectors.BuildInfo("v", "25", "none"),
                Optional::empty, InstantSource.system());
    }

    @Test
    void aFailingCollectorLosesItsOwnSeriesNotTheScrape() {
        NamedCollector broken = new NamedCollector("broken", () -> {
            throw new IllegalStateException("boom");
        });
        NamedCollector gpu = new NamedCollector("gpu", GpuCollector.GPU.create(() -> List.of(TestGpus.full(0)), new GpuCollector.Options(20, false)));
        String text = TestGpus.text(with(List.of(broken, gpu)));

        assertEquals(List.of("gpuwatch_exporter_collector_success{collector=\"broken\"} 0.0"),
                TestGpus.lines(text, "collector_success{collector=\"broken\"}"));
        assertEquals(List.of("gpuwatch_exporter_collector_success{collector=\"gpu\"} 1.0"),
                TestGpus.lines(text, "collector_success{collector=\"gpu\"}"));
        assertEquals(1, TestGpus.lines(text, "gpu_up{").size());
    }

    @Test
    void twoCollectorsEmittingOneNameFailTheSecondOnly() {
        NamedCollector a = new NamedCollector("a", GpuCollector.MIG.create(() -> List.of(TestGpus.full(0)), new GpuCollector.Options(20, false)));
        NamedCollector b = new NamedCollector("b", GpuCollector.MIG.create(() -> List.of(TestGpus.full(1)), new GpuCollector.Options(20, false)));
        String text = TestGpus.text(with(List.of(a, b)));
        assertEquals(1, TestGpus.lines(text, "gpu_mig_enabled{").size());
        assertTrue(text.contains("gpuwatch_exporter_collector_success{collector=\"b\"} 0.0"));
    }

    @Test
    void withoutABackendTheExporterSaysNoneAndZeroGpus() {
        MetricSnapshots snapshots = with(List.of()).collect();
        String text = TestGpus.text(snapshots);
        assertTrue(text.contains("gpuwatch_exporter_build_info{backend=\"none\",java_version=\"25\",version=\"v\"} 1"));
        assertTrue(text.contains("gpuwatch_exporter_gpus 0.0"));
        assertEquals(List.of(), TestGpus.lines(text, "sample_age"));
    }

    @Test
    void collectorNamesAreUnique() {
        NamedCollector a = new NamedCollector("sampler", GpuCollector.MIG.create(List::of, new GpuCollector.Options(1, false)));
        assertThrows(IllegalArgumentException.class, () -> with(List.of(a)));
    }

    @Test
    void theScrapeRequestReachesEveryCollector() {
        List<PrometheusScrapeRequest> seen = new ArrayList<>();
        MultiCollector recording = new MultiCollector() {
            @Override
            public MetricSnapshots collect() {
                throw new AssertionError("the scrape request was dropped on the way");
            }

            @Override
            public MetricSnapshots collect(PrometheusScrapeRequest request) {
                seen.add(request);
                return new MetricSnapshots();
            }
        };
        PrometheusScrapeRequest request = new PrometheusScrapeRequest() {
            @Override
            public String getRequestPath() {
                return "/metrics";
            }

            @Override
            public String[] getParameterValues(String name) {
                return new String[0];
            }
        };
        String text = TestGpus.text(with(List.of(new NamedCollector("inference", recording))).collect(request));
        assertEquals(List.of(request), seen);
        assertTrue(text.contains("gpuwatch_exporter_collector_success{collector=\"inference\"} 1.0"));
    }
}
