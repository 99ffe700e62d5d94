package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Notification;
import java.util.List;
import java.util.Objects;

/**
 * A notification with each alert enriched; the order of {@code alerts} follows the payload. {@code live} is the
 * graph and context read from Prometheus at delivery ({@link LiveView#none()} without them).
 */
public record EnrichedNotification(Notification notification, List<EnrichedAlert> alerts, LiveView live) {

    public EnrichedNotification {
        alerts = List.copyOf(alerts);
        Objects.requireNonNull(live, "live");
    }

    public EnrichedNotification(Notification notification, List<EnrichedAlert> alerts) {
        this(notification, alerts, LiveView.none());
    }

    public EnrichedNotification withLive(LiveView view) {
        return new EnrichedNotification(notification, alerts, view);
    }
}
