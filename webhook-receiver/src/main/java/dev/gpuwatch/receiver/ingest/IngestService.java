package dev.gpuwatch.receiver.ingest;

import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.route.RoutingTree;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.NotificationStore.NewNotification;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Accepts one webhook body: parse, route, store durably, answer. Knows nothing of HTTP; the answer is a value
 * the HTTP layer maps to a status code. Blocks the calling (virtual) thread until the store has committed.
 */
public final class IngestService {

    /** What to answer Alertmanager. */
    public sealed interface Outcome {
        /** Durable and new: it will be delivered. */
        record Accepted() implements Outcome {}

        /** Already stored (an Alertmanager retry or an HA peer's copy): not delivered again. */
        record Duplicate() implements Outcome {}

        /** Will never be accepted: 400. */
        record Rejected(String error, String field) implements Outcome {}

        /** Cannot be made durable now (store failing or full, writer overloaded): 503, Alertmanager retries. */
        record Unavailable(String reason) implements Outcome {}
    }

    private final PayloadParser parser = new PayloadParser();
    private final RoutingTree routes;
    private final Map<String, List<Target>> targetsByReceiver;
    private final NotificationStore store;
    private final Duration maxAge;
    private final Clock clock;
    private final ReceiverMetrics metrics;

    /**
     * @param targetsByReceiver every configured receiver name with its channels (possibly none)
     * @param maxAge deadline for the deliveries created, counted from receipt
     */
    public IngestService(RoutingTree routes, Map<String, List<Target>> targetsByReceiver, NotificationStore store,
            Duration maxAge, Clock clock, ReceiverMetrics metrics) {
        this.routes = routes;
        this.targetsByReceiver = Map.copyOf(targetsByReceiver);
        this.store = store;
        this.maxAge = maxAge;
        this.clock = clock;
        this.metrics = metrics;
    }

    public Outcome ingest(byte[] body) {
        Notification notification;
        switch (parser.parse(body)) {
            case PayloadParser.Result.Invalid bad -> {
                metrics.notification("rejected");
                return new Outcome.Rejected(bad.error(), bad.field());
            }
            case PayloadParser.Result.Parsed parsed -> notification = parsed.notification();
        }
        List<Target> targets = new ArrayList<>();
        for (String receiver : routes.receivers(notification.commonLabels(), notification.groupLabels())) {
            targets.addAll(targetsByReceiver.getOrDefault(receiver, List.of()));
        }
        Instant now = clock.instant();
        NewNotification record = new NewNotification(PayloadParser.idempotencyKey(notification),
                notification.groupKey(), notification.status(), now, now.plus(maxAge), body, targets);
        return switch (store.append(record).join()) {
            case ACCEPTED -> {
                metrics.notification("accepted");
                yield new Outcome.Accepted();
            }
            case DUPLICATE -> {
                metrics.notification("duplicate");
                yield new Outcome.Duplicate();
            }
            case OVERLOADED -> {
                metrics.notification("unavailable");
                yield new Outcome.Unavailable("overloaded: too many notifications waiting to be stored");
            }
            case UNAVAILABLE -> {
                metrics.notification("unavailable");
                yield new Outcome.Unavailable("store not writable");
            }
        };
    }
}
