package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.prometheus.Promtool;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every adapter active at once against local servers answering from the fixtures, a fake /proc that ties GPU
 * processes to the servers and to a pod, and a fake Kubernetes API: the scrape joins them and passes promtool.
 */
class EndToEndTest {
    private static final Path FIXTURES = Path.of("src/test/resources/inference");
    private static final String POD_UID = "0f6c2a1e-7b3d-4c8e-9a5f-1d2e3c4b5a69";
    private static final String CONTAINER = "c".repeat(64);
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final AtomicReference<String> authorization = new AtomicReference<>("");

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private FixtureServer fixture(String name) throws Exception {
        FixtureServer s = new FixtureServer(FIXTURES.resolve(name));
        closing.add(s);
        return s;
    }

    private static TargetSettings target(String name, ServerType type, FixtureServer s, Map<String, String> labels) {
        URI u = URI.create(s.url());
        Optional<URI> metrics = type == ServerType.OLLAMA ? Optional.empty() : Optional.of(u.resolve("/metrics"));
        return new TargetSettings(name, type, u, metrics, Duration.ofSeconds(5), Optional.of("Bearer x"), labels,
                false, false);
    }

    private static GpuProcess process(int pid, long bytes) {
        return new GpuProcess(pid, Optional.of("python3"), OptionalLong.of(bytes), OptionalInt.empty(), OptionalInt.empty());
    }

