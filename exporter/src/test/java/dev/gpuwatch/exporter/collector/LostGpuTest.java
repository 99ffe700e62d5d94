package dev.gpuwatch.exporter.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.TestGpus;
import dev.gpuwatch.probe.GpuSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.time.InstantSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A lost or unreadable GPU keeps only {@code gpu_up 0}; the other GPUs keep all their series. */
class LostGpuTest {

    @ParameterizedTest
    @ValueSource(strings = {"LOST", "UNREADABLE"})
    void aGpuThatCannotBeReadShowsOnlyGpuUpZero(String state) {
        GpuSnapshot bad = state.equals("LOST") ? TestGpus.lost(1) : TestGpus.unreadable(1);
        List<GpuSnapshot> gpus = List.of(TestGpus.full(0), bad, TestGpus.full(2));
        List<NamedCollector> collectors = new ArrayList<>();
        for (GpuCollector c : GpuCollector.values()) {
            collectors.add(new NamedCollector(c.label(), c.create(() -> gpus, new GpuCollector.Options(20, false))));
        }
        String text = TestGpus.text(new InstrumentedCollectors(collectors,
                new InstrumentedCollectors.BuildInfo("v", "25", "fake"), Optional::empty, InstantSource.system()));

        assertEquals(List.of("gpu_up{gpu=\"1\",uuid=\"" + TestGpus.uuid(1) + "\"} 0.0"), TestGpus.lines(text, "gpu=\"1\""));
        List<String> gpu0 = TestGpus.lines(text, "gpu=\"0\"");
        List<String> gpu2 = TestGpus.lines(text, "gpu=\"2\"");
        assertTrue(gpu0.size() > 40, "GPU 0 keeps its series: " + gpu0.size());
        assertEquals(gpu0.size(), gpu2.size());
        assertTrue(gpu2.contains("gpu_up{gpu=\"2\",uuid=\"" + TestGpus.uuid(2) + "\"} 1.0"));
        assertFalse(text.contains("collector_success{collector=\"gpu\"} 0"), "no collector failed");
    }
}
