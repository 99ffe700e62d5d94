package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.InferenceCollector.Attribution;
import dev.gpuwatch.exporter.modelserver.discovery.Cgroups;
import dev.gpuwatch.exporter.modelserver.discovery.ContainerRef;
import dev.gpuwatch.exporter.modelserver.discovery.ProcFs;
import dev.gpuwatch.exporter.modelserver.discovery.ProcessScanner;
import dev.gpuwatch.exporter.modelserver.discovery.ServerProcess;
import dev.gpuwatch.exporter.modelserver.kubernetes.KubernetesPods;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import io.prometheus.metrics.model.registry.MultiCollector;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The model-server module of the exporter, wired from its parts: {@link Pollers} poll every target (static and
 * discovered) in the background, a {@link RenderCoalescer} renders their results for scrapes, and every
 * {@code model_server_discovery.interval} a /proc scan feeds {@link ProcessAttribution}, {@link Discovery} and
 * {@link PodRefresh}. The one {@link #collector()} reads only those cached results. Open it with {@link #open},
 * register {@link #collector()}, close it on shutdown.
 */
public final class ModelServers implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ModelServers.class.getName());
    /** How long a render waits for other polls to end, so that polls ending together are rendered once. */
    private static final Duration RENDER_COALESCE = Duration.ofMillis(25);

    private final InferenceSettings settings;
    private final Supplier<List<GpuSnapshot>> gpuSamples;
    private final ExecutorService threads;
    private final ClientOnFirstUse client;
    private final ProcFs proc;
    private final ProcessScanner scanner;
    private final Pollers pollers;
    private final Discovery discovery;
    private final PodRefresh podRefresh;
    private final AtomicReference<Attribution> attribution = new AtomicReference<>(Attribution.NONE);
    private final InferenceCollector collector;
    private final RenderCoalescer renders;
    private final CountDownLatch closed = new CountDownLatch(1);

    /**
     * A module that polls and scans only when told to ({@link #pollAll()}, {@link #scanOnce()}) until
     * {@link #open} starts it.
     *
     * @param renderCoalesce how long a render waits for other polls; zero renders on the polling thread
     */
    ModelServers(InferenceSettings settings, Supplier<List<GpuSnapshot>> gpuSamples, Duration renderCoalesce) {
        this.settings = settings;
        this.gpuSamples = gpuSamples;
        this.threads = Executors.newVirtualThreadPerTaskExecutor();
        this.client = new ClientOnFirstUse(() -> HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(settings.polling().timeout())
                .executor(threads).build());
        this.proc = new ProcFs(settings.discovery().procRoot());
        this.scanner = new ProcessScanner(proc);
        ScrapeTimeouts scrapeTimeouts = new ScrapeTimeouts();
        this.renders = new RenderCoalescer(renderCoalesce, this::render);
        this.pollers = new Pollers(client, settings.polling(), scrapeTimeouts, renders::request);
        this.discovery = new Discovery(client, settings.polling());
        Optional<KubernetesPods> pods = settings.attribution().kubernetes().flatMap(ModelServers::kubernetes);
        this.podRefresh = new PodRefresh(pods, settings.attribution().kubernetes()
                .map(InferenceSettings.Kubernetes::refreshInterval).orElse(Duration.ZERO), System::nanoTime);
        this.collector = new InferenceCollector(pollers::states, attribution::get, gpuSamples, pods,
                settings.attribution().containers(), scrapeTimeouts);
        for (TargetSettings t : settings.targets()) {
            pollers.add(t);
        }
    }

    /**
     * Starts polling every static target and, in the background, the process scan (every
     * {@code model_server_discovery.interval}) that finds servers, attributes pids and resolves pods.
     */
    public static ModelServers open(InferenceSettings settings, Supplier<List<GpuSnapshot>> gpuSamples) {
        ModelServers m = new ModelServers(settings, gpuSamples, RENDER_COALESCE);
        m.pollers.start();
        Thread.ofVirtual().name("inference-scan").start(m::scanLoop);
        LOG.log(Level.INFO, settings.targets().size() + " model-server target(s) configured; discovery "
                + (settings.discovery().enabled() ? "on" : "off") + ", polling every " + settings.polling().interval());
        return m;
    }

    /** The collector to register; it reads cached results only. */
    public MultiCollector collector() {
        return collector;
    }

    @Override
    public void close() {
        closed.countDown();
        pollers.close();
        threads.shutdownNow();
        client.shutdownNow();
    }

    /**
     * What keeps the exporter from being ready, for {@code /-/ready}: a target whose poller thread has died (its
     * series are down with {@code internal_error} meanwhile). Empty when every poller runs.
     */
    public Optional<String> notReady() {
        List<String> dead = pollers.dead();
        if (dead.isEmpty()) {
            return Optional.empty();
        }
        renders.request(); // in case the dying thread could not: scrapes must see these targets down
        return Optional.of("the poller of model server(s) " + String.join(", ", dead) + " has stopped");
    }

    /** Polls every target once, concurrently, and waits for all of them. */
    void pollAll() {
        pollers.pollAll();
    }

    List<TargetState> states() {
        return pollers.states();
    }

    Optional<TargetPoller> poller(String name) {
        return pollers.poller(name);
    }

    /** For testing only. */
    Pollers pollers() {
        return pollers;
    }

    /** Builds and renders the next generation of series from the current poll results. */
    private void render() {
        collector.refresh();
    }

    private void scanLoop() {
        while (closed.getCount() > 0) {
            try {
                scanOnce();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "model-server process scan failed: " + e);
            }
            try {
                if (closed.await(settings.discovery().interval().toNanos(), TimeUnit.NANOSECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * One scan: the trees of the processes holding GPU memory, attributed to static targets or to the servers
     * discovery finds on their ports, each GPU process's container, and (when due) the pod list.
     */
    void scanOnce() {
        List<GpuSnapshot> gpus;
        try {
            gpus = gpuSamples.get();
        } catch (RuntimeException e) {
            gpus = List.of();
        }
        Set<Integer> gpuPids = new HashSet<>();
        for (GpuSnapshot g : gpus) {
            for (GpuProcess p : g.processes().orElse(List.of())) {
                gpuPids.add(p.pid());
            }
        }
        List<ServerProcess> candidates = scanner.scan(gpuPids);
        List<ProcessAttribution.StaticTarget> targets =
                settings.targets().stream().map(ProcessAttribution.StaticTarget::of).toList();
        ProcessAttribution.Result found;
        if (settings.discovery().enabled()) {
            Discovery.Round round = discovery.round();
            found = ProcessAttribution.attribute(gpuPids, candidates, targets, round::identify);
            round.end();
            pollers.reconcile(found.discovered());
        } else {
            found = ProcessAttribution.attribute(gpuPids, candidates, targets, sp -> List.of());
        }
        Map<Integer, ContainerRef> containers = new HashMap<>();
        if (settings.attribution().containers()) {
            for (int pid : gpuPids) {
                proc.cgroup(pid).map(Cgroups::parse).filter(r -> !r.isEmpty()).ifPresent(r -> containers.put(pid, r));
            }
        }
        attribution.set(new Attribution(found.targetPids(), Map.copyOf(containers)));
        podRefresh.whenDue();
    }

    /** Per GPU UUID, the pod its processes run in (see {@link InferenceCollector#gpuPods}); empty off Kubernetes. */
    public Map<String, GpuPod> gpuPods() {
        return collector.gpuPods();
    }

    private static Optional<KubernetesPods> kubernetes(InferenceSettings.Kubernetes k) {
        try {
            return Optional.of(new KubernetesPods(KubernetesPods.client(k.caFile()), k.apiUrl(), k.nodeName(),
                    k.tokenFile()));
        } catch (IOException | GeneralSecurityException e) {
            LOG.log(Level.WARNING, "Kubernetes pod names disabled: cannot read the CA " + k.caFile() + ": " + e);
            return Optional.empty();
        }
    }

    /**
     * The pollers' HTTP client, built on first use: building one loads JSSE and parses the CA trust store
     * (8 to 9 MiB resident, docs/benchmarks.md "Footprint"), which an exporter with no model server to poll
     * never needs.
     */
    private static final class ClientOnFirstUse implements Supplier<HttpClient> {
        private final Supplier<HttpClient> build;
        private HttpClient client; // guarded by this; null until first use

        ClientOnFirstUse(Supplier<HttpClient> build) {
            this.build = build;
        }

        @Override
        public synchronized HttpClient get() {
            if (client == null) {
                client = build.get();
            }
            return client;
        }

        synchronized void shutdownNow() {
            if (client != null) {
                client.shutdownNow();
            }
        }
    }
}
