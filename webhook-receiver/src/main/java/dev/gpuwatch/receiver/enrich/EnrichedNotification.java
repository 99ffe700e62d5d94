package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Notification;
import java.util.List;

/** A notification with each alert enriched; the order of {@code alerts} follows the payload. */
public record EnrichedNotification(Notification notification, List<EnrichedAlert> alerts) {

    public EnrichedNotification {
        alerts = List.copyOf(alerts);
    }
}
