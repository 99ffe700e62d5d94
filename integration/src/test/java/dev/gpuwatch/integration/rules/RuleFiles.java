package dev.gpuwatch.integration.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gpuwatch.integration.Repository;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The shipped rule files (rules/*.rules.yml) and their promtool unit tests (rules/tests/*.test.yml). */
public final class RuleFiles {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** One alerting or recording rule; exactly one of alert and record is non-empty. */
    public record Rule(Path file, String alert, String record, String expr, Map<String, String> labels,
            Map<String, String> annotations) {

        public boolean isAlert() {
            return !alert.isEmpty();
        }

        public String name() {
            return isAlert() ? alert : record;
        }
    }

    private RuleFiles() {}

    public static List<Path> ruleFiles() {
        return Repository.files("rules", ".rules.yml").stream()
                .filter(p -> p.getParent().equals(Repository.path("rules")))
                .toList();
    }

    static List<Path> testFiles() {
        return Repository.files("rules/tests", ".test.yml");
    }

    public static List<Rule> rules() {
        List<Rule> rules = new ArrayList<>();
        for (Path file : ruleFiles()) {
            for (JsonNode group : read(file).path("groups")) {
                for (JsonNode rule : group.path("rules")) {
                    rules.add(new Rule(file, rule.path("alert").asText(""), rule.path("record").asText(""),
                            rule.path("expr").asText(), strings(rule.path("labels")),
                            strings(rule.path("annotations"))));
                }
            }
        }
        return rules;
    }

    static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        node.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }
}
