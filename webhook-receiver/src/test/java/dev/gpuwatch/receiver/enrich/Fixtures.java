package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.runbook.RunbookLibrary;
import dev.gpuwatch.receiver.runbook.ServedRunbooks;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Alerts, notifications and deliveries for the channel and enrichment tests. */
public final class Fixtures {

    public static final Instant STARTS = Instant.parse("2026-11-20T10:00:00Z");
    public static final Instant ENDS = Instant.parse("2026-11-20T10:30:00Z");
    public static final String EXTERNAL_URL = "http://alertmanager.example:9093";
    /** The receiver's own --web.external-url, the base of its runbook links. */
    public static final String RECEIVER_URL = "http://receiver.example:9095";
    /** The runbooks of docs/runbooks, as the build packs them, linked at {@link #RECEIVER_URL}. */
    public static final ServedRunbooks SERVED = new ServedRunbooks(RunbookLibrary.bundled(), () -> RECEIVER_URL);

    private Fixtures() {}

    public static Alert alert(String status, Map<String, String> labels, Map<String, String> annotations) {
        return new Alert(status, labels, annotations, STARTS,
                status.equals("resolved") ? Optional.of(ENDS) : Optional.empty(),
                "http://prometheus.example:9090/graph?g0.expr=up%3D%3D0", "fp-" + labels.hashCode());
    }

    public static Alert xid(String status, String instance, String gpu) {
        return alert(status,
                Map.of("alertname", "GpuXidError", "severity", "critical", "instance", instance, "gpu", gpu),
                Map.of("summary", "GPU " + gpu + " on " + instance + " reported Xid 79",
                        "description", "The GPU fell off the bus."));
    }

    public static Notification notification(String status, List<Alert> alerts) {
        return notification(status, Map.of("alertname", alerts.getFirst().alertName(), "instance",
                alerts.getFirst().labels().getOrDefault("instance", "")), alerts);
    }

    public static Notification notification(String status, Map<String, String> groupLabels, List<Alert> alerts) {
        Map<String, String> common = new LinkedHashMap<>(alerts.getFirst().labels());
        for (Alert a : alerts) {
            common.entrySet().removeIf(e -> !e.getValue().equals(a.labels().get(e.getKey())));
        }
        return new Notification("4", "{}:{alertname=\"" + alerts.getFirst().alertName() + "\"}", 0, status, "team-gpu",
                groupLabels, common, Map.of(), EXTERNAL_URL, alerts);
    }

    /** {@code count} firing Xid alerts on node-1, GPUs 0..count-1. */
    public static Notification storm(int count) {
        List<Alert> alerts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            alerts.add(xid("firing", "node-1", Integer.toString(i)));
        }
        return notification("firing", alerts);
    }

    public static EnrichedNotification enrich(Notification n) {
        return CatalogEnricher.create(RunbookCatalog.defaults().withGrafanaUrl("http://grafana.example:3000"), SERVED,
                name -> { }).enrich(n);
    }

    public static Delivery delivery(String id, EnrichedNotification n, Optional<Receipt> previous) {
        return new Delivery(id, n.notification().groupKey(), List.of(n), previous);
    }
}
