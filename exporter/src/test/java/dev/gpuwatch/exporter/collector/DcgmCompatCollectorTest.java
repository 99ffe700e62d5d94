package dev.gpuwatch.exporter.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.TestGpus;
import dev.gpuwatch.exporter.modelserver.GpuPod;
import dev.gpuwatch.probe.GpuSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** dcgm-exporter's names, units and labels for a fixed fake probe, compared as exact text with golden/dcgm-compat.txt. */
class DcgmCompatCollectorTest {
    private static final List<GpuSnapshot> GPUS = List.of(TestGpus.full(0), TestGpus.lost(1), TestGpus.profiled(2));
    private static final Map<String, GpuPod> PODS =
            Map.of(TestGpus.uuid(2), new GpuPod("serving", "llama-70b-0", Optional.of("vllm")));

    @Test
    void everySharedFieldInDcgmUnitsAndLabelsIsExactlyTheGoldenText() throws IOException {
        String actual = TestGpus.text(new DcgmCompatCollector(() -> GPUS, EnumSet.allOf(GpuCollector.class), true,
                "gpu-node-3", () -> PODS));
        if (Boolean.getBoolean("gpuwatch.golden.update")) {
            Files.writeString(Path.of("src/test/resources/golden/dcgm-compat.txt"), actual);
        }
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("golden/dcgm-compat.txt")) {
            assertEquals(new String(in.readAllBytes(), StandardCharsets.UTF_8), actual);
        }
    }

    @Test
    void aSwitchedOffCollectorSwitchesItsDcgmFieldsOffToo() {
        String text = TestGpus.text(new DcgmCompatCollector(() -> GPUS,
                EnumSet.complementOf(EnumSet.of(GpuCollector.CLOCKS, GpuCollector.GPM)), false, "h", Map::of));
        assertEquals(List.of(), TestGpus.lines(text, "DCGM_FI_DEV_SM_CLOCK"));
        assertEquals(List.of(), TestGpus.lines(text, "DCGM_FI_PROF_SM_ACTIVE"));
        assertEquals(2, TestGpus.lines(text, "DCGM_FI_DEV_GPU_UTIL{").size(), "the two GPUs that are up");
    }

    @Test
    void perLinkNvlinkFieldsOnlyWithTheOption() {
        String text = TestGpus.text(new DcgmCompatCollector(() -> GPUS, EnumSet.allOf(GpuCollector.class), false,
                "h", Map::of));
        assertEquals(List.of(), TestGpus.lines(text, "DCGM_FI_PROF_NVLINK_L3_TX_BYTES"));
        assertEquals(1, TestGpus.lines(text, "DCGM_FI_PROF_NVLINK_TX_BYTES{").size());
    }
}
