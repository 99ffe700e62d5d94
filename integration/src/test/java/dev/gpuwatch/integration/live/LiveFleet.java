package dev.gpuwatch.integration.live;

import dev.gpuwatch.testkit.modelserver.SimulatedModelServer;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The products, really running on this machine, each in a JVM of its own started from the test classpath:
 *
 * <ul>
 *   <li>two simulated model servers, one vLLM-shaped and one Triton-shaped;
 *   <li>the exporter on a simulated fleet of two GPUs, in the {@code xid-errors} scenario with the fault at start
 *       (so {@code gpu_xid_errors_total} exists from the first sample), polling both model servers; the vLLM
 *       server's JVM is shown as GPU 0's process ({@code --gpu.simulated.model-server-pid}), so the exporter's
 *       /proc scan joins it with its target and {@code inference_model_gpu_memory_bytes} is real;
 *   <li>a second exporter on the stub NVML and CUDA drivers (gpu-probe/src/test/c) with the active CUDA health
 *       check on: the simulated fleet never simulates CUDA, the stub driver runs the real check's calls;
 *   <li>the receiver, fed a few notifications so that its conditional series exist: deliveries to the log
 *       channel (some folded into a storm digest by a low rate limit), retries to a Slack that refuses
 *       connections, and an alert without a runbook.
 * </ul>
 *
 * Started once per test run by {@link Extension} (the first class that asks for it) and stopped when the run
 * ends, so the classes that scrape it do not pay for the JVM starts twice.
 */
public final class LiveFleet implements AutoCloseable {

    public static final String EXPORTER_JOB = "gpuwatch-exporter";
    public static final String RECEIVER_JOB = "gpuwatch-receiver";
    public static final String MODEL_SERVER_JOB = "model-server";
    /** How often {@link #startPrometheus}'s Prometheus scrapes and evaluates. */
    public static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(1);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern EXPORTER_PORT = Pattern.compile("open http://127\\.0\\.0\\.1:(\\d+)/");
    private static final Pattern RECEIVER_PORT = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern MODEL_SERVER_PORT = Pattern.compile("model\\(s\\) on 127\\.0\\.0\\.1:(\\d+)");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Path dir;
    private final List<ChildProcess> processes = new ArrayList<>();
    private long vllmPid;
    private String vllm = "";
    private String triton = "";
    private String exporter = "";
    private String cudaExporter = "";
    private String receiver = "";

    private LiveFleet(Path dir) {
        this.dir = dir;
    }

