package dev.gpuwatch.receiver.deliver;

import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import java.util.List;
import java.util.Optional;

/**
 * One message to send.
 *
 * @param deliveryId stable id of this (notification, receiver) delivery; the same across retries
 * @param groupKey the Alertmanager group key; channels derive their thread / dedup keys from it
 * @param notifications one notification normally; several when storm control folds them into a digest
 * @param previous the receipt of this group's earlier successful delivery on this channel, used to resolve
 *     in place (Slack chat.update + thread reply, PagerDuty dedup_key, email In-Reply-To)
 */
public record Delivery(
        String deliveryId,
        String groupKey,
        List<EnrichedNotification> notifications,
        Optional<Receipt> previous) {

    public Delivery {
        notifications = List.copyOf(notifications);
        if (notifications.isEmpty()) {
            throw new IllegalArgumentException("a delivery carries at least one notification");
        }
    }

    public boolean isDigest() {
        return notifications.size() > 1;
    }
}
