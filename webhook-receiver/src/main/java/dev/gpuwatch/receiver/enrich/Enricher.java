package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Notification;

/** Adds runbook, owner, first steps and links to every alert of a notification. Pure; thread-safe. */
public interface Enricher {

    EnrichedNotification enrich(Notification notification);

    /**
     * Adds what Prometheus says now (graph, live context) to a notification about to be sent as a message of its
     * own (not folded into a digest). Bounded by {@code enrichment.prometheus_timeout}; never throws for an
     * unreachable or slow Prometheus. The default adds nothing.
     */
    default EnrichedNotification live(EnrichedNotification notification) {
        return notification;
    }
}
