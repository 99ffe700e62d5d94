package dev.gpuwatch.stack;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Prometheus' {@code /api/v1/alerts} answer, read for the demo's progress lines and the test's dumps. */
final class PromAlerts {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One pending or firing alert; {@code labels} without {@code alertname}, sorted. */
    record Alert(String name, Map<String, String> labels, String state) {
        String key() {
            return name + " " + labels;
        }
    }

    private PromAlerts() {}

    /** The alerts in {@code json}; none when it is not such an answer. */
    static List<Alert> parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            return List.of();
        }
        List<Alert> alerts = new ArrayList<>();
        for (JsonNode a : root.path("data").path("alerts")) {
            Map<String, String> labels = new TreeMap<>();
            a.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
            String name = labels.remove("alertname");
            alerts.add(new Alert(name == null ? "?" : name, labels, a.path("state").asText("?")));
        }
        return alerts;
    }
}
