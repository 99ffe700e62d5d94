package dev.gpuwatch.receiver.graph;

import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.context.ContextCatalog;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Enricher;
import dev.gpuwatch.receiver.enrich.LiveView;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds the graph and the live context to a firing notification at delivery ({@link Enricher#live}): the
 * expression of its first alert that has one ({@code g0.expr} of the generatorURL) is queried over
 * [{@code startsAt} - 1h, now] and drawn ({@link GraphRenderer}), its current value and the context catalog's
 * queries for the alert are asked at once, all in parallel under one deadline ({@code prometheus_timeout}). What
 * has not answered by then is left out and the message goes without it: a slow, failing or absent Prometheus never
 * delays a delivery by more than the deadline, nor fails it. Each message that wanted a graph counts one
 * {@code gpuwatch_receiver_graphs_total{outcome}}; a graph not attached logs one line. Thread-safe.
 */
public final class LiveEnricher implements Enricher {

    private static final Logger LOG = LoggerFactory.getLogger(LiveEnricher.class);
    /** How far before the alert began the graph starts: enough to see the way up. */
    static final Duration BEFORE = Duration.ofHours(1);
    /** The longest window drawn, for an alert firing for days: the step stays reasonable. */
    static final Duration MAX_WINDOW = Duration.ofDays(7);
    /** About this many points per series, whatever the window. */
    static final int POINTS = 300;
    /** Lines per context query. */
    static final int MAX_CONTEXT_LINES = 5;
    private static final ExecutorService QUERIES = Executors.newVirtualThreadPerTaskExecutor();

    /** Where a rendered PNG is kept so that it can be linked (PagerDuty {@code images}); empty: not kept. */
    @FunctionalInterface
    public interface Publisher {
        Optional<String> publish(byte[] png);

        static Publisher none() {
            return png -> Optional.empty();
        }
    }

    private final Enricher inner;
    private final PrometheusClient prometheus;
    private final Duration deadline;
    private final ContextCatalog catalog;
    private final Publisher publisher;
    private final ReceiverMetrics metrics;
    private final Clock clock;

    private LiveEnricher(Enricher inner, PrometheusClient prometheus, Duration deadline, ContextCatalog catalog,
            Publisher publisher, ReceiverMetrics metrics, Clock clock) {
        this.inner = inner;
        this.prometheus = prometheus;
        this.deadline = deadline;
        this.catalog = catalog;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** {@code inner} with graph and context from the Prometheus at {@code prometheusUrl}; empty URL: {@code inner}. */
    public static Enricher wrap(Enricher inner, String prometheusUrl, Duration deadline, ContextCatalog catalog,
            Publisher publisher, ReceiverMetrics metrics, Clock clock) {
        if (prometheusUrl.isEmpty()) {
            return inner;
        }
        return new LiveEnricher(inner, new PrometheusClient(prometheusUrl, deadline), deadline, catalog, publisher,
                metrics, clock);
    }

    @Override
    public EnrichedNotification enrich(Notification notification) {
        return inner.enrich(notification);
    }

    @Override
    public EnrichedNotification live(EnrichedNotification enriched) {
        EnrichedNotification base = inner.live(enriched);
        Notification n = base.notification();
        if (n.isResolved()) {
            return base;  // the graph went with the firing message; a resolve only closes it
        }
        List<Alert> firing = n.alerts().stream().filter(a -> !a.isResolved()).toList();
        Optional<Alert> withExpr = firing.stream().filter(a -> PromQl.expression(a.generatorUrl()).isPresent()).findFirst();
        if (withExpr.isEmpty()) {
            metrics.graph("no_expr");
            return base.withLive(new LiveView(Optional.empty(), context(firing, Optional.empty(), deadlineFromNow())));
        }
        Alert alert = withExpr.get();
        String expr = PromQl.expression(alert.generatorUrl()).orElseThrow();
        PromQl.Plan plan = PromQl.plan(expr);
        Instant now = clock.instant();
        Deadline until = deadlineFromNow();
        Instant firingSince = firing.stream().filter(a -> PromQl.expression(a.generatorUrl()).equals(Optional.of(expr)))
                .map(Alert::startsAt).min(Comparator.naturalOrder()).orElse(alert.startsAt());
        Instant from = firingSince.minus(BEFORE);
        if (from.isBefore(now.minus(MAX_WINDOW))) {
            from = now.minus(MAX_WINDOW);
        }
        if (!from.isBefore(now)) {
            from = now.minus(BEFORE);
        }
        Duration window = Duration.between(from, now);
        Duration step = Duration.ofSeconds(Math.max(5, window.toSeconds() / POINTS));
        Instant start = from;
        List<Alert> sameExpr = firing.stream().filter(a -> PromQl.expression(a.generatorUrl()).equals(Optional.of(expr))).toList();
        Future<GraphOutcome> graph = QUERIES.submit(() -> graph(plan, alert, sameExpr, start, now, step, firingSince, until));
        List<LiveView.Context> context = context(firing, Optional.of(plan), until);
        GraphOutcome outcome = await(graph, until).orElse(new GraphOutcome.Failed("timeout", "Prometheus did not answer within "
                + deadline.toMillis() + "ms"));
        Optional<LiveView.Graph> drawn = Optional.empty();
        switch (outcome) {
            case GraphOutcome.Rendered r -> {
                metrics.graph("rendered");
                drawn = Optional.of(r.graph());
            }
            case GraphOutcome.Failed f -> {
                metrics.graph(f.outcome());
                LOG.info("graph of {} not attached ({}): {}", alert.alertName(), f.outcome(), f.reason());
            }
        }
        return base.withLive(new LiveView(drawn, context));
    }

    /** The end of this delivery's Prometheus step, on the monotonic clock (a test's fixed Clock must not stop it). */
    private record Deadline(long nanos) {
        Duration remaining() {
            return Duration.ofNanos(Math.max(0, nanos - System.nanoTime()));
        }
    }

    private Deadline deadlineFromNow() {
        return new Deadline(System.nanoTime() + deadline.toNanos());
    }

    private sealed interface GraphOutcome {
        record Rendered(LiveView.Graph graph) implements GraphOutcome {}

        /** {@code outcome}: the metric's label ({@code timeout} or {@code error}). */
        record Failed(String outcome, String reason) implements GraphOutcome {}
    }

    private GraphOutcome graph(PromQl.Plan plan, Alert alert, List<Alert> alerts, Instant from, Instant to, Duration step,
            Instant firingSince, Deadline until) throws InterruptedException {
        PrometheusClient.Answer answer = prometheus.range(plan.query(), from, to, step, remaining(until));
        return switch (answer) {
            case PrometheusClient.Answer.Failed f -> new GraphOutcome.Failed(
                    f.reason().equals("timeout") ? "timeout" : "error", f.reason());
            case PrometheusClient.Answer.Data d -> {
                PrometheusClient.Answer.Data shown = PrometheusClient.top(ofAlerts(d.series(), alerts),
                        PrometheusClient.MAX_SERIES);
                String title = alert.alertName() + ": " + plan.query()
                        + plan.threshold().map(t -> " " + t.operator() + " " + plan.unit().format(t.value())).orElse("");
                try {
                    Optional<byte[]> png = GraphRenderer.render(new GraphRenderer.Chart(title, shown.series(),
                            shown.omitted(), plan.threshold(), plan.unit(), firingSince, from, to));
                    if (png.isEmpty()) {
                        yield new GraphOutcome.Failed("error", "PNG larger than " + GraphRenderer.MAX_PNG_BYTES + " bytes");
                    }
                    String alt = alert.alertName() + " over the last " + Duration.between(from, to).toMinutes()
                            + " minutes: " + shown.series().size() + " series of " + plan.query();
                    String file = alert.alertName().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
                            + "-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                                    .withZone(java.time.ZoneOffset.UTC).format(to) + ".png";
                    Optional<String> url = publisher.publish(png.get());
                    yield new GraphOutcome.Rendered(new LiveView.Graph(png.get(), file, title, alt, url));
                } catch (IOException | RuntimeException | InternalError | LinkageError e) {
                    // AWT without fonts (a minimal image) fails here: the message goes without the graph
                    yield new GraphOutcome.Failed("error", "rendering failed: " + e);
                }
            }
        };
    }

    /**
     * The series of the notification's alerts: those whose labels all appear, equal, in one of the alerts'
     * labels (an alert carries its series' labels plus the rule's). None matching (the expression renames
     * labels): all of them.
     */
    static List<PrometheusClient.Series> ofAlerts(List<PrometheusClient.Series> series, List<Alert> alerts) {
        List<PrometheusClient.Series> matching = series.stream().filter(s -> alerts.stream()
                .anyMatch(a -> s.labels().entrySet().stream().allMatch(e -> e.getValue().equals(a.labels().get(e.getKey())))))
                .toList();
        return matching.isEmpty() ? series : matching;
    }

    /**
     * The current value of the expression (for the notification's alerts) and the catalog's queries for its first
     * firing alert, run in parallel; what has not answered by {@code until} is left out.
     */
    private List<LiveView.Context> context(List<Alert> firing, Optional<PromQl.Plan> plan, Deadline until) {
        if (firing.isEmpty()) {
            return List.of();
        }
        Alert first = firing.getFirst();
        List<Callable<Optional<LiveView.Context>>> tasks = new ArrayList<>();
        plan.ifPresent(p -> tasks.add(() -> currentValue(p, firing, until)));
        for (ContextCatalog.Query q : catalog.queriesFor(first.labels())) {
            tasks.add(() -> catalogQuery(q, until));
        }
        List<Future<Optional<LiveView.Context>>> futures = tasks.stream().map(QUERIES::submit).toList();
        List<LiveView.Context> out = new ArrayList<>();
        int late = 0;
        for (Future<Optional<LiveView.Context>> f : futures) {
            Optional<Optional<LiveView.Context>> answer = await(f, until);
            if (answer.isEmpty()) {
                late++;
            }
            answer.flatMap(c -> c).ifPresent(out::add);
        }
        if (late > 0) {
            LOG.info("{} of {} context queries for {} did not answer within {}ms", late, futures.size(),
                    first.alertName(), deadline.toMillis());
        }
        return out;
    }

    private Optional<LiveView.Context> currentValue(PromQl.Plan plan, List<Alert> alerts, Deadline until)
            throws InterruptedException {
        if (!(prometheus.instant(plan.query(), clock.instant(), remaining(until)) instanceof PrometheusClient.Answer.Data d)) {
            return Optional.empty();
        }
        PrometheusClient.Answer.Data shown = PrometheusClient.top(ofAlerts(d.series(), alerts), MAX_CONTEXT_LINES);
        List<String> legends = GraphRenderer.legends(shown.series());
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < shown.series().size(); i++) {
            List<PrometheusClient.Sample> samples = shown.series().get(i).samples();
            if (!samples.isEmpty()) {
                lines.add((shown.series().size() == 1 ? "" : legends.get(i) + ": ")
                        + plan.unit().format(samples.getLast().value()));
            }
        }
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        String threshold = plan.threshold().map(t -> " (fires when " + t.operator() + " " + plan.unit().format(t.value()) + ")")
                .orElse("");
        return Optional.of(new LiveView.Context("Now" + threshold, lines));
    }

    private Optional<LiveView.Context> catalogQuery(ContextCatalog.Query q, Deadline until) throws InterruptedException {
        if (!(prometheus.instant(q.expr(), clock.instant(), remaining(until)) instanceof PrometheusClient.Answer.Data d)) {
            return Optional.empty();
        }
        if (d.series().isEmpty()) {
            return Optional.empty();
        }
        Unit unit = PromQl.plan(q.expr()).unit();
        PrometheusClient.Answer.Data shown = PrometheusClient.top(d.series(), MAX_CONTEXT_LINES);
        List<String> lines = new ArrayList<>();
        for (PrometheusClient.Series s : shown.series()) {
            if (s.samples().isEmpty()) {
                continue;
            }
            String name = q.show().stream().map(k -> s.labels().getOrDefault(k, "")).filter(v -> !v.isEmpty())
                    .collect(Collectors.joining(" "));
            lines.add((name.isEmpty() ? "" : name + ": ") + unit.format(s.samples().getLast().value()));
        }
        if (shown.omitted() > 0) {
            lines.add("… and " + shown.omitted() + " more");
        }
        return Optional.of(new LiveView.Context(q.title(), lines));
    }

    private static Duration remaining(Deadline until) {
        Duration left = until.remaining();
        return left.isZero() ? Duration.ofMillis(1) : left;
    }

    /** The task's value if it finished by {@code until}; else it is cancelled (its HTTP call interrupted). */
    private <T> Optional<T> await(Future<T> future, Deadline until) {
        try {
            long wait = until.remaining().toNanos();
            return Optional.of(future.get(wait, TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            future.cancel(true);
            return Optional.empty();
        } catch (ExecutionException e) {
            LOG.info("a Prometheus query for a message failed: {}", e.getCause().toString());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            return Optional.empty();
        }
    }

}
