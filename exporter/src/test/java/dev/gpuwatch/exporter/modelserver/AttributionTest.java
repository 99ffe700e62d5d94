package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which model server a GPU process belongs to when several servers share one process tree and one cgroup: under a
 * supervisor, a shell, or pid 1 in a container. Each GPU process goes to the nearest ancestor whose subtree
 * listens on a target's port, whether the server is an ancestor (vLLM's API server above its engine, whose own
 * TCPStore port is nobody's target) or a sibling under a launcher (TGI's router beside its shards).
 */
class AttributionTest {
    private static final Path FIXTURES = Path.of("src/test/resources/inference");
    private static final String CONTAINER = "0::/system.slice/docker-" + "d".repeat(64) + ".scope";
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void serversUnderOneSupervisorKeepTheirOwnGpuProcesses() throws Exception {
        FixtureServer a = fixture("vllm-v1");
        FixtureServer b = fixture("vllm-v0");
        FixtureServer tgi = fixture("tgi");
        new FakeProc(tmp.resolve("proc"))
                .netns("self", "net:[1]")
                .process(10, 1, CONTAINER).netns("10", "net:[1]")          // supervisord: the cgroup's top
                .process(11, 10, CONTAINER).socket(11, 5, 701)              // vLLM a: API server
                .process(12, 11, CONTAINER)                                 //   its worker on GPU 0
                .process(21, 10, CONTAINER).socket(21, 5, 702)              // vLLM b: API server
                .process(22, 21, CONTAINER).socket(22, 6, 703)              //   EngineCore with a TCPStore port, GPU 1
                .process(23, 22, CONTAINER)                                 //   a TP worker, GPU 1
                .process(30, 10, CONTAINER)                                 // TGI launcher: listens on nothing
                .process(31, 30, CONTAINER).socket(31, 5, 704)              //   the router
                .process(32, 30, CONTAINER)                                 //   a shard on GPU 0
                .listen(10, "0100007F", a.port(), 701)
                .listen(10, "0100007F", b.port(), 702)
                .listen(10, "00000000", 29500, 703)
                .listen(10, "0100007F", tgi.port(), 704);
        List<GpuSnapshot> gpus = List.of(
                GpuSnapshot.builder(0, Instant.EPOCH).uuid("GPU-0")
                        .processes(List.of(process(12, 20 * GIB), process(32, 5 * GIB))).build(),
                GpuSnapshot.builder(1, Instant.EPOCH).uuid("GPU-1")
                        .processes(List.of(process(22, 30 * GIB), process(23, 2 * GIB))).build());
        assertEquals(Map.of("a/0", 20.0 * GIB, "b/1", 32.0 * GIB, "tgi/0", 5.0 * GIB), modelGpuMemory(gpus, false,
                target("a", ServerType.VLLM, a), target("b", ServerType.VLLM, b), target("tgi", ServerType.TGI, tgi)));
    }

    @Test
    void discoveryAlsoGivesEachServerItsOwnGpuProcesses() throws Exception {
        FixtureServer a = fixture("vllm-v1");
        FixtureServer b = fixture("vllm-v0");
        new FakeProc(tmp.resolve("proc"))
                .netns("self", "net:[1]")
                .process(10, 1, CONTAINER).netns("10", "net:[1]")
                .process(11, 10, CONTAINER).socket(11, 5, 701)
                .process(12, 11, CONTAINER)
                .process(21, 10, CONTAINER).socket(21, 5, 702)
                .process(22, 21, CONTAINER)
                .listen(10, "0100007F", a.port(), 701)
                .listen(10, "0100007F", b.port(), 702);
        List<GpuSnapshot> gpus = List.of(GpuSnapshot.builder(0, Instant.EPOCH).uuid("GPU-0")
                .processes(List.of(process(12, 20 * GIB), process(22, 7 * GIB))).build());
        assertEquals(Map.of("vllm-" + a.port() + "/0", 20.0 * GIB, "vllm-" + b.port() + "/0", 7.0 * GIB),
                modelGpuMemory(gpus, true));
    }

    /**
     * One /proc scan and one poll of {@code targets} (and what discovery finds, when on) over the fake /proc, then
     * inference_model_gpu_memory_bytes as "target/gpu" → value.
     */
    private Map<String, Double> modelGpuMemory(List<GpuSnapshot> gpus, boolean discovery, TargetSettings... targets) {
        InferenceSettings settings = new InferenceSettings(List.of(targets),
                new InferenceSettings.Discovery(discovery, Duration.ofSeconds(30), tmp.resolve("proc")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofSeconds(5), 16L << 20, 10_000, false),
                new InferenceSettings.Attribution(false, Optional.empty()));
        try (ModelServers m = new ModelServers(settings, () -> gpus, Duration.ZERO)) {
            m.scanOnce();
            m.pollAll();
            return modelGpuMemory(Scrapes.scrape(m.collector()));
        }
    }

    private static Map<String, Double> modelGpuMemory(String scrape) {
        Map<String, Double> out = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^inference_model_gpu_memory_bytes\\{([^}]*)\\} (\\S+)$").matcher(scrape);
        while (m.find()) {
            String labels = m.group(1);
            out.put(label(labels, "target") + "/" + label(labels, "gpu"), Double.parseDouble(m.group(2)));
        }
        return out;
    }

    private static String label(String labels, String name) {
        Matcher m = Pattern.compile("(?:^|,)" + name + "=\"([^\"]*)\"").matcher(labels);
        if (!m.find()) {
            throw new AssertionError(name + " missing in {" + labels + "}");
        }
        return m.group(1);
    }

    private FixtureServer fixture(String name) throws Exception {
        FixtureServer s = new FixtureServer(FIXTURES.resolve(name));
        closing.add(s);
        return s;
    }

    private static TargetSettings target(String name, ServerType type, FixtureServer s) {
        URI u = URI.create(s.url());
        return new TargetSettings(name, type, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(5),
                Optional.empty(), Map.of(), false, false);
    }

    private static GpuProcess process(int pid, long bytes) {
        return new GpuProcess(pid, Optional.of("python3"), OptionalLong.of(bytes), OptionalInt.empty(), OptionalInt.empty());
    }
}
