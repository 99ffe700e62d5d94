package dev.gpuwatch.exporter.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.TestGpus;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Series with a pid label are bounded per GPU per scrape, whatever the process churn. */
class ProcessesTopNTest {

    private static GpuProcess process(int pid, long bytes) {
        return new GpuProcess(pid, Optional.of("worker"), OptionalLong.of(bytes), OptionalInt.empty(), OptionalInt.empty());
    }

    private static GpuSnapshot gpu(int index, List<GpuProcess> processes) {
        return GpuSnapshot.builder(index, TestGpus.T0).uuid(TestGpus.uuid(index)).processes(processes).build();
    }

    @Test
    void aProcessStormYieldsAtMostTopNSeriesPerGpuAndTheTrueCount() {
        AtomicReference<List<GpuSnapshot>> current = new AtomicReference<>();
        ProcessesCollector collector = new ProcessesCollector(current::get, 5);
        Set<String> pidsSeen = new HashSet<>();
        // 50 scrapes, each with 300 fresh short-lived pids per GPU (15 000 distinct pids per GPU in all).
        for (int scrape = 0; scrape < 50; scrape++) {
            List<GpuSnapshot> gpus = new ArrayList<>();
            for (int g = 0; g < 2; g++) {
                List<GpuProcess> ps = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    ps.add(process(100_000 * (g + 1) + scrape * 300 + i, 1_000_000L * ((i * 7919) % 300)));
                }
                gpus.add(gpu(g, ps));
            }
            current.set(gpus);
            String text = TestGpus.text(collector);
            for (int g = 0; g < 2; g++) {
                String gpuLabel = "gpu=\"" + g + "\"";
                List<String> series = TestGpus.lines(text, "gpu_process_memory_used_bytes{");
                series.removeIf(l -> !l.contains(gpuLabel));
                assertEquals(5, series.size());
                assertEquals(List.of("gpu_processes{gpu=\"" + g + "\",uuid=\"" + TestGpus.uuid(g) + "\"} 300.0"),
                        TestGpus.lines(text, "gpu_processes{gpu=\"" + g + "\""));
                series.forEach(l -> pidsSeen.add(l.replaceAll(".*pid=\"(\\d+)\".*", "$1")));
            }
        }
        assertTrue(pidsSeen.size() <= 50 * 2 * 5, "distinct pid label values stay bounded: " + pidsSeen.size());
    }

    @Test
    void largestMemoryFirstTiesByPidAndOneSeriesPerPid() {
        List<GpuProcess> ps = List.of(
                process(30, 100), process(10, 100), process(20, 500),
                // the same pid on two MIG instances: one series, memory summed
                new GpuProcess(40, Optional.of("vllm"), OptionalLong.of(200), OptionalInt.of(1), OptionalInt.of(0)),
                new GpuProcess(40, Optional.of("vllm"), OptionalLong.of(250), OptionalInt.of(2), OptionalInt.of(0)));
        String text = TestGpus.text(new ProcessesCollector(() -> List.of(gpu(0, ps)), 3));
        String uuid = TestGpus.uuid(0);
        assertEquals(List.of(
                "gpu_process_memory_used_bytes{command=\"vllm\",gpu=\"0\",pid=\"40\",uuid=\"" + uuid + "\"} 450.0",
                "gpu_process_memory_used_bytes{command=\"worker\",gpu=\"0\",pid=\"10\",uuid=\"" + uuid + "\"} 100.0",
                "gpu_process_memory_used_bytes{command=\"worker\",gpu=\"0\",pid=\"20\",uuid=\"" + uuid + "\"} 500.0"),
                TestGpus.lines(text, "gpu_process_memory_used_bytes"));
        assertEquals(List.of("gpu_processes{gpu=\"0\",uuid=\"" + uuid + "\"} 4.0"), TestGpus.lines(text, "gpu_processes{"));
    }

    @Test
    void topNZeroKeepsOnlyTheCount() {
        String text = TestGpus.text(new ProcessesCollector(() -> List.of(gpu(0, List.of(process(1, 10)))), 0));
        assertEquals(List.of(), TestGpus.lines(text, "gpu_process_memory_used_bytes"));
        assertEquals(1, TestGpus.lines(text, "gpu_processes{").size());
    }

    @Test
    void utilisationSeriesAreTheTopNBySmAndMpsClientsAreCounted() {
        List<GpuProcess> ps = List.of(
                process(1, 900).withUtilization(0.125, 0.5),
                process(2, 100).withUtilization(0.75, 0.25),
                process(3, 500).withUtilization(0.25, 0.0),
                new GpuProcess(4, Optional.of("client"), OptionalLong.empty(), OptionalInt.empty(), OptionalInt.empty(),
                        OptionalDouble.of(0.5), OptionalDouble.empty(), true),
                process(5, 50));
        String text = TestGpus.text(new ProcessesCollector(() -> List.of(gpu(0, ps)), 2));
        String uuid = TestGpus.uuid(0);
        assertEquals(List.of(
                "gpu_process_memory_used_bytes{command=\"worker\",gpu=\"0\",pid=\"1\",uuid=\"" + uuid + "\"} 900.0",
                "gpu_process_memory_used_bytes{command=\"worker\",gpu=\"0\",pid=\"3\",uuid=\"" + uuid + "\"} 500.0"),
                TestGpus.lines(text, "gpu_process_memory_used_bytes"));
        assertEquals(List.of(
                "gpu_process_sm_utilization_ratio{command=\"client\",gpu=\"0\",pid=\"4\",uuid=\"" + uuid + "\"} 0.5",
                "gpu_process_sm_utilization_ratio{command=\"worker\",gpu=\"0\",pid=\"2\",uuid=\"" + uuid + "\"} 0.75"),
                TestGpus.lines(text, "gpu_process_sm_utilization_ratio"));
        // the MPS client has no memory-bandwidth sample: only pid 2's
        assertEquals(List.of(
                "gpu_process_memory_bandwidth_utilization_ratio{command=\"worker\",gpu=\"0\",pid=\"2\",uuid=\"" + uuid + "\"} 0.25"),
                TestGpus.lines(text, "gpu_process_memory_bandwidth_utilization_ratio"));
        assertEquals(List.of("gpu_mps_client_processes{gpu=\"0\",uuid=\"" + uuid + "\"} 1.0"),
                TestGpus.lines(text, "gpu_mps_client_processes"));
        assertEquals(List.of("gpu_processes{gpu=\"0\",uuid=\"" + uuid + "\"} 5.0"), TestGpus.lines(text, "gpu_processes{"));
    }
}
