package dev.gpuwatch.integration.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.integration.dashboards.Dashboards;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import java.io.IOException;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The queries of dcgm-exporter's published Grafana dashboard (NVIDIA/dcgm-exporter, grafana/dcgm-exporter-dashboard.json,
 * "NVIDIA DCGM Exporter Dashboard", Grafana id 12239), written down here as data, run unchanged through a real
 * Prometheus that scrapes the exporter with {@code --compat.dcgm-exporter} on the simulated fleet: each must
 * return data. The dashboard's variables are filled as Grafana fills them: {@code $Hostname} and {@code $gpu} from
 * their own label_values queries, all values selected ({@code (a|b)}).
 */
class DcgmExporterDashboardTest {
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final Pattern EXPORTER_PORT = Pattern.compile("open http://127\\.0\\.0\\.1:(\\d+)/");

    /** One target of one panel of the dashboard, its PromQL exactly as published. */
    record Query(String panel, String expr) {}

    /** The dashboard's variables: name, the metric of its label_values query, and its matchers. */
    record Variable(String name, String metric, String matchers) {}

    static final List<Variable> VARIABLES = List.of(
            new Variable("Hostname", "DCGM_FI_DEV_FB_FREE", ""),
            new Variable("gpu", "DCGM_FI_DEV_FB_FREE", "{Hostname=~\"$Hostname\"}"));

    static final List<Query> QUERIES = List.of(
            new Query("GPU Temperature", "max(DCGM_FI_DEV_GPU_TEMP{Hostname=~\"$Hostname\", gpu=~\"$gpu\"}) by (Hostname, gpu, uuid)"),
            new Query("GPU Avg. Temp", "avg(DCGM_FI_DEV_GPU_TEMP{Hostname=~\"$Hostname\", gpu=~\"$gpu\"})"),
            new Query("GPU Power Usage", "max(DCGM_FI_DEV_POWER_USAGE{Hostname=~\"$Hostname\", gpu=~\"$gpu\"}) by (Hostname, gpu, uuid)"),
            new Query("GPU Power Total", "sum(max(DCGM_FI_DEV_POWER_USAGE{Hostname=~\"$Hostname\", gpu=~\"$gpu\"}) by (gpu))"),
            new Query("GPU SM Clocks", "max(DCGM_FI_DEV_SM_CLOCK{Hostname=~\"$Hostname\", gpu=~\"$gpu\"} * 1000000) by (Hostname, UUID, gpu)"),
            // needs GPM values from the simulated fleet
            new Query("GPU Utilization", "max(DCGM_FI_PROF_GR_ENGINE_ACTIVE{Hostname=~\"$Hostname\", gpu=~\"$gpu\"}) by (Hostname, gpu, GPU_I_ID, GPU_I_PROFILE)"),
            // needs GPM values from the simulated fleet
            new Query("Tensor Core Utilization", "max(DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{Hostname=~\"$Hostname\", gpu=~\"$gpu\"}) by (Hostname, gpu, GPU_I_ID, GPU_I_PROFILE)"),
            new Query("GPU Framebuffer Mem Used", "max(DCGM_FI_DEV_FB_USED{Hostname=~\"$Hostname\", gpu=~\"$gpu\"}) by (Hostname, gpu, GPU_I_ID, GPU_I_PROFILE)"));

    private static Path dir;
    private static ChildProcess exporter;
    private static Prometheus prometheus;
    private static final Map<String, String> variables = new LinkedHashMap<>();
    private static final Map<Query, JsonNode> answers = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("gpuwatch-dcgm-");
        exporter = ChildProcess.start(Command.java("exporter-dcgm-compat",
                List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), "dev.gpuwatch.exporter.ExporterMain",
                List.of("--web.listen-address=127.0.0.1:0", "--gpu.backend=simulated", "--gpu.simulated.devices=2",
                        "--gpu.sample-interval=1s", "--compat.dcgm-exporter")).in(dir), dir.resolve("exporter.log"));
        String target = "127.0.0.1:" + exporter.await(EXPORTER_PORT, DEADLINE);
        Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
                scrape_configs:
                  - job_name: dcgm-exporter     # the job name dcgm-exporter's Helm chart uses
                    static_configs:
                      - targets: ['%s']
                """.formatted(target));
        prometheus = Prometheus.start(ServerOptions.of(config, dir.resolve("prometheus-data"), dir.resolve("prometheus.log")));
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        boolean complete;
        do {
            Thread.sleep(2000);
            complete = fillVariables();
            for (Query q : QUERIES) {
                JsonNode answer = prometheus.query(withVariables(q.expr()));
                answers.put(q, answer);
                complete &= Dashboards.hasData(answer);
            }
        } while (!complete && System.nanoTime() < deadline);
    }

    @AfterAll
    static void stop() throws IOException {
        if (prometheus != null) {
            prometheus.close();
        }
        if (exporter != null) {
            exporter.close();
        }
        if (dir != null) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyDashboardVariableFindsValues() {
        return VARIABLES.stream().map(v -> DynamicTest.dynamicTest("$" + v.name(), () ->
                assertFalse(variables.getOrDefault(v.name(), "").isEmpty(),
                        () -> "label_values(" + v.metric() + withVariables(v.matchers()) + ", " + v.name()
                                + ") is empty\n" + exporter.tail(40))));
    }

    @TestFactory
    Stream<DynamicTest> everyDashboardQueryReturnsData() {
        assertEquals(QUERIES.size(), answers.size(), "every query was run");
        return answers.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey().panel(), () -> {
            String expr = withVariables(e.getKey().expr());
            JsonNode answer = e.getValue();
            assertEquals("success", answer.path("status").asText(), () -> expr + "\n  does not run: " + answer.path("error"));
            assertTrue(Dashboards.hasData(answer), () -> expr + "\n  returns no data: " + answer.path("data").path("result"));
        }));
    }

    /** Grafana's label_values(metric{matchers}, label) with every value selected: {@code (a|b)}. */
    private static boolean fillVariables() {
        for (Variable v : VARIABLES) {
            JsonNode values = prometheus.api("label/" + v.name() + "/values",
                    Map.of("match[]", v.metric() + withVariables(v.matchers()))).path("data");
            List<String> all = new ArrayList<>();
            values.forEach(n -> all.add(regexQuote(n.asText())));
            if (all.isEmpty()) {
                return false;
            }
            variables.put(v.name(), all.size() == 1 ? all.get(0) : all.stream().collect(Collectors.joining("|", "(", ")")));
        }
        return true;
    }

    /** As Grafana escapes a multi-value variable: regex metacharacters with a backslash, doubled inside "...". */
    private static String regexQuote(String value) {
        return value.replaceAll("([\\\\.+*?()|\\[\\]{}^$])", "\\\\\\\\$1");
    }

    private static String withVariables(String expr) {
        String out = expr;
        for (Map.Entry<String, String> v : variables.entrySet()) {
            out = out.replace("$" + v.getKey(), v.getValue());
        }
        return out;
    }
}
