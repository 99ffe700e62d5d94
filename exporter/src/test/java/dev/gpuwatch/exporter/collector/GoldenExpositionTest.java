package dev.gpuwatch.exporter.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.TestGpus;
import dev.gpuwatch.exporter.sampling.Sampler;
import dev.gpuwatch.probe.GpuSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The whole scrape for a fixed fake probe (a GPU without GPM, a lost one, a profiled one with MIG instances and
 * per-link NVLink on), compared as exact text with golden/fake-probe.txt.
 */
class GoldenExpositionTest {

    @Test
    void scrapeOfAFixedProbeIsExactlyTheGoldenText() throws IOException {
        List<GpuSnapshot> gpus = List.of(TestGpus.full(0), TestGpus.lost(1), TestGpus.profiled(2));
        Supplier<List<GpuSnapshot>> source = () -> gpus;
        List<NamedCollector> collectors = new ArrayList<>();
        for (GpuCollector c : GpuCollector.values()) {
            collectors.add(new NamedCollector(c.label(), c.create(source, new GpuCollector.Options(20, true))));
        }
        Sampler.State state = new Sampler.State(gpus, Optional.of(TestGpus.T0), Optional.of(TestGpus.T0.plusMillis(250)),
                Duration.ofMillis(250), true, Optional.empty());
        // The tick source advances 0.5 ms per read, so every collector run "takes" exactly 0.5 ms.
        AtomicLong nanos = new AtomicLong();
        InstrumentedCollectors all = new InstrumentedCollectors(collectors,
                new InstrumentedCollectors.BuildInfo("1.2.3", "25", "fake"),
                () -> Optional.of(state), InstantSource.fixed(TestGpus.T0.plusSeconds(2)),
                () -> nanos.getAndAdd(500_000));

        String actual = TestGpus.text(all);
        if (Boolean.getBoolean("gpuwatch.golden.update")) {
            // After a deliberate change: -Dgpuwatch.golden.update=true rewrites the file; review its diff.
            Files.writeString(Path.of("src/test/resources/golden/fake-probe.txt"), actual);
        }
        assertEquals(golden("golden/fake-probe.txt"), actual);
    }

    private static String golden(String resource) throws IOException {
        try (InputStream in = GoldenExpositionTest.class.getClassLoader().getResourceAsStream(resource)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

}
