package dev.gpuwatch.exporter.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.TestGpus;
import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpuSnapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The GPM families beyond the golden scrape: an unsupported GPU, the first sample, the per-link option off. */
class GpmCollectorTest {
    private static final String UUID = TestGpus.uuid(0);

    @Test
    void aGpuWithoutGpmSaysSoAndHasNoProfilingSeries() {
        GpuSnapshot ampere = TestGpus.full(0).toBuilder().gpmSupported(false).build();
        assertEquals("""
                # HELP gpu_profiling_supported 1 when the GPU gives GPU Performance Monitoring (SM, tensor, DRAM activity), 0 when it does not.
                # TYPE gpu_profiling_supported gauge
                gpu_profiling_supported{gpu="0",uuid="%s"} 0.0
                """.formatted(UUID), TestGpus.text(new GpmCollector(() -> List.of(ampere), true)));
    }

    @Test
    void theFirstSampleOfASupportedGpuHasNoValuesYet() {
        GpuSnapshot first = TestGpus.full(0).toBuilder().gpmSupported(true).build();
        assertEquals(List.of("gpu_profiling_supported{gpu=\"0\",uuid=\"" + UUID + "\"} 1.0"),
                TestGpus.lines(TestGpus.text(new GpmCollector(() -> List.of(first), false)), "{"));
    }

    @Test
    void perLinkNvlinkSeriesOnlyWithTheOption() {
        GpuSnapshot s = TestGpus.profiled(0);
        String off = TestGpus.text(new GpmCollector(() -> List.of(s), false));
        assertEquals(List.of(), TestGpus.lines(off, "gpu_nvlink_link_throughput_bytes_per_second"));
        assertEquals(2, TestGpus.lines(off, "gpu_nvlink_throughput_bytes_per_second{").size(), "the total stays");
        String on = TestGpus.text(new GpmCollector(() -> List.of(s), true));
        assertEquals(2, TestGpus.lines(on, "gpu_nvlink_link_throughput_bytes_per_second{").size());
    }

    @Test
    void pcieThroughputFromGpmOnlyWhenTheSampleHasIt() {
        GpuSnapshot sampler = TestGpus.full(0);
        GpuSnapshot gpm = sampler.toBuilder().gpm(GpmField.PCIE_RX.metric(), 8.0).build();
        assertEquals(List.of(
                        "gpu_pcie_throughput_bytes_per_second{direction=\"rx\",gpu=\"0\",uuid=\"" + UUID + "\"} 2097152.0",
                        "gpu_pcie_throughput_bytes_per_second{direction=\"tx\",gpu=\"0\",uuid=\"" + UUID + "\"} 1048576.0"),
                TestGpus.lines(TestGpus.text(new PcieCollector(() -> List.of(sampler))), "throughput"));
        // one source per GPU: GPM's rx, and no tx from the other source beside it
        assertEquals(List.of("gpu_pcie_throughput_bytes_per_second{direction=\"rx\",gpu=\"0\",uuid=\"" + UUID + "\"} 8.0"),
                TestGpus.lines(TestGpus.text(new PcieCollector(() -> List.of(gpm))), "throughput"));
    }

    @Test
    void aLostGpuHasNoProfilingSeries() {
        assertEquals("", TestGpus.text(new GpmCollector(() -> List.of(TestGpus.lost(0)), true)));
    }
}
