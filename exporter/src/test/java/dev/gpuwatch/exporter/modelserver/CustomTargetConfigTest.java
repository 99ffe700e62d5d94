package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.modelserver.adapter.CustomMapping;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code type: custom} and its {@code mapping}, read and checked with the rest of the exporter's file. */
class CustomTargetConfigTest {
    /** Lines 1-5 of every case; the case's mapping keys start on line 6. */
    private static final String TARGET = """
            model_servers:
              - name: chat-api
                type: custom
                url: http://10.0.0.7:8000
                mapping:
            """;

    @TempDir
    Path dir;

    private InferenceSettings load(String yaml) throws Exception {
        Path f = dir.resolve("exporter.yml");
        Files.writeString(f, yaml);
        return ExporterConfig.read(ExporterConfig.FLAGS.parse("--config.file=" + f), Map.of()).modelServers();
    }

    @Test
    void readsTheMappingOfTheWorkedExample() throws Exception {
        InferenceSettings s = load(TARGET + """
                      model: llama-3.1-8b-instruct
                      match: {handler: "/v1/.*"}
                      requests: {metric: http_requests_total, status_label: status, error_values: "5.."}
                      latency: http_request_duration_seconds
                      time_to_first_token: llm_time_to_first_token_seconds
                      queue: llm_queue_depth
                      running: http_requests_inprogress
                      kv_cache_usage: llm_kv_cache_usage_percent
                      kv_cache_scale: 0.01
                """);
        TargetSettings t = s.targets().getFirst();
        assertEquals(ServerType.CUSTOM, t.type());
        assertEquals(Optional.of(URI.create("http://10.0.0.7:8000/metrics")), t.metricsUrl());
        CustomMapping m = t.mapping().orElseThrow();
        assertEquals(Optional.of("llama-3.1-8b-instruct"), m.model());
        assertEquals(Optional.empty(), m.modelLabel());
        assertEquals(Map.of("handler", "/v1/.*"), m.match());
        assertEquals(new CustomMapping.Requests("http_requests_total", Optional.of("status"), Optional.of("5.."),
                Optional.empty()), m.requests().orElseThrow());
        assertEquals(0.01, m.kvCacheScale());
        assertEquals(List.of("http_requests_total", "http_request_duration_seconds", "llm_time_to_first_token_seconds",
                "llm_queue_depth", "http_requests_inprogress", "llm_kv_cache_usage_percent"), m.names());
        assertEquals(Optional.empty(), load(TARGET + "      queue: q\n").targets().getFirst().mapping().orElseThrow()
                .requests());
        assertEquals(1.0, load(TARGET + "      kv_cache_usage: c\n").targets().getFirst().mapping().orElseThrow()
                .kvCacheScale());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "|:5: model_servers[0].mapping: maps no metric: set at least one of requests, latency, queue_time, time_to_first_token, inter_token_latency, queue, running, kv_cache_usage, prompt_tokens, generation_tokens",
        "latncy: http_request_duration_seconds|:6: model_servers[0].mapping.latncy: unknown key (known keys: generation_tokens, inter_token_latency, kv_cache_scale, kv_cache_usage, latency, match, model, model_label, prompt_tokens, queue, queue_time, requests, running, time_to_first_token)",
        "queue: llm-queue-depth|:6: model_servers[0].mapping.queue: expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got \"llm-queue-depth\"",
        "latency: http_request_duration_seconds_bucket|:6: model_servers[0].mapping.latency: name the histogram (http_request_duration_seconds), not its _bucket series",
        "time_to_first_token: ttft_seconds_sum|:6: model_servers[0].mapping.time_to_first_token: name the histogram (ttft_seconds), not its _sum series",
        "latency: [a, b]|:6: model_servers[0].mapping.latency: expected a string",
        "requests: http_requests_total|:6: model_servers[0].mapping.requests: expected a mapping of keys",
        "requests: {status_label: status, error_values: \"5..\"}|:6: model_servers[0].mapping.requests.metric: is required",
        "requests:\\n  metric: http_requests_total\\n  status_label: status\\n  error_values: \"5(..\"|:9: model_servers[0].mapping.requests.error_values: not a valid regular expression (Unclosed group at index 4), got \"5(..\"",
        "requests:\\n  metric: http_requests_total\\n  error_values: \"5..\"|:8: model_servers[0].mapping.requests.error_values: needs status_label, the label whose value it matches",
        "requests:\\n  metric: http_requests_total\\n  status_label: status|:8: model_servers[0].mapping.requests.status_label: needs error_values, the pattern of its values that are errors (say \"5..\")",
        "requests:\\n  metric: http_requests_total\\n  status_label: http-status\\n  error_values: \"5..\"|:8: model_servers[0].mapping.requests.status_label: expected a label name ([a-zA-Z_][a-zA-Z0-9_]*, not le or __*), got \"http-status\"",
        "requests: {metric: http_requests_total, status: code}|:6: model_servers[0].mapping.requests.status: unknown key (known keys: cancelled_values, error_values, metric, status_label)",
        "model: llama\\nmodel_label: model\\nqueue: q|:6: model_servers[0].mapping.model: set at most one of model (a fixed name) and model_label",
        "model_label: le\\nqueue: q|:6: model_servers[0].mapping.model_label: expected a label name ([a-zA-Z_][a-zA-Z0-9_]*, not le or __*), got \"le\"",
        "queue: q\\nmatch:\\n  handler: \"[/v1\"|:8: model_servers[0].mapping.match.handler: not a valid regular expression (Unclosed character class at index 3), got \"[/v1\"",
        "queue: q\\nkv_cache_scale: 0.01|:7: model_servers[0].mapping.kv_cache_scale: needs kv_cache_usage, the gauge it scales",
        "kv_cache_usage: c\\nkv_cache_scale: 0|:7: model_servers[0].mapping.kv_cache_scale: expected a number above 0, got 0.0",
        "kv_cache_usage: c\\nkv_cache_scale: lots|:7: model_servers[0].mapping.kv_cache_scale: expected a number",
    })
    void badMappingsNameTheKeyAndLine(String mappingLines, String expected) {
        // CsvSource trims each value: the case's lines are indented under mapping: here
        String yaml = mappingLines == null ? TARGET.replace("mapping:", "mapping: {}")
                : TARGET + mappingLines.replace("\\n", "\n").indent(6);
        ConfigException e = assertThrows(ConfigException.class, () -> load(yaml));
        assertEquals(dir.resolve("exporter.yml") + expected, e.getMessage());
    }

    @Test
    void aCustomTargetNeedsAMappingAndOnlyItMayHaveOne() {
        ConfigException missing = assertThrows(ConfigException.class, () -> load("""
                model_servers:
                  - name: chat-api
                    type: custom
                    url: http://10.0.0.7:8000
                """));
        assertEquals(dir.resolve("exporter.yml") + ":2: model_servers[0].mapping: is required for type custom: which "
                + "of the app's metrics feed which inference_* series", missing.getMessage());
        ConfigException notCustom = assertThrows(ConfigException.class, () -> load("""
                model_servers:
                  - name: llama
                    type: vllm
                    url: http://10.0.0.7:8000
                    mapping: {queue: q}
                """));
        assertEquals(dir.resolve("exporter.yml") + ":5: model_servers[0].mapping: only for type custom; a vllm "
                + "target is read by its own adapter", notCustom.getMessage());
    }
}
