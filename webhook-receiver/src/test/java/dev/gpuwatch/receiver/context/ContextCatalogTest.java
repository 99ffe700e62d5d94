package dev.gpuwatch.receiver.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gpuwatch.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ContextCatalogTest {

    /** rules/ of the repository, beside this module. */
    private static final Path RULES = Path.of("..", "rules");

    @Test
    void everyShippedAlertHasAContextEntry() throws Exception {
        ContextCatalog catalog = ContextCatalog.defaults();
        List<String> alerts = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        try (Stream<Path> files = Files.list(RULES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".rules.yml")).sorted().toList()) {
                for (JsonNode group : new YAMLMapper().readTree(file.toFile()).path("groups")) {
                    for (JsonNode rule : group.path("rules")) {
                        if (!rule.has("alert")) {
                            continue;
                        }
                        Map<String, String> labels = new HashMap<>();
                        rule.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
                        labels.put("alertname", rule.path("alert").asText());
                        alerts.add(labels.get("alertname"));
                        if (!catalog.hasEntryFor(labels)) {
                            missing.add(labels.get("alertname") + " (" + file.getFileName() + ")");
                        }
                    }
                }
            }
        }
        assertTrue(alerts.size() >= 30, "the rules were read: " + alerts);
        assertEquals(List.of(), missing, "alerts of rules/ without a context entry in context/default.yaml");
    }

    @Test
    void labelsAreSubstitutedEscapedAndAQueryNeedingAMissingLabelIsSkipped() {
        Map<String, String> gpuAlert = Map.of("alertname", "GpuMemoryNearlyFull", "instance", "node-1:9400",
                "uuid", "GPU-\"x\"");
        List<ContextCatalog.Query> queries = ContextCatalog.defaults().queriesFor(gpuAlert);
        assertEquals("topk(5, gpu_process_memory_used_bytes{instance=\"node-1:9400\", uuid=\"GPU-\\\"x\\\"\"})",
                queries.getFirst().expr());
        assertEquals(List.of("command", "pid"), queries.getFirst().show());
        List<ContextCatalog.Query> withoutInstance = ContextCatalog.defaults().queriesFor(
                Map.of("alertname", "GpuMemoryNearlyFull", "uuid", "GPU-0"));
        assertTrue(withoutInstance.stream().noneMatch(q -> q.expr().contains("instance=")), withoutInstance.toString());
        assertTrue(withoutInstance.size() >= 2, "the queries that need only uuid stay: " + withoutInstance);
        assertTrue(ContextCatalog.defaults().queriesFor(Map.of("alertname", "SomethingElse")).isEmpty());
    }

    @Test
    void matchersSelectEntriesAndErrorsNameTheKey() throws Exception {
        ContextCatalog catalog = ContextCatalog.parse("""
                entries:
                  - matchers: '{team="ml", severity=~"crit.*"}'
                    queries: [{title: Queue, expr: 'inference_requests_waiting{target="{{target}}"}', show: [model]}]
                """, "c.yml");
        assertEquals(1, catalog.queriesFor(Map.of("team", "ml", "severity", "critical", "target", "vllm")).size());
        assertEquals(0, catalog.queriesFor(Map.of("team", "ml", "severity", "warning", "target", "vllm")).size());
        ConfigException e = assertThrows(ConfigException.class, () -> ContextCatalog.parse("""
                entries:
                  - alerts: [A]
                    queries: [{title: Queue}]
                """, "c.yml"));
        assertTrue(e.getMessage().contains("entries[0].queries[0].expr"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ContextCatalog.parse("""
                entries:
                  - queries: [{title: Q, expr: up}]
                """, "c.yml"));
        assertTrue(e.getMessage().contains("sets neither alerts nor matchers"), e.getMessage());
    }

    /** enrichment.context_file replaces the built-in catalog; a broken one stops the start, naming file and key. */
    @Test
    void aConfiguredContextFileIsReadAtStartAndItsErrorsStopIt(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path broken = Files.writeString(dir.resolve("context.yml"), """
                entries:
                  - alerts: [GpuFellOffTheBus]
                    queries: [{title: Who}]
                """);
        var config = dev.gpuwatch.receiver.config.ConfigLoader.parse("receiver.yml", """
                enrichment:
                  context_file: %s
                """.formatted(broken));
        assertEquals(broken.toString(), config.value().enrichment().contextFile());
        ConfigException e = assertThrows(ConfigException.class, () -> dev.gpuwatch.receiver.Receiver.start(config,
                dev.gpuwatch.receiver.Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0)).close());
        assertTrue(e.getMessage().startsWith(broken + ":3: entries[0].queries[0].expr"), e.getMessage());
    }
}
