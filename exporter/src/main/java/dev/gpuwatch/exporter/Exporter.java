package dev.gpuwatch.exporter;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.collector.InstrumentedCollectors;
import dev.gpuwatch.exporter.collector.NamedCollector;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.sampling.Health;
import dev.gpuwatch.exporter.sampling.Sampler;
import dev.gpuwatch.exporter.web.ScenarioEndpoint;
import dev.gpuwatch.exporter.web.WebServer;
import dev.gpuwatch.probe.GpuProbe;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.simulated.SimulatedFleet;
import dev.gpuwatch.web.WebConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * A running exporter: the probe, its sampler, the collectors and the web server, closed in reverse order.
 * {@link ExporterMain} starts one from the command line; tests start one with a fake or simulated probe.
 */
public final class Exporter implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("exporter");

    /** What the collectors of the exporter read, for code that adds its own collectors (model servers). */
    public record Context(ExporterConfig config, Supplier<List<GpuSnapshot>> gpus, InstantSource clock) {}

    /**
     * Extra collectors, what closes them, and their readiness checks (each names a problem or is empty; see
     * {@link Health#withChecks}); see {@link ExporterMain#collectors}.
     */
    public record Extension(List<NamedCollector> collectors, List<AutoCloseable> resources,
            List<Supplier<Optional<String>>> readiness) {
        public Extension {
            collectors = List.copyOf(collectors);
            resources = List.copyOf(resources);
            readiness = List.copyOf(readiness);
        }
    }

    private final Optional<GpuProbe> probe;
    private final Optional<Sampler> sampler;
    private final List<AutoCloseable> resources;
    private final WebServer server;
    private final String url;
    private final String backend;

    private Exporter(Optional<GpuProbe> probe, Optional<Sampler> sampler, List<AutoCloseable> resources,
            WebServer server, String url, String backend) {
        this.probe = probe;
        this.sampler = sampler;
        this.resources = resources;
        this.server = server;
        this.url = url;
        this.backend = backend;
    }

    /**
     * Opens the backend with {@code opener}, starts sampling and serves. The backend being unavailable is not an
     * error: the exporter serves its own health, says why there is no GPU, and is never ready.
     *
     * @param collectors builds the collectors to serve from what they read
     */
    static Exporter start(ExporterConfig config, WebConfig web, Function<ExporterConfig, GpuProbes.Result> opener,
            Function<Context, Extension> collectors, InstantSource clock) throws ConfigException, IOException {
        GpuProbes.Result opened = opener.apply(config);
        opened.notes().forEach(LOG::warning);
        Optional<GpuProbe> probe = Optional.empty();
        Optional<Sampler> sampler = Optional.empty();
        Optional<ScenarioEndpoint> scenario = Optional.empty();
        Health health;
        String backend;
        List<String> notes = new ArrayList<>();
        switch (opened.opening()) {
            case ProbeOpening.Opened o -> {
                probe = Optional.of(o.probe());
                Sampler s = new Sampler(o.probe(), config.settings().gpu().sampleInterval(), clock);
                sampler = Optional.of(s);
                health = Health.of(s, clock);
                backend = o.probe().backend();
                if (o.probe() instanceof SimulatedFleet fleet) {
                    scenario = Optional.of(new ScenarioEndpoint(fleet, s::sampleSoon));
                } else {
                    notes.add(o.probe().description());
                }
                LOG.info("GPU backend " + backend + ": " + o.probe().description());
            }
            case ProbeOpening.Unavailable u -> {
                health = Health.withoutBackend(u.reason(), clock);
                backend = "none";
                notes.add("No GPU is exposed: the " + u.backend() + " backend is unavailable: " + u.reason());
                LOG.warning("no GPU is exposed: the " + u.backend() + " backend is unavailable: " + u.reason());
            }
        }
        notes.addAll(opened.notes());

        Supplier<List<GpuSnapshot>> gpus = sampler.<Supplier<List<GpuSnapshot>>>map(Sampler::snapshots).orElse(List::of);
        Extension extension;
        try {
            extension = collectors.apply(new Context(config, gpus, clock));
        } catch (RuntimeException e) {
            probe.ifPresent(GpuProbe::close);
            throw e;
        }
        List<AutoCloseable> resources = new ArrayList<>(extension.resources());
        health = health.withChecks(extension.readiness());
        PrometheusRegistry registry = new PrometheusRegistry();
        Optional<Sampler> sampled = sampler;
        registry.register(new InstrumentedCollectors(extension.collectors(),
                new InstrumentedCollectors.BuildInfo(version(), Runtime.version().toString(), backend),
                () -> sampled.map(Sampler::state), clock));

        WebServer server;
        try {
            // the simulated fleet's own lines (scenario now, how to switch it) are read again on every request
            List<String> landing = scenario.map(e -> e.landingNotes(notes)).orElse(notes);
            server = WebServer.start(config.settings().web().listenAddress(), web, registry, health, version(), backend, landing, scenario);
        } catch (IOException | RuntimeException e) {
            closeAll(resources);
            probe.ifPresent(GpuProbe::close);
            throw e;
        }
        sampler.ifPresent(Sampler::start);
        String url = server.url(config.settings().web().listenAddress());
        return new Exporter(probe, sampler, resources, server, url, backend);
    }

    public int port() {
        return server.port();
    }

    public String url() {
        return url;
    }

    public String backend() {
        return backend;
    }

    public Optional<Sampler> sampler() {
        return sampler;
    }

    @Override
    public void close() {
        server.close();
        closeAll(resources);
        sampler.ifPresent(Sampler::close);
        probe.ifPresent(GpuProbe::close);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warning("closing " + r + " failed: " + e);
            }
        }
    }

    /** The project version from the build (version.properties), "unknown" when run from an unfiltered tree. */
    static String version() {
        try (InputStream in = Exporter.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
