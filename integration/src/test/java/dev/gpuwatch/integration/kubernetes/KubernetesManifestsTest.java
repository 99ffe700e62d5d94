package dev.gpuwatch.integration.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.integration.rules.RuleFiles;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.config.ReceiverConfig;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.prometheus.Promtool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/kubernetes without a cluster: every overlay renders with {@code kubectl kustomize}; every rendered object
 * passes the Kubernetes and Prometheus Operator schemas (deploy/kubernetes/validate: kubernetes-models and
 * &#64;kubernetes-models/prometheus-operator under node); the PrometheusRule's groups are exactly those of
 * rules/*.rules.yml and pass {@code promtool check rules}; each dashboard ConfigMap holds its dashboards/ file
 * byte for byte; the images are the project's version; and the generated files are what
 * ./scripts/generate-kubernetes writes now.
 */
class KubernetesManifestsTest {

    private static final String REGENERATE = "./scripts/generate-kubernetes";
    private static final Path KUBERNETES = Repository.path("deploy/kubernetes");
    private static final Path GENERATED = KUBERNETES.resolve("base/monitoring");
    private static final Path VALIDATOR = KUBERNETES.resolve("validate");
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The Helm chart's Prometheus selects ServiceMonitors and PrometheusRules by this label only. */
    private static final Map<String, String> KUBE_PROMETHEUS_STACK = Map.of("release", "kube-prometheus-stack");

    private static Map<String, List<JsonNode>> rendered;

    @BeforeAll
    static void render(@TempDir Path dir) {
        rendered = new TreeMap<>();
        for (Path overlay : overlays()) {
            Path out = dir.resolve(overlay.getFileName() + ".yaml");
            run("kubectl", List.of("kubectl", "kustomize", overlay.toString(), "--output", out.toString()));
            rendered.put(overlay.getFileName().toString(), documents(out));
        }
    }

    @Test
    void theGeneratedFilesAreUpToDate(@TempDir Path dir) throws IOException {
        run("bash", List.of("bash", Repository.path("scripts/generate-kubernetes").toString(), dir.toString()));
        List<String> drift = new ArrayList<>();
        for (Path file : union(list(dir), list(GENERATED))) {
            Path fresh = dir.resolve(file);
            Path committed = GENERATED.resolve(file);
            if (!Files.exists(committed) || !Files.exists(fresh) || Files.mismatch(fresh, committed) != -1) {
                drift.add(Repository.root().relativize(committed).toString());
            }
        }
        assertEquals(List.of(), drift, () -> "out of date with rules/ and dashboards/: run " + REGENERATE
                + " and commit what it writes");
    }

    @TestFactory
    Stream<DynamicNode> everyOverlay() {
        assertFalse(rendered.isEmpty(), "no overlay under deploy/kubernetes");
        return rendered.entrySet().stream().map(e -> DynamicContainer.dynamicContainer(e.getKey(), Stream.of(
                dynamicTest("its objects pass the Kubernetes and Prometheus Operator schemas", () -> validate(e.getValue())),
                dynamicTest("it has the exporter DaemonSet and both ServiceMonitors", () -> assertWorkloads(e.getValue())),
                dynamicTest("its PrometheusRule holds exactly the groups of rules/", () -> assertRules(e.getValue())),
                dynamicTest("its PrometheusRule passes promtool check rules", () -> assertPromtool(e.getValue())),
                dynamicTest("each dashboard ConfigMap holds its dashboards/ file", () -> assertDashboards(e.getValue())),
                dynamicTest("the receiver accepts its receiver.yml", () -> receiverConfig(e.getValue())),
                dynamicTest("its images are this version", () -> assertImages(e.getValue())))));
    }

    @Test
    void kubePrometheusStackLabelsWhatItsPrometheusSelects() {
        List<String> unlabelled = rendered.get("kube-prometheus-stack").stream()
                .filter(o -> List.of("ServiceMonitor", "PrometheusRule").contains(o.path("kind").asText()))
                .filter(o -> !KUBE_PROMETHEUS_STACK.get("release")
                        .equals(o.path("metadata").path("labels").path("release").asText()))
                .map(KubernetesManifestsTest::name)
                .toList();
        assertEquals(List.of(), unlabelled, "objects without release=kube-prometheus-stack");
    }

    /**
     * The replicas overlay: several receivers on PostgreSQL, so no SQLite file, flag or claim is left over from the
     * single-replica base, and a drain cannot take more than one replica at a time.
     */
    @Test
    void thePostgresOverlayRunsReplicasOnTheSharedStore() throws ConfigException {
        List<JsonNode> objects = rendered.get("postgres");
        assertTrue(receiverConfig(objects).storage().shared().isPresent(), "receiver.yml without storage.postgres");
        JsonNode deployment = objects.stream().filter(o -> name(o).equals("Deployment/gpuwatch-receiver"))
                .findFirst().orElseThrow();
        assertTrue(deployment.path("spec").path("replicas").asInt() >= 2, "replicas");
        assertEquals("RollingUpdate", deployment.path("spec").path("strategy").path("type").asText());
        JsonNode container = deployment.path("spec").path("template").path("spec").path("containers").get(0);
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        assertEquals(List.of(), args.stream().filter(a -> a.startsWith("--storage.path")).toList());
        List<String> mounts = new ArrayList<>();
        container.path("volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
        assertEquals(List.of("/etc/gpuwatch/config", "/etc/gpuwatch/secrets", "/tmp"), mounts);
        assertEquals(List.of(), names(objects, "PersistentVolumeClaim"));
        JsonNode budget = objects.stream().filter(o -> name(o).equals("PodDisruptionBudget/gpuwatch-receiver"))
                .findFirst().orElseThrow();
        assertEquals(deployment.path("spec").path("selector"), budget.path("spec").path("selector"));
        assertEquals(1, budget.path("spec").path("maxUnavailable").asInt());
    }

    /** The ConfigMap's receiver.yml through the receiver's own loader: what the pod would refuse at start. */
    private static ReceiverConfig receiverConfig(List<JsonNode> objects) throws ConfigException {
        JsonNode map = objects.stream().filter(o -> name(o).equals("ConfigMap/gpuwatch-receiver"))
                .findFirst().orElseThrow(() -> new AssertionError("no ConfigMap/gpuwatch-receiver"));
        return ConfigLoader.parse("receiver.yml", map.path("data").path("receiver.yml").asText()).value();
    }

    private static void validate(List<JsonNode> objects) throws IOException {
        if (!Files.isDirectory(VALIDATOR.resolve("node_modules"))) {
            throw new AssertionError("the schema validator is not installed: ./scripts/test installs it "
                    + "(npm ci --prefix deploy/kubernetes/validate)");
        }
        ArrayNode array = JSON.createArrayNode();
        objects.forEach(array::add);
        ChildProcess.Finished result = ChildProcess.run(
                Command.of("node", List.of("node", VALIDATOR.resolve("validate.mjs").toString())).in(VALIDATOR),
                JSON.writeValueAsString(array), TIMEOUT);
        assertEquals(0, result.exitCode(), () -> "schema problems:\n" + result.output());
    }

    private static void assertWorkloads(List<JsonNode> objects) {
        assertEquals(List.of("DaemonSet/gpuwatch-exporter"), names(objects, "DaemonSet"));
        assertEquals(List.of("Deployment/gpuwatch-receiver"), names(objects, "Deployment"));
        assertEquals(List.of("ServiceMonitor/gpuwatch-exporter", "ServiceMonitor/gpuwatch-receiver"),
                names(objects, "ServiceMonitor"));
    }

    private static void assertRules(List<JsonNode> objects) {
        ArrayNode expected = JSON.createArrayNode();
        for (Path file : RuleFiles.ruleFiles()) {
            read(file).path("groups").forEach(expected::add);
        }
        assertEquals(expected, prometheusRule(objects).path("spec").path("groups"),
                () -> "run " + REGENERATE + " after changing rules/");
    }

    private static void assertPromtool(List<JsonNode> objects) throws IOException {
        Path dir = Files.createTempDirectory("gpuwatch-prometheusrule");
        Path file = dir.resolve("prometheusrule.rules.yml");
        YAML.writeValue(file.toFile(), prometheusRule(objects).path("spec"));
        ChildProcess.Finished result = Promtool.run(dir, List.of("check", "rules", file.toString()));
        assertEquals(0, result.exitCode(), result::output);
    }

    private static void assertDashboards(List<JsonNode> objects) {
        Map<String, String> expected = new TreeMap<>();
        for (Path file : Repository.files("dashboards", ".json")) {
            expected.put(file.getFileName().toString(), Repository.read(file));
        }
        Map<String, String> served = new TreeMap<>();
        for (JsonNode o : objects) {
            if (o.path("kind").asText().equals("ConfigMap")
                    && o.path("metadata").path("labels").path("grafana_dashboard").asText().equals("1")) {
                assertEquals(1, o.path("data").size(), () -> name(o) + ": one dashboard per ConfigMap");
                o.path("data").properties().forEach(d -> served.put(d.getKey(), d.getValue().asText()));
            }
        }
        assertEquals(expected, served, () -> "run " + REGENERATE + " after changing dashboards/");
    }

    private static void assertImages(List<JsonNode> objects) {
        String version = System.getProperty("gpuwatch.version", "");
        assertFalse(version.isEmpty(), "surefire sets gpuwatch.version to the project's version");
        List<String> images = new ArrayList<>();
        for (JsonNode o : objects) {
            o.path("spec").path("template").path("spec").path("containers")
                    .forEach(c -> images.add(c.path("image").asText()));
        }
        assertEquals(List.of("ghcr.io/gpuwatch/gpuwatch-exporter:" + version,
                "ghcr.io/gpuwatch/gpuwatch-receiver:" + version), images.stream().sorted().toList());
    }

    private static JsonNode prometheusRule(List<JsonNode> objects) {
        List<JsonNode> rules = objects.stream().filter(o -> o.path("kind").asText().equals("PrometheusRule")).toList();
        assertEquals(1, rules.size(), "one PrometheusRule");
        return rules.getFirst();
    }

    private static List<String> names(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind))
                .map(KubernetesManifestsTest::name).sorted().toList();
    }

    private static String name(JsonNode o) {
        return o.path("kind").asText() + "/" + o.path("metadata").path("name").asText();
    }

    /** Every folder under deploy/kubernetes with a kustomization.yaml, except the bases. */
    private static List<Path> overlays() {
        try (Stream<Path> dirs = Files.list(KUBERNETES)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml")))
                    .filter(d -> !d.getFileName().toString().equals("base"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(String tool, List<String> line) {
        ChildProcess.Finished result;
        try {
            result = ChildProcess.run(Command.of(tool, line).in(Repository.root()), TIMEOUT);
        } catch (UncheckedIOException e) {
            throw new AssertionError(tool + " is needed for these tests: " + e.getMessage(), e);
        }
        assertEquals(0, result.exitCode(), () -> String.join(" ", line) + " failed:\n" + result.output());
    }

    private static List<JsonNode> documents(Path file) {
        try {
            List<JsonNode> documents = new ArrayList<>();
            YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile()).forEachRemaining(d -> {
                if (!d.isNull() && !d.isEmpty()) {
                    documents.add(d);
                }
            });
            assertTrue(!documents.isEmpty(), file + " is empty");
            return documents;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(dir::relativize).toList();
        }
    }

    private static List<Path> union(List<Path> a, List<Path> b) {
        return Stream.concat(a.stream(), b.stream()).distinct().sorted().toList();
    }
}
