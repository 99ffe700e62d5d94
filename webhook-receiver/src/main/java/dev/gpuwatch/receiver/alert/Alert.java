package dev.gpuwatch.receiver.alert;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One alert of a notification. Firing alerts carry endsAt 0001-01-01T00:00:00Z from Alertmanager; that is
 * mapped to empty, and status is taken from {@code status}, never from endsAt.
 */
public record Alert(
        String status,
        Map<String, String> labels,
        Map<String, String> annotations,
        Instant startsAt,
        Optional<Instant> endsAt,
        String generatorUrl,
        String fingerprint) {

    public Alert {
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
    }

    public boolean isResolved() {
        return "resolved".equals(status);
    }

    public String alertName() {
        return labels.getOrDefault("alertname", "");
    }
}
