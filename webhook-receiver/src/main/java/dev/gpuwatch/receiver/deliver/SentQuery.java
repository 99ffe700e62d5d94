package dev.gpuwatch.receiver.deliver;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Stored deliveries that may already have reached the target, to look for there.
 *
 * @param store the store's id ({@link Delivery.Origin#store})
 * @param deliveries each delivery's id, with the receipt of its group's earlier message on this channel when
 *     it has one: a delivery sent as an update in place left its news as a reply in that message's thread
 * @param since when the earliest of their unrecorded attempts began: nothing they sent is older
 */
public record SentQuery(String store, Map<Long, Optional<Receipt>> deliveries, Instant since) {

    public SentQuery {
        deliveries = Map.copyOf(deliveries);
    }
}