    public static LiveFleet start() {
        Path dir;
        try {
            dir = Files.createTempDirectory("gpuwatch-live-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LiveFleet fleet = new LiveFleet(dir);
        try {
            fleet.startAll();
            return fleet;
        } catch (RuntimeException | Error e) {
            fleet.close();
            throw e;
        }
    }

    private void startAll() {
        // Every process binds port 0 and prints the port it got: no race for a "free" port.
        ChildProcess vllmServer = java("vllm", SIMULATED_MODEL_SERVER, List.of(),
                List.of("--web.listen-address=127.0.0.1:0", "--kind=vllm", "--model=llama-70b", "--models=2"), Map.of());
        ChildProcess tritonServer = java("triton", SIMULATED_MODEL_SERVER, List.of(),
                List.of("--web.listen-address=127.0.0.1:0", "--kind=triton", "--model=ensemble"), Map.of());
        ChildProcess receiverProcess = java("receiver", "dev.gpuwatch.receiver.ReceiverMain", List.of(),
                List.of("--web.listen-address=127.0.0.1:0", "--storage.path=" + dir.resolve("receiver.db"),
                        "--config.file=" + write("receiver.yml", RECEIVER_CONFIG.formatted(
                                write("catalog.yml", RUNBOOK_CATALOG).toAbsolutePath()))),
                Map.of("GPUWATCH_LIVE_SLACK_TOKEN", "xoxb-live-test"));
        Path stubs = Path.of(System.getProperty("gpuwatch.stubs.dir", "target/stubs")).toAbsolutePath();
        ChildProcess cudaProcess = java("exporter-cuda-stub", EXPORTER_MAIN, List.of(),
                List.of("--web.listen-address=127.0.0.1:0", "--gpu.backend=nvml",
                        "--gpu.nvml.library=" + stubs.resolve("libnvidia-ml.so.1"), "--gpu.sample-interval=1s",
                        "--cuda.health-check", "--cuda.health-check.interval=1s"),
                // libJCudaDriver's DT_NEEDED libcuda.so.1 is found through the dynamic loader: the stub here.
                Map.of("LD_LIBRARY_PATH", stubs.toString()));
        vllmPid = vllmServer.pid();
        vllm = "127.0.0.1:" + vllmServer.await(MODEL_SERVER_PORT, START_TIMEOUT);
        triton = "127.0.0.1:" + tritonServer.await(MODEL_SERVER_PORT, START_TIMEOUT);
        String config = """
                model_server_discovery:
                  enabled: false       # only the two configured targets: nothing else found on this machine's /proc
                  interval: 2s         # the /proc scan that joins GPU 0's process with vllm-sim, soon after start
                  poll_interval: 1s
                model_servers:
                  # the GPU process is the vLLM server's JVM. Both servers are children of the test JVM (one tree,
                  # one cgroup), and Triton is listed first on purpose: the process must still go to vllm-sim, the
                  # target whose port it listens on itself (ModelGpuMemoryTest)
                  - name: triton-sim
                    type: triton
                    url: http://%s
                    metrics_url: http://%s/metrics   # the simulated Triton serves metrics on its HTTP port
                  - name: vllm-sim
                    type: vllm
                    url: http://%s
                """.formatted(triton, triton, vllm);
        ChildProcess exporterProcess = java("exporter", EXPORTER_MAIN, List.of(),
                List.of("--web.listen-address=127.0.0.1:0", "--gpu.backend=simulated", "--gpu.simulated.devices=2",
                        "--gpu.sample-interval=1s", "--gpu.simulated.scenario=xid-errors",
                        "--gpu.simulated.fault-after=0s", "--config.file=" + write("exporter.yml", config),
                        "--gpu.simulated.model-server-pid=" + vllmServer.pid() + "@" + MODEL_SERVER_GPU),
                Map.of());
        receiver = "127.0.0.1:" + receiverProcess.await(RECEIVER_PORT, START_TIMEOUT);
        cudaExporter = "127.0.0.1:" + cudaProcess.await(EXPORTER_PORT, START_TIMEOUT);
        exporter = "127.0.0.1:" + exporterProcess.await(EXPORTER_PORT, START_TIMEOUT);
        notifyReceiver("start");
    }

    /** The simulated GPU the vLLM server's JVM is shown on. */
    public static final int MODEL_SERVER_GPU = 0;

    private static final String EXPORTER_MAIN = "dev.gpuwatch.exporter.ExporterMain";
    private static final String SIMULATED_MODEL_SERVER = SimulatedModelServer.class.getName();

    /** Runbooks for gpuwatch's own alerts only, no catch-all: the test alert is delivered without a runbook. */
    private static final String RUNBOOK_CATALOG = """
            entries:
              - match:
                  matchers: ['alertname=~"Gpu.*|Inference.*"']
                runbook_url: "{runbook_base_url}/{alertname_lower}.md"
            """;

    /**
     * Every notification goes to the log and to a Slack bot that refuses connections (port 1: retries, never a
     * dead letter within max_age). The log channel is rate-limited with the smallest digest threshold, so a burst
     * of notifications is folded into a storm digest.
     */
    private static final String RECEIVER_CONFIG = """
            dispatch:
              backoff_initial: 1s
              backoff_max: 2s
              rate_limits:
                log: 0.2
              digest_threshold: 2
            enrichment:
              catalog_file: %s
            route:
              receiver: ops
            receivers:
              - name: ops
                log_configs:
                  - {}
                slack_configs:
                  - bot_token_env: GPUWATCH_LIVE_SLACK_TOKEN
                    channel: C0LIVE
                    api_url: http://127.0.0.1:1/api/
            """;

    /**
     * Posts a burst of six notifications, as Alertmanager would: delivered to the log (the burst folded into a
     * digest), retried on the unreachable Slack, each alert without a runbook. {@code batch} makes the group keys
     * new, so a later burst is not a duplicate of an earlier one.
     */
    public void notifyReceiver(String batch) {
        for (int i = 1; i <= 6; i++) {
            // No runbook_url, and a name no catalog knows: delivered "without a runbook".
            String body = """
                    {"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{alertname=\\"LiveTestAlert\\", n=\\"%s-%d\\"}",
                     "groupLabels":{"alertname":"LiveTestAlert"},"commonLabels":{},"commonAnnotations":{},
                     "externalURL":"http://alertmanager.invalid","truncatedAlerts":0,
                     "alerts":[{"status":"firing","labels":{"alertname":"LiveTestAlert","severity":"warning","n":"%s-%d"},
                                "annotations":{"summary":"live test"},"startsAt":"2025-01-01T00:00:00Z",
                                "endsAt":"0001-01-01T00:00:00Z"}]}
                    """.formatted(batch, i, batch, i);
            HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create("http://" + receiver + "/api/v1/alerts"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("receiver answered " + response.statusCode() + ": " + response.body());
            }
        }
    }

    /** host:port of the exporter on the simulated fleet. */
    public String exporter() {
        return exporter;
    }

    /** host:port of the exporter on the stub NVML and CUDA drivers. */
    public String cudaExporter() {
        return cudaExporter;
    }

    public String receiver() {
        return receiver;
    }

    /** The pid of the vLLM server's JVM, which the simulated fleet shows on {@link #MODEL_SERVER_GPU}. */
    public long vllmPid() {
        return vllmPid;
    }

    public List<String> modelServers() {
        return List.of(vllm, triton);
    }

    /** Scrape targets by the job names the rules expect (rules/README.md). */
    public Map<String, List<String>> jobs() {
        Map<String, List<String>> jobs = new LinkedHashMap<>();
        jobs.put(EXPORTER_JOB, List.of(exporter, cudaExporter));
        jobs.put(RECEIVER_JOB, List.of(receiver));
        jobs.put(MODEL_SERVER_JOB, List.of(vllm, triton));
        return jobs;
    }

    /** What GET /metrics answers now (the failure message holds every process's log on an error). */
    public String scrape(String hostPort) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create("http://" + hostPort + "/metrics"))
                .timeout(Duration.ofSeconds(10)).GET().build());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET http://" + hostPort + "/metrics: " + response.statusCode() + "\n"
                    + logs());
        }
        return response.body();
    }

    /**
     * A real Prometheus scraping every process of the fleet each {@link #SCRAPE_INTERVAL} under {@link #jobs()}
     * and loading {@code ruleFiles}; the caller closes it, and its data goes with the fleet's directory.
     */
    public Prometheus startPrometheus(List<Path> ruleFiles) {
        String scrapeConfigs = jobs().entrySet().stream()
                .map(job -> "  - job_name: " + job.getKey() + "\n    static_configs:\n      - targets: ["
                        + job.getValue().stream().map(t -> "'" + t + "'").collect(Collectors.joining(", ")) + "]\n")
                .collect(Collectors.joining());
        String rules = ruleFiles.stream().map(f -> "  - '" + f.toAbsolutePath() + "'\n").collect(Collectors.joining());
        String seconds = SCRAPE_INTERVAL.toSeconds() + "s";
        Path config = write("prometheus.yml", "global:\n  scrape_interval: " + seconds + "\n  scrape_timeout: " + seconds
                + "\n  evaluation_interval: " + seconds + "\nrule_files:\n" + rules + "scrape_configs:\n" + scrapeConfigs);
        return Prometheus.start(ServerOptions.of(config, dir.resolve("prometheus-data"), dir.resolve("prometheus.log")));
    }

    /** The last lines of every process's output. */
    public String logs() {
        StringBuilder all = new StringBuilder();
        processes.forEach(p -> all.append("--- ").append(p).append(" (").append(p.log()).append(") ---\n")
                .append(p.tail(60)).append('\n'));
        return all.toString();
    }

    public Path dir() {
        return dir;
    }

    private ChildProcess java(String name, String mainClass, List<String> jvmOptions, List<String> args,
            Map<String, String> env) {
        Path tmp = dir.resolve(name + "-tmp");
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> options = new ArrayList<>(jvmOptions);
        // Small heaps and one GC thread: up to six of these JVMs share two cores with Prometheus.
        options.addAll(List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"));
        // A private java.io.tmpdir: JCuda extracts its natives there, and nothing is left behind.
        options.add("-Djava.io.tmpdir=" + tmp);
        ChildProcess p = ChildProcess.start(Command.java(name, options, mainClass, args).in(dir).withEnvironment(env),
                dir.resolve(name + ".log"));
        processes.add(p);
        return p;
    }

    private Path write(String name, String content) {
        try {
            return Files.writeString(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        for (ChildProcess p : processes.reversed()) {
            p.close();
        }
        deleteRecursively(dir);
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Only temp files are left behind.
        }
    }

    /**
     * Resolves a {@link LiveFleet} parameter (e.g. of a static {@code @BeforeAll} method): one fleet for the whole
     * test run, closed by JUnit when the run ends.
     */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == LiveFleet.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                    .getOrComputeIfAbsent(LiveFleet.class, k -> LiveFleet.start(), LiveFleet.class);
        }
    }
}
