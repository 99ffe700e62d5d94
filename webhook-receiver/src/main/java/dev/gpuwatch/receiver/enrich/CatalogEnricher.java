package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.runbook.ServedRunbooks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The {@link Enricher} backed by a {@link RunbookCatalog} and the runbooks this receiver serves: runbook, owner,
 * first steps, and the graph, dashboard and silence links for every alert. The runbook link is, first that
 * gives one: a catalog entry that matches the alert by name or labels (the operator chose it), the runbook this
 * receiver serves for the alert ({@link ServedRunbooks}: it opens wherever the receiver is reached), the alert's
 * own {@code runbook_url} annotation, a catch-all catalog entry. Calls {@code onMissingRunbook} with the alert name of every
 * alert that ends up without a runbook, so the receiver can count
 * {@code gpuwatch_receiver_alerts_without_runbook_total} and the gaps get fixed. Thread-safe.
 */
public final class CatalogEnricher implements Enricher {

    private final RunbookCatalog catalog;
    private final ServedRunbooks served;
    private final Consumer<String> onMissingRunbook;

    private CatalogEnricher(RunbookCatalog catalog, ServedRunbooks served, Consumer<String> onMissingRunbook) {
        this.catalog = catalog;
        this.served = served;
        this.onMissingRunbook = onMissingRunbook;
    }

    /** The catalog alone, no served runbooks. */
    public static CatalogEnricher create(RunbookCatalog catalog, Consumer<String> onMissingRunbook) {
        return new CatalogEnricher(catalog, ServedRunbooks.none(), onMissingRunbook);
    }

    public static CatalogEnricher create(RunbookCatalog catalog, ServedRunbooks served,
            Consumer<String> onMissingRunbook) {
        return new CatalogEnricher(catalog, served, onMissingRunbook);
    }

    /**
     * From the {@code enrichment} settings: the catalog file or the built-in one, with the base URL overrides.
     *
     * @throws ConfigException naming the catalog file, line and key when the catalog is invalid
     */
    public static CatalogEnricher create(EnrichSettings settings, ServedRunbooks served,
            Consumer<String> onMissingRunbook) throws ConfigException {
        RunbookCatalog catalog = settings.catalogFile().isEmpty()
                ? RunbookCatalog.defaults()
                : RunbookCatalog.load(Path.of(settings.catalogFile()));
        if (!settings.runbookBaseUrl().isEmpty()) {
            catalog = catalog.withRunbookBaseUrl(settings.runbookBaseUrl());
        }
        if (!settings.grafanaUrl().isEmpty()) {
            catalog = catalog.withGrafanaUrl(settings.grafanaUrl());
        }
        return new CatalogEnricher(catalog, served, onMissingRunbook);
    }

    @Override
    public EnrichedNotification enrich(Notification notification) {
        Map<String, String> groupLabels =
                notification.groupLabels().isEmpty() ? notification.commonLabels() : notification.groupLabels();
        Optional<String> silence = Links.silence(notification.externalUrl(), groupLabels);
        List<EnrichedAlert> alerts = new ArrayList<>(notification.alerts().size());
        for (Alert alert : notification.alerts()) {
            RunbookCatalog.Lookup lookup = catalog.lookup(alert, served);
            if (lookup.runbookUrl().isEmpty()) {
                onMissingRunbook.accept(alert.alertName());
            }
            alerts.add(new EnrichedAlert(
                    alert,
                    lookup.runbookUrl(),
                    lookup.owner(),
                    lookup.firstSteps(),
                    Links.graph(alert),
                    lookup.dashboardBase().map(base -> Links.dashboard(base, alert)),
                    silence));
        }
        return new EnrichedNotification(notification, alerts);
    }
}
