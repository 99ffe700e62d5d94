package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        Path f = dir.resolve("exporter.yml");
        Files.writeString(f, yaml);
        return InferenceSettings.load(Optional.of(f), Map.of());
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
    }

    @Test
    void defaultsWithoutAFile() {
        InferenceSettings s = InferenceSettings.load(Optional.empty(), Map.of());
        assertTrue(s.targets().isEmpty());
        assertTrue(s.discovery().enabled());
        assertEquals(InferenceSettings.DEFAULT_INTERVAL, s.polling().interval());
        assertEquals(InferenceSettings.DEFAULT_MAX_BYTES, s.polling().maxResponseBytes());
        assertTrue(s.attribution().containers());
        assertTrue(s.attribution().kubernetes().isEmpty());
    }

    @Test
    void kubernetesFromTheDownwardApiWhenInAPod() throws Exception {
        Path token = dir.resolve("sa-token");
        Files.writeString(token, "t");
        Path f = dir.resolve("k.yml");
        Files.writeString(f, "model_server_discovery:\n  kubernetes:\n    token_file: " + token + "\n");
        InferenceSettings s = InferenceSettings.load(Optional.of(f),
                Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443", "NODE_NAME", "gpu-7"));
        InferenceSettings.Kubernetes k = s.attribution().kubernetes().orElseThrow();
        assertEquals(URI.create("https://10.96.0.1:443"), k.apiUrl());
        assertEquals("gpu-7", k.nodeName());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "model_servers: {a: 1}|:1: model_servers: expected a list of targets",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    colour: red|:5: model_servers[0].colour: unknown field",
        "model_servers:\\n  - name: a\\n    type: nginx\\n    url: http://x|:3: model_servers[0].type: expected one of vllm, sglang, tgi, triton, torchserve, ollama, llamacpp, got \"nginx\"",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: ftp://x|:4: model_servers[0].url: expected an http:// or https:// URL",
        "model_servers:\\n  - name: a\\n    type: vllm|:2: model_servers[0].url: is required",
        "model_servers:\\n  - {name: a, type: vllm, url: 'http://x'}\\n  - {name: a, type: tgi, url: 'http://y'}|:3: model_servers[1].name: duplicate target name \"a\"",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    timeout: soon|:5: model_servers[0].timeout: expected a duration like 30s, 1m30s, 500ms or 1d (longer than 0s), got \"soon\"",
        "model_server_discovery:\\n  interval: 30s5m|:2: model_server_discovery.interval: expected a duration like 30s, 1m30s, 500ms or 1d (longer than 0s), got \"30s5m\"",
        "model_server_discovery:\\n  poll_interval: 1s1s|:2: model_server_discovery.poll_interval: expected a duration like 30s, 1m30s, 500ms or 1d (longer than 0s), got \"1s1s\"",
        "model_server_discovery:\\n  timeout: 0s|:2: model_server_discovery.timeout: expected a duration like 30s, 1m30s, 500ms or 1d (longer than 0s), got \"0s\"",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    labels: {model: x}|:5: model_servers[0].labels.model: not a label name the target may set",
        "model_servers:\\n  - name: a\\n    type: vllm\\n    url: http://x\\n    authorization: {type: Bearer}|:5: model_servers[0].authorization: set exactly one of credentials and credentials_file",
        "model_server_discovery:\\n  max_series: -3|:2: model_server_discovery.max_series: expected a whole number",
        "model_server_discovery:\\n  max_response_bytes: lots|:2: model_server_discovery.max_response_bytes: expected a size like 8MiB, 512KB or 1048576 (above 0), got \"lots\"",
        "model_server_discovery:\\n  enabled: maybe|:2: model_server_discovery.enabled: expected true or false",
        "model_server_discovery:\\n  kubernetes: {enabled: true, node_name: n}|:2: model_server_discovery.kubernetes: enabled: true needs api_url",
        "model_servers: [\\n|invalid YAML",
    })
    void badValuesNameTheFieldAndLine(String yaml, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> load(yaml.replace("\\n", "\n")));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(dir.resolve("exporter.yml").toString()), e.getMessage());
    }
}
