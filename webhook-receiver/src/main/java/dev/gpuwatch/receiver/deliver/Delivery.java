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
 * @param origin the stored deliveries this message carries, for a target that keeps it with the message (Slack
 *     message metadata), so that it can be asked after a crash whether it already has them
 */
public record Delivery(
        String deliveryId,
        String groupKey,
        List<EnrichedNotification> notifications,
        Optional<Receipt> previous,
        Optional<Origin> origin) {

    public Delivery {
        notifications = List.copyOf(notifications);
        if (notifications.isEmpty()) {
            throw new IllegalArgumentException("a delivery carries at least one notification");
        }
    }

    /** A message whose origin is not recorded at the target. */
    public Delivery(String deliveryId, String groupKey, List<EnrichedNotification> notifications,
            Optional<Receipt> previous) {
        this(deliveryId, groupKey, notifications, previous, Optional.empty());
    }

    public boolean isDigest() {
        return notifications.size() > 1;
    }

    /**
     * Which stored deliveries a message carries ({@link dev.gpuwatch.receiver.store.NotificationStore} ids, one
     * per folded notification of a digest, in its order) and the store they are in
     * ({@link dev.gpuwatch.receiver.store.NotificationStore#storeId}): together a name for each that no other
     * database's deliveries share.
     */
    public record Origin(String store, List<Long> deliveries) {
        public Origin {
            deliveries = List.copyOf(deliveries);
            if (store.isEmpty() || deliveries.isEmpty()) {
                throw new IllegalArgumentException("an origin names a store and at least one delivery");
            }
        }
    }
}
