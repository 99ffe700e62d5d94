package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InferenceSettingsTest {
    @TempDir
    Path dir;

    private InferenceSettings load(String yaml) throws Exception {
        return load(yaml, Map.of());
    }

    /** Through the exporter's own reading of its file, as the binary does. */
    private InferenceSettings load(String yaml, Map<String, String> env) throws Exception {
        Path f = dir.resolve("exporter.yml");
        Files.writeString(f, yaml);
        return ExporterConfig.read(ExporterConfig.FLAGS.parse("--config.file=" + f), env).modelServers();
    }

    @Test
    void readsTargetsAndIgnoresTheExportersOwnKeys() throws Exception {
        Files.writeString(dir.resolve("token"), "s3cret\n");
        InferenceSettings s = load("""
                web:
                  listen_address: ":9835"
                gpu: {backend: simulated}
                model_servers:
                  - name: llama-70b
                    type: vllm
                    url: http://127.0.0.1:8000
                    timeout: 1500ms
                    labels: {team: search}
                    authorization:
                      credentials_file: %s
                  - name: triton
                    type: Triton
                    url: http://10.0.0.5:8000
                  - name: ollama
                    type: ollama
                    url: http://localhost:11434
                    metrics_url: http://localhost:11434/ignored
                model_server_discovery:
                  enabled: false
                  poll_interval: 10s
                  max_response_bytes: 4MiB
                  max_series: 500
                  proc_root: /host/proc
                """.formatted(dir.resolve("token")));
        assertEquals(3, s.targets().size());
        TargetSettings a = s.targets().get(0);
        assertEquals(ServerType.VLLM, a.type());
        assertEquals(Optional.of(URI.create("http://127.0.0.1:8000/metrics")), a.metricsUrl());
        assertEquals(Duration.ofMillis(1500), a.timeout());
        assertEquals(Map.of("team", "search"), a.labels());
        assertEquals(Optional.of("Bearer s3cret"), a.authorization());
        assertFalse(a.toString().contains("s3cret"));
        assertEquals(Optional.of(URI.create("http://10.0.0.5:8002/metrics")), s.targets().get(1).metricsUrl());
        assertEquals(InferenceSettings.DEFAULT_TIMEOUT, s.targets().get(1).timeout());
        assertEquals(Optional.of(URI.create("http://localhost:11434/ignored")), s.targets().get(2).metricsUrl());
        assertFalse(s.discovery().enabled());
        assertEquals(Path.of("/host/proc"), s.discovery().procRoot());
        assertEquals(Duration.ofSeconds(10), s.polling().interval());
        assertEquals(4L << 20, s.polling().maxResponseBytes());
        assertEquals(500, s.polling().maxSeries());
    }

    @Test
    void durationsAndSizesUseTheSharedGrammar() throws Exception {
        InferenceSettings s = load("""
                model_server_discovery:
                  interval: 1d
                  poll_interval: 1m30s
                  max_response_bytes: 1048576
                model_servers:
                  - {name: a, type: vllm, url: "http://x", timeout: 500ms}
                """);
        assertEquals(Duration.ofDays(1), s.discovery().interval());
        assertEquals(Duration.ofSeconds(90), s.polling().interval());
        assertEquals(1L << 20, s.polling().maxResponseBytes());
        assertEquals(Duration.ofMillis(500), s.targets().get(0).timeout());
        assertEquals(512L << 10, load("model_server_discovery:\n  max_response_bytes: 512KB\n").polling().maxResponseBytes());
        assertEquals(4096, load("model_server_discovery:\n  max_label_value_length: 4KiB\n").polling().maxLabelValueLength());
        assertEquals(200, load("model_server_discovery:\n  max_label_value_length: 200\n").polling().maxLabelValueLength());
    }

    @Test
    void defaultsWithoutAFile() {
        InferenceSettings s = InferenceSettings.defaults(Map.of());
        assertTrue(s.targets().isEmpty());
        assertTrue(s.discovery().enabled());
        assertEquals(InferenceSettings.DEFAULT_INTERVAL, s.polling().interval());
        assertEquals(InferenceSettings.DEFAULT_MAX_BYTES, s.polling().maxResponseBytes());
        assertEquals(1024, s.polling().maxLabelValueLength());
        assertTrue(s.attribution().containers());
        assertTrue(s.attribution().kubernetes().isEmpty());
    }

    @Test
    void kubernetesFromTheDownwardApiWhenInAPod() throws Exception {
        Path token = dir.resolve("sa-token");
        Files.writeString(token, "t");
        InferenceSettings s = load("model_server_discovery:\n  kubernetes:\n    token_file: " + token + "\n",
                Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443", "NODE_NAME", "gpu-7"));
        InferenceSettings.Kubernetes k = s.attribution().kubernetes().orElseThrow();
        assertEquals(URI.create("https://10.96.0.1:443"), k.apiUrl());
        assertEquals("gpu-7", k.nodeName());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "model_servers: {a: 1}|:1: model_servers: expected a list",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    colour: red|:5: model_servers[0].colour: unknown key (known keys: authorization, labels, lora_adapters, mapping, metrics_url, name, timeout, type, url)",
        "model_servers:\\n  - name: a\\n    type: nginx\\n    url: http://x|:3: model_servers[0].type: expected one of vllm, sglang, tgi, triton, torchserve, ollama, llamacpp, custom, got \"nginx\"",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: ftp://x|:4: model_servers[0].url: expected an http:// or https:// URL with a host, got \"ftp://x\"",
        "model_servers:\\n  - name: a\\n    type: vllm|:2: model_servers[0].url: is required",
        "model_servers:\\n  - {name: a, type: vllm, url: 'http://x'}\\n  - {name: a, type: tgi, url: 'http://y'}|:3: model_servers[1].name: duplicate target name \"a\"",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    timeout: soon|:5: model_servers[0].timeout: expected a duration like 30s, 1m30s, 500ms or 1d, got \"soon\"",
        "model_server_discovery:\\n  interval: 30s5m|:2: model_server_discovery.interval: expected a duration like 30s, 1m30s, 500ms or 1d, got \"30s5m\"",
        "model_server_discovery:\\n  poll_interval: 1s1s|:2: model_server_discovery.poll_interval: expected a duration like 30s, 1m30s, 500ms or 1d, got \"1s1s\"",
        "model_server_discovery:\\n  timeout: 0s|:2: model_server_discovery.timeout: must be longer than 0s",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    labels: {model: x}|:5: model_servers[0].labels.model: not a label name the target may set (reserved: container, container_id, device, gpu, instance, job, le, lora, model, namespace, outcome, pod, pod_uid, reason, server, state, target, uuid)",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    authorization: {type: Bearer}|:5: model_servers[0].authorization: set exactly one of credentials and credentials_file",
        "model_server_discovery:\\n  max_series: -3|:2: model_server_discovery.max_series: expected a whole number from 1 to 10000000, got -3",
        "model_server_discovery:\\n  max_response_bytes: lots|:2: model_server_discovery.max_response_bytes: expected a size like 8MiB, 512KB or 1048576, got \"lots\"",
        "model_server_discovery:\\n  max_label_value_length: 2MiB|:2: model_server_discovery.max_label_value_length: expected 64 bytes to 1MiB, got 2097152 bytes",
        "model_server_discovery:\\n  max_label_value_length: long|:2: model_server_discovery.max_label_value_length: expected a size like 8MiB, 512KB or 1048576, got \"long\"",
        "model_server_discovery:\\n  enabled: maybe|:2: model_server_discovery.enabled: expected true or false",
        "model_server_discovery:\\n  kubernetes: {enabled: true, node_name: n}|:2: model_server_discovery.kubernetes: enabled: true needs api_url (or KUBERNETES_SERVICE_HOST), node_name (or NODE_NAME from the downward API) and a readable token_file (/var/run/secrets/kubernetes.io/serviceaccount/token)",
        "model_servers: [\\n|:1: invalid YAML: while parsing a flow node",
    })
    void badValuesNameTheFieldAndLine(String yaml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> load(yaml.replace("\\n", "\n")));
        // the whole message, but for YAML syntax errors only their first line (the parser's own snippet follows)
        assertEquals(dir.resolve("exporter.yml") + expected, e.getMessage().lines().findFirst().orElseThrow());
    }
}
