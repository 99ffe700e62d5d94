package dev.gpuwatch.receiver.dispatch;

import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Enricher;
import java.util.List;
import java.util.Optional;

/**
 * Adds nothing but the alert's own {@code runbook_url} annotation: used when no enrichment catalog is
 * configured, so the "no runbook" marker still reflects what Alertmanager sent.
 */
public final class NoEnrichment implements Enricher {

    @Override
    public EnrichedNotification enrich(dev.gpuwatch.receiver.alert.Notification notification) {
        return new EnrichedNotification(notification, notification.alerts().stream()
                .map(a -> new EnrichedAlert(a,
                        Optional.ofNullable(a.annotations().get("runbook_url")).filter(u -> !u.isBlank()),
                        Optional.empty(), List.of(), Optional.ofNullable(a.generatorUrl()).filter(u -> !u.isBlank()),
                        Optional.empty(), Optional.empty()))
                .toList());
    }
}
