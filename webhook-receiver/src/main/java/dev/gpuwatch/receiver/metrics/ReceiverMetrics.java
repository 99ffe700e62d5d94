package dev.gpuwatch.receiver.metrics;

import dev.gpuwatch.receiver.store.NotificationStore;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The receiver's own metrics, exactly as listed in docs/metrics.md "Webhook receiver". */
public final class ReceiverMetrics {

    public static final List<String> INTEGRATIONS = List.of("slack", "pagerduty", "email", "log");

    private final PrometheusRegistry registry;
    private final Counter notifications;
    private final Map<String, CounterDataPoint> notificationsByOutcome;
    private final Counter deliveries;
    private final Histogram deliveryLatency;
    private final Counter alertsWithoutRunbook;
    private final Counter digests;
    private final Counter graphs;

    public ReceiverMetrics(PrometheusRegistry registry, NotificationStore store) {
        this.registry = registry;
        notifications = Counter.builder()
                .name("gpuwatch_receiver_notifications_total")
                .help("Webhook posts by how they were answered")
                .labelNames("outcome")
                .register(registry);
        Map<String, CounterDataPoint> byOutcome = new HashMap<>();
        for (String outcome : List.of("accepted", "duplicate", "rejected", "unavailable", "too_large")) {
            // present at 0 from the start, so rate() sees the first one; looked up once, not per request
            byOutcome.put(outcome, notifications.labelValues(outcome));
        }
        notificationsByOutcome = Map.copyOf(byOutcome);
        deliveries = Counter.builder()
                .name("gpuwatch_receiver_deliveries_total")
                .help("Delivery attempts by outcome")
                .labelNames("receiver", "integration", "outcome")
                .register(registry);
        deliveryLatency = Histogram.builder()
                .name("gpuwatch_receiver_delivery_latency_seconds")
                .help("Time from receipt of a notification to its successful delivery")
                .labelNames("integration")
                .classicOnly()
                .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
                .register(registry);
        GaugeWithCallback.builder()
                .name("gpuwatch_receiver_pending_deliveries")
                .help("Deliveries waiting for a (re)try")
                .labelNames("integration")
                .callback(cb -> {
                    var counts = store.countByIntegration(NotificationStore.DeliveryStatus.PENDING);
                    INTEGRATIONS.forEach(i -> cb.call(counts.getOrDefault(i, 0L), i));
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("gpuwatch_receiver_dead_letters")
                .help("Deliveries in the dead-letter list")
                .labelNames("integration")
                .callback(cb -> {
                    var counts = store.countByIntegration(NotificationStore.DeliveryStatus.DEAD);
                    INTEGRATIONS.forEach(i -> cb.call(counts.getOrDefault(i, 0L), i));
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("gpuwatch_receiver_store_writable")
                .help("1 when the last store write succeeded")
                .callback(cb -> cb.call(store.writable() ? 1 : 0))
                .register(registry);
        alertsWithoutRunbook = Counter.builder()
                .name("gpuwatch_receiver_alerts_without_runbook_total")
                .help("Alerts delivered with the \"no runbook\" marker")
                .labelNames("alertname")
                .register(registry);
        digests = Counter.builder()
                .name("gpuwatch_receiver_digests_total")
                .help("Storm digests sent instead of single messages")
                .labelNames("receiver")
                .register(registry);
        graphs = Counter.builder()
                .name("gpuwatch_receiver_graphs_total")
                .help("Graphs for messages by outcome: rendered, timeout (Prometheus slower than prometheus_timeout),"
                        + " error, no_expr (no g0.expr in the generatorURL)")
                .labelNames("outcome")
                .register(registry);
        for (String outcome : GRAPH_OUTCOMES) {
            graphs.labelValues(outcome);  // present at 0 from the start
        }
    }

    /** The outcomes of {@link #graph}. */
    public static final List<String> GRAPH_OUTCOMES = List.of("rendered", "timeout", "error", "no_expr");

    /** {@code rendered}, {@code timeout}, {@code error} or {@code no_expr}: one per message that wanted a graph. */
    public void graph(String outcome) {
        graphs.labelValues(outcome).inc();
    }

    /** {@code accepted}, {@code duplicate}, {@code rejected}, {@code unavailable} or {@code too_large}. */
    public void notification(String outcome) {
        CounterDataPoint counter = notificationsByOutcome.get(outcome);
        (counter != null ? counter : notifications.labelValues(outcome)).inc();
    }

    /** {@code delivered}, {@code retry} or {@code dead_letter}. */
    public void delivery(String receiver, String integration, String outcome) {
        deliveries.labelValues(receiver, integration, outcome).inc();
    }

    public void delivered(String integration, Duration sinceReceipt) {
        deliveryLatency.labelValues(integration).observe(sinceReceipt.toNanos() / 1e9);
    }

    public void alertWithoutRunbook(String alertname) {
        alertsWithoutRunbook.labelValues(alertname).inc();
    }

    public void digest(String receiver) {
        digests.labelValues(receiver).inc();
    }

    /**
     * A Slack button press by how it ended: {@code action} is the button ({@code silence_1h}, {@code silence_4h},
     * {@code acknowledge}, {@code none} before the request is read), {@code outcome} one of {@code done},
     * {@code existing} (an earlier press is still active), {@code failed} (Alertmanager or PagerDuty failed),
     * {@code refused} (401: signature missing, wrong or stale), {@code invalid} (400), {@code unavailable} (503).
     */
    public void interaction(String action, String outcome) {
        interactions().labelValues(action, outcome).inc();
    }

    private Counter interactionsCounter;

    /** Registered on first use, so a receiver without buttons exposes no empty series. */
    private synchronized Counter interactions() {
        if (interactionsCounter == null) {
            interactionsCounter = Counter.builder()
                    .name("gpuwatch_receiver_interactions_total")
                    .help("Slack button presses by action and outcome")
                    .labelNames("action", "outcome")
                    .register(registry);
        }
        return interactionsCounter;
    }

    /** The Prometheus text format of everything registered. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