    private URI kubernetesApi() throws Exception {
        HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        api.createContext("/api/v1/pods", ex -> {
            authorization.set(ex.getRequestHeaders().getFirst("Authorization") + " " + ex.getRequestURI().getQuery());
            byte[] body = ("""
                    {"kind":"PodList","items":[
                     {"metadata":{"name":"llama-70b-6d5f7c9b8-x2k4p","namespace":"serving","uid":"%s"},
                      "status":{"containerStatuses":[{"name":"vllm","containerID":"containerd://%s"}]}},
                     {"metadata":{"name":"other","namespace":"default","uid":"11111111-2222-3333-4444-555555555555"},
                      "status":{}}]}
                    """).formatted(POD_UID, CONTAINER).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        api.start();
        closing.add(() -> api.stop(0));
        return URI.create("http://127.0.0.1:" + api.getAddress().getPort());
    }

    @Test
    void everyAdapterJoinedWithGpusPodsAndDiscoveryPassesPromtool() throws Exception {
        FixtureServer vllm = fixture("vllm-v1");
        FixtureServer discoveredVllm = fixture("vllm-v0");
        List<TargetSettings> targets = List.of(
                target("llama-70b", ServerType.VLLM, vllm, Map.of("team", "search")),
                target("sglang", ServerType.SGLANG, fixture("sglang-new"), Map.of()),
                target("tgi", ServerType.TGI, fixture("tgi"), Map.of()),
                target("triton", ServerType.TRITON, fixture("triton-trtllm"), Map.of()),
                target("torchserve", ServerType.TORCHSERVE, fixture("torchserve"), Map.of()),
                target("ollama", ServerType.OLLAMA, fixture("ollama"), Map.of()),
                target("llamacpp", ServerType.LLAMACPP, fixture("llamacpp-old"), Map.of()));

        String podCgroup = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + POD_UID.replace('-', '_') + ".slice/cri-containerd-" + CONTAINER + ".scope";
        new FakeProc(tmp.resolve("proc"))
                .netns("self", "net:[1]")
                // the configured vLLM: API server 100 on 127.0.0.1:<port>, workers 101 and 102 on the GPUs
                .process(100, 1, podCgroup).process(101, 100, podCgroup).process(102, 100, podCgroup)
                .netns("100", "net:[1]").socket(100, 5, 700)
                .listen(100, "0100007F", vllm.port(), 700)
                // an unconfigured vLLM found by discovery
                .process(400, 1, "0::/system.slice/vllm-small.service")
                .netns("400", "net:[1]").socket(400, 5, 800)
                .listen(400, "00000000", discoveredVllm.port(), 800);
        Path token = tmp.resolve("token");
        Files.writeString(token, "sa-token");

        InferenceSettings settings = new InferenceSettings(targets,
                new InferenceSettings.Discovery(true, Duration.ofSeconds(30), tmp.resolve("proc")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofSeconds(5), 16L << 20, 10_000, false),
                new InferenceSettings.Attribution(true, Optional.of(new InferenceSettings.Kubernetes(kubernetesApi(),
                        "gpu-node-3", token, Optional.empty(), Duration.ofMinutes(1)))));
        List<GpuSnapshot> gpus = List.of(
                GpuSnapshot.builder(0, Instant.EPOCH).uuid("GPU-00000000-0000-0000-0000-000000000000")
                        .processes(List.of(process(101, 40 * GIB).withUtilization(0.5, 0.125), process(400, 10 * GIB))).build(),
                GpuSnapshot.builder(1, Instant.EPOCH).uuid("GPU-11111111-1111-1111-1111-111111111111")
                        .processes(List.of(process(102, 38 * GIB).withUtilization(0.25, 0.5), process(9999, GIB))).build());

        try (ModelServers m = new ModelServers(settings, () -> gpus, Duration.ZERO)) {
            m.scanOnce();
            m.pollAll();
            String scrape = Scrapes.scrape(m.collector());

            assertEquals("Bearer sa-token fieldSelector=spec.nodeName=gpu-node-3", authorization.get());
            String discovered = "vllm-" + discoveredVllm.port();
            for (String name : List.of("llama-70b", "sglang", "tgi", "triton", "torchserve", "ollama", "llamacpp", discovered)) {
                assertTrue(java.util.regex.Pattern.compile("(?m)^inference_target_up\\{[^}]*target=\"" + name
                        + "\"[^}]*\\} 1.0$").matcher(scrape).find(), name + " not up:\n" + scrape);
            }
            assertTrue(scrape.contains("inference_model_gpu_memory_bytes{gpu=\"0\",model=\"llama-70b\",server=\"vllm\","
                    + "target=\"llama-70b\",team=\"search\",uuid=\"GPU-00000000-0000-0000-0000-000000000000\"} 4.294967296E10"), scrape);
            assertTrue(scrape.contains("inference_model_gpu_memory_bytes{gpu=\"1\",model=\"llama-70b\",server=\"vllm\","
                    + "target=\"llama-70b\",team=\"search\",uuid=\"GPU-11111111-1111-1111-1111-111111111111\"} 4.0802189312E10"), scrape);
            assertTrue(scrape.contains("inference_model_gpu_memory_bytes{gpu=\"0\",model=\"meta-llama/Llama-2-7b-hf\","
                    + "server=\"vllm\",target=\"" + discovered + "\",uuid=\"GPU-00000000-0000-0000-0000-000000000000\"} 1.073741824E10"), scrape);
            assertTrue(scrape.contains("inference_container_gpu_memory_bytes{container=\"vllm\",container_id=\"containerd://"
                    + CONTAINER + "\",gpu=\"1\",namespace=\"serving\",pod=\"llama-70b-6d5f7c9b8-x2k4p\",pod_uid=\"" + POD_UID
                    + "\",uuid=\"GPU-11111111-1111-1111-1111-111111111111\"} 4.0802189312E10"), scrape);
            assertTrue(scrape.contains("inference_pod_gpu_memory_bytes{gpu=\"0\",namespace=\"serving\",pod=\"llama-70b-6d5f7c9b8-x2k4p\","
                    + "pod_uid=\"" + POD_UID + "\",uuid=\"GPU-00000000-0000-0000-0000-000000000000\"} 4.294967296E10"), scrape);
            // SM utilisation joins the same way; the discovered server's process had no sample: no series, not 0
            assertEquals(List.of(
                    "inference_model_gpu_sm_utilization_ratio{gpu=\"0\",model=\"llama-70b\",server=\"vllm\",target=\"llama-70b\","
                            + "team=\"search\",uuid=\"GPU-00000000-0000-0000-0000-000000000000\"} 0.5",
                    "inference_model_gpu_sm_utilization_ratio{gpu=\"1\",model=\"llama-70b\",server=\"vllm\",target=\"llama-70b\","
                            + "team=\"search\",uuid=\"GPU-11111111-1111-1111-1111-111111111111\"} 0.25"),
                    dataLines(scrape, "inference_model_gpu_sm_utilization_ratio{"));
            assertEquals(List.of(
                    "inference_pod_gpu_sm_utilization_ratio{gpu=\"0\",namespace=\"serving\",pod=\"llama-70b-6d5f7c9b8-x2k4p\","
                            + "pod_uid=\"" + POD_UID + "\",uuid=\"GPU-00000000-0000-0000-0000-000000000000\"} 0.5",
                    "inference_pod_gpu_sm_utilization_ratio{gpu=\"1\",namespace=\"serving\",pod=\"llama-70b-6d5f7c9b8-x2k4p\","
                            + "pod_uid=\"" + POD_UID + "\",uuid=\"GPU-11111111-1111-1111-1111-111111111111\"} 0.25"),
                    dataLines(scrape, "inference_pod_gpu_sm_utilization_ratio{"));
            assertTrue(scrape.contains("inference_container_gpu_sm_utilization_ratio{container=\"vllm\",container_id=\"containerd://"
                    + CONTAINER + "\",gpu=\"1\",namespace=\"serving\",pod=\"llama-70b-6d5f7c9b8-x2k4p\",pod_uid=\"" + POD_UID
                    + "\",uuid=\"GPU-11111111-1111-1111-1111-111111111111\"} 0.25"), scrape);

            ChildProcess.Finished lint = Promtool.checkMetrics(scrape);
            assertEquals("", lint.output().strip(), "promtool check metrics:\n" + lint.output());
            assertEquals(0, lint.exitCode());
        }
    }

    private static List<String> dataLines(String scrape, String prefix) {
        return scrape.lines().filter(l -> l.startsWith(prefix)).toList();
    }
}
