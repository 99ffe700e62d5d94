package dev.gpuwatch.receiver.alert;

import java.util.List;
import java.util.Map;

/**
 * One Alertmanager webhook notification (payload version 4), as accepted by ingest. Unknown fields of the
 * payload are dropped; the raw body is kept by the store.
 *
 * @param status {@code firing} or {@code resolved}; resolved only when every alert of the group is
 */
public record Notification(
        String version,
        String groupKey,
        int truncatedAlerts,
        String status,
        String receiver,
        Map<String, String> groupLabels,
        Map<String, String> commonLabels,
        Map<String, String> commonAnnotations,
        String externalUrl,
        List<Alert> alerts) {

    public Notification {
        groupLabels = Map.copyOf(groupLabels);
        commonLabels = Map.copyOf(commonLabels);
        commonAnnotations = Map.copyOf(commonAnnotations);
        alerts = List.copyOf(alerts);
    }

    public boolean isResolved() {
        return "resolved".equals(status);
    }
}
