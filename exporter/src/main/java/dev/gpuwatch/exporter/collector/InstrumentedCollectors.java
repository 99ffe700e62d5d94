package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.exporter.sampling.Sampler;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The one collector registered with the registry: runs every named collector, times it, isolates its failure
 * (a failing collector loses its own series, never the scrape), and adds the exporter's own health:
 * {@code gpuwatch_exporter_build_info}, {@code gpuwatch_exporter_collector_duration_seconds},
 * {@code gpuwatch_exporter_collector_success}, {@code gpuwatch_exporter_sample_age_seconds} and
 * {@code gpuwatch_exporter_gpus}. The sampler reports as the collector {@code sampler} (its last probe call).
 */
public final class InstrumentedCollectors implements MultiCollector {
    private static final Logger LOG = Logger.getLogger("collector");
    static final String SAMPLER = "sampler";

    /** Identity of this exporter process for {@code gpuwatch_exporter_build_info}. */
    public record BuildInfo(String version, String javaVersion, String backend) {}

    private final List<NamedCollector> collectors;
    private final BuildInfo buildInfo;
    private final Supplier<Optional<Sampler.State>> sampler;
    private final InstantSource clock;
    private final LongSupplier nanoTime;
    /** Collectors whose last run failed, so a failure is logged once, not on every scrape. */
    private final Set<String> failing = ConcurrentHashMap.newKeySet();

    public InstrumentedCollectors(List<NamedCollector> collectors, BuildInfo buildInfo,
            Supplier<Optional<Sampler.State>> sampler, InstantSource clock) {
        this(collectors, buildInfo, sampler, clock, System::nanoTime);
    }

    InstrumentedCollectors(List<NamedCollector> collectors, BuildInfo buildInfo,
            Supplier<Optional<Sampler.State>> sampler, InstantSource clock, LongSupplier nanoTime) {
        this.collectors = List.copyOf(collectors);
        this.buildInfo = buildInfo;
        this.sampler = sampler;
        this.clock = clock;
        this.nanoTime = nanoTime;
        Set<String> names = new HashSet<>();
        for (NamedCollector c : this.collectors) {
            if (c.name().equals(SAMPLER) || !names.add(c.name())) {
                throw new IllegalArgumentException("collector name used twice: " + c.name());
            }
        }
    }

    @Override
    public MetricSnapshots collect() {
        return collectAll(MultiCollector::collect);
    }

    /**
     * The HTTP server calls this one; the request is handed on so that a collector can honour
     * {@code X-Prometheus-Scrape-Timeout-Seconds} (the model-server pollers keep their deadline below it).
     */
    @Override
    public MetricSnapshots collect(PrometheusScrapeRequest request) {
        return collectAll(c -> c.collect(request));
    }

    private MetricSnapshots collectAll(Function<MultiCollector, MetricSnapshots> run) {
        Families health = new Families();
        health.info("gpuwatch_exporter_build", "Build of the gpuwatch exporter and the GPU backend in use; value 1.")
                .add(Labels.of("version", buildInfo.version(), "java_version", buildInfo.javaVersion(), "backend", buildInfo.backend()));
        var duration = health.gauge("gpuwatch_exporter_collector_duration_seconds",
                "Duration of the collector's last run (sampler: the last probe sample).");
        var success = health.gauge("gpuwatch_exporter_collector_success",
                "1 when the collector's last run succeeded (sampler: the last probe sample).");

        List<MetricSnapshot> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (NamedCollector c : collectors) {
            long t0 = nanoTime.getAsLong();
            boolean ok;
            try {
                List<MetricSnapshot> produced = new ArrayList<>();
                for (MetricSnapshot m : run.apply(c.collector())) {
                    if (names.contains(m.getMetadata().getPrometheusName())) {
                        throw new IllegalStateException("metric " + m.getMetadata().getPrometheusName() + " is emitted by another collector too");
                    }
                    produced.add(m);
                }
                produced.forEach(m -> names.add(m.getMetadata().getPrometheusName()));
                out.addAll(produced);
                ok = true;
                if (failing.remove(c.name())) {
                    LOG.info("collector " + c.name() + " works again");
                }
            } catch (RuntimeException e) {
                ok = false;
                if (failing.add(c.name())) {
                    LOG.warning("collector " + c.name() + " failed, its series are left out of scrapes: " + e);
                }
            }
            Labels labels = Labels.of("collector", c.name());
            duration.add(labels, (nanoTime.getAsLong() - t0) / 1e9);
            success.add(labels, ok ? 1 : 0);
        }

        Optional<Sampler.State> st = sampler.get();
        var age = health.gauge("gpuwatch_exporter_sample_age_seconds",
                "Age of the GPU sample served, from the start of the last successful sample.");
        var gpus = health.gauge("gpuwatch_exporter_gpus", "Number of GPUs the backend reports, lost and unreadable ones included.");
        if (st.isPresent()) {
            Sampler.State s = st.get();
            Labels labels = Labels.of("collector", SAMPLER);
            if (s.lastAttemptEnd().isPresent()) {
                duration.add(labels, s.lastDuration().toNanos() / 1e9);
                success.add(labels, s.lastSucceeded() ? 1 : 0);
            }
            s.lastSuccess().ifPresent(t -> {
                age.add(Labels.EMPTY, Math.max(0, Duration.between(t, clock.instant()).toNanos() / 1e9));
                gpus.add(Labels.EMPTY, s.gpus().size());
            });
        } else {
            gpus.add(Labels.EMPTY, 0); // no backend: the exporter says so with backend="none" and 0 GPUs
        }
        for (MetricSnapshot m : health.build()) {
            out.add(m);
        }
        return new MetricSnapshots(out);
    }
}
