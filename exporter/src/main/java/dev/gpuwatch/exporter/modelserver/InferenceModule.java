package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.InferenceCollector.Attribution;
import dev.gpuwatch.exporter.modelserver.discovery.Cgroups;
import dev.gpuwatch.exporter.modelserver.discovery.ContainerRef;
import dev.gpuwatch.exporter.modelserver.discovery.Endpoint;
import dev.gpuwatch.exporter.modelserver.discovery.ProcFs;
import dev.gpuwatch.exporter.modelserver.discovery.ProcessScanner;
import dev.gpuwatch.exporter.modelserver.discovery.ServerProcess;
import dev.gpuwatch.exporter.modelserver.kubernetes.KubernetesPods;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import io.prometheus.metrics.model.registry.MultiCollector;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The model-server module of the exporter: polls every target (static and discovered) in the background, scans
 * the GPU processes' trees for ports and containers, and offers one {@link #collector()} that reads only those
 * cached results. Open it with {@link #open}, register {@link #collector()}, close it on shutdown.
 */
public final class InferenceModule implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InferenceModule.class.getName());

    private final InferenceSettings settings;
    private final Supplier<List<GpuSnapshot>> gpuSamples;
    private final ExecutorService threads;
    private final HttpClient client;
    private final ScrapeTimeouts scrapeTimeouts = new ScrapeTimeouts();
    private final ProcessScanner scanner;
    private final ProcFs proc;
    private final Optional<KubernetesPods> pods;
    private final boolean background;
    /** How long a render waits for other polls to end, so that polls ending together are rendered once. */
    private static final Duration RENDER_COALESCE = Duration.ofMillis(25);
    private final AtomicBoolean renderPending = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final ConcurrentSkipListMap<String, Running> pollers = new ConcurrentSkipListMap<>();
    private final AtomicReference<Attribution> attribution = new AtomicReference<>(Attribution.NONE);
    /** Fingerprints by process (root pid and start time) and port; a process keeps its server type for life. */
    private final Map<String, Optional<Fingerprint.Found>> fingerprints = new ConcurrentHashMap<>();
    private final InferenceCollector collector;
    private volatile long lastPodRefreshNanos;

    /** A poller and the thread that runs it (absent when polling is driven by tests). */
    private record Running(TargetPoller poller, Optional<Thread> thread) {}

    private InferenceModule(InferenceSettings settings, Supplier<List<GpuSnapshot>> gpuSamples, boolean background) {
        this.settings = settings;
        this.gpuSamples = gpuSamples;
        this.background = background;
        this.threads = Executors.newVirtualThreadPerTaskExecutor();
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(settings.polling().timeout())
                .executor(threads).build();
        this.proc = new ProcFs(settings.discovery().procRoot());
        this.scanner = new ProcessScanner(proc);
        this.pods = settings.attribution().kubernetes().flatMap(InferenceModule::kubernetes);
        this.collector = new InferenceCollector(this::states, attribution::get, gpuSamples, pods,
                settings.attribution().containers(), scrapeTimeouts);
        for (TargetSettings t : settings.targets()) {
            start(t);
        }
    }

    /**
     * Starts polling every static target and, in the background, the process scan (every
     * {@code model_server_discovery.interval}) that finds servers, attributes pids and resolves pods.
     */
    public static InferenceModule open(InferenceSettings settings, Supplier<List<GpuSnapshot>> gpuSamples) {
        InferenceModule m = new InferenceModule(settings, gpuSamples, true);
        Thread.ofVirtual().name("inference-scan").start(m::scanLoop);
        LOG.log(Level.INFO, settings.targets().size() + " model-server target(s) configured; discovery "
                + (settings.discovery().enabled() ? "on" : "off") + ", polling every " + settings.polling().interval());
        return m;
    }

    /** A module that polls and scans only when told to ({@link #pollAll()}, {@link #scanOnce()}): for tests. */
    static InferenceModule manual(InferenceSettings settings, Supplier<List<GpuSnapshot>> gpuSamples) {
        return new InferenceModule(settings, gpuSamples, false);
    }

    /** The collector to register; it reads cached results only. */
    public MultiCollector collector() {
        return collector;
    }

    @Override
    public void close() {
        closed.countDown();
        pollers.values().forEach(r -> r.thread().ifPresent(Thread::interrupt));
        threads.shutdownNow();
        client.shutdownNow();
    }

    List<TargetState> states() {
        List<TargetState> out = new ArrayList<>(pollers.size());
        for (Running r : pollers.values()) {
            out.add(r.poller().state());
        }
        return out;
    }

    /** Polls every target once, concurrently, and waits for all of them. */
    void pollAll() {
        List<Thread> running = new ArrayList<>();
        for (Running r : pollers.values()) {
            running.add(Thread.ofVirtual().start(r.poller()::pollOnce));
        }
        for (Thread t : running) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    Optional<TargetPoller> poller(String name) {
        return Optional.ofNullable(pollers.get(name)).map(Running::poller);
    }

    private void start(TargetSettings t) {
        TargetPoller p = new TargetPoller(t, client, settings.polling(), scrapeTimeouts, this::render);
        Optional<Thread> thread = background
                ? Optional.of(Thread.ofVirtual().name("inference-poll-" + t.name()).start(() -> pollLoop(p)))
                : Optional.empty();
        pollers.put(t.name(), new Running(p, thread));
    }

    private void pollLoop(TargetPoller p) {
        long interval = settings.polling().interval().toNanos();
        long next = System.nanoTime();
        while (closed.getCount() > 0 && !Thread.currentThread().isInterrupted()) {
            p.pollOnce();
            next += interval;
            long wait = next - System.nanoTime();
            if (wait < 0) {
                next = System.nanoTime(); // a poll overran its interval: do not try to catch up
                wait = 0;
            }
            try {
                if (closed.await(wait, TimeUnit.NANOSECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return; // stopped: closed, or the target went away
            }
        }
    }

    /** Renders the current poll results for scrapes, here on the polling (or scanning) thread. */
    private void render() {
        if (!background) {
            refresh(); // tests drive polls one by one and read the result at once
            return;
        }
        // Targets polled on the same interval finish within milliseconds of each other: wait a moment so that one
        // render (and one compression) covers all of them, instead of one per poll ending (measured: two renders
        // of 850 KB per 5 s cycle with 4 targets, each taking a core from scrapes on a 2-core node).
        if (renderPending.compareAndSet(false, true)) {
            Thread.ofVirtual().name("inference-render").start(() -> {
                try {
                    Thread.sleep(RENDER_COALESCE);
                } catch (InterruptedException e) {
                    return; // closing
                }
                renderPending.set(false); // a poll publishing from here on is in this render or schedules the next
                refresh();
            });
        }
    }

    private void refresh() {
        try {
            collector.refresh();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "rendering the model-server series failed; scrapes keep the previous ones: " + e);
        }
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
     * One scan: the trees of the processes holding GPU memory, their pids matched to static targets, discovery of
     * servers on the other trees' ports, each GPU process's container, and (when due) the pod list.
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
        // Candidates come innermost first: each GPU process goes to the nearest one that a target matches.
        List<ServerProcess> processes = scanner.scan(gpuPids);
        Map<String, Set<Integer>> targetPids = new HashMap<>();
        Set<Integer> claimed = new HashSet<>();
        List<ServerProcess> unclaimed = new ArrayList<>();
        for (ServerProcess sp : processes) {
            Set<Integer> gpu = unclaimedGpuPids(sp, gpuPids, claimed);
            if (gpu.isEmpty()) {
                continue; // every GPU process below it belongs to a server nearer to it
            }
            Optional<TargetSettings> owner = settings.targets().stream().filter(t -> serves(t, sp)).findFirst();
            if (owner.isPresent()) {
                targetPids.computeIfAbsent(owner.get().name(), k -> new HashSet<>()).addAll(gpu);
                claimed.addAll(gpu);
            } else {
                unclaimed.add(sp);
            }
        }
        if (settings.discovery().enabled()) {
            discover(unclaimed, gpuPids, claimed, targetPids);
        }
        Map<Integer, ContainerRef> containers = new HashMap<>();
        if (settings.attribution().containers()) {
            for (int pid : gpuPids) {
                proc.cgroup(pid).map(Cgroups::parse).filter(r -> !r.isEmpty()).ifPresent(r -> containers.put(pid, r));
            }
        }
        attribution.set(new Attribution(Map.copyOf(targetPids), Map.copyOf(containers)));
        pods.ifPresent(k -> {
            long now = System.nanoTime();
            Duration every = settings.attribution().kubernetes().orElseThrow().refreshInterval();
            if (lastPodRefreshNanos == 0 || now - lastPodRefreshNanos >= every.toNanos()) {
                lastPodRefreshNanos = now;
                k.refresh();
            }
        });
    }

    private static Set<Integer> unclaimedGpuPids(ServerProcess sp, Set<Integer> gpuPids, Set<Integer> claimed) {
        Set<Integer> out = new HashSet<>();
        for (int pid : sp.pids()) {
            if (gpuPids.contains(pid) && !claimed.contains(pid)) {
                out.add(pid);
            }
        }
        return out;
    }

    /**
     * Fingerprints the ports of candidates no static target claims, nearest first; starts and stops discovered
     * targets to match.
     */
    private void discover(List<ServerProcess> unclaimed, Set<Integer> gpuPids, Set<Integer> claimed,
            Map<String, Set<Integer>> targetPids) {
        Map<String, TargetSettings> wanted = new LinkedHashMap<>();
        Set<String> live = new HashSet<>();
        for (ServerProcess sp : unclaimed) {
            Set<Integer> gpu = unclaimedGpuPids(sp, gpuPids, claimed);
            if (gpu.isEmpty()) {
                continue; // a server nearer to its GPU processes was found in this scan
            }
            Map<Endpoint, Fingerprint.Found> found = new LinkedHashMap<>();
            for (Endpoint e : sp.endpoints()) {
                String key = sp.rootPid() + "/" + sp.startTime() + "/" + e.authority();
                live.add(key);
                fingerprints.computeIfAbsent(key, k -> Fingerprint.identify(client, e)).ifPresent(f -> found.put(e, f));
            }
            for (TargetSettings t : Fingerprint.targets(sp, found, settings.polling())) {
                boolean clashes = settings.targets().stream().anyMatch(s -> s.name().equals(t.name()));
                if (!clashes && wanted.putIfAbsent(t.name(), t) == null) {
                    targetPids.computeIfAbsent(t.name(), k -> new HashSet<>()).addAll(gpu);
                    claimed.addAll(gpu);
                }
            }
        }
        fingerprints.keySet().retainAll(live);
        for (Map.Entry<String, Running> e : pollers.entrySet()) {
            TargetSettings t = e.getValue().poller().target();
            if (t.discovered() && !t.equals(wanted.get(t.name()))) {
                pollers.remove(e.getKey());
                e.getValue().thread().ifPresent(Thread::interrupt);
                LOG.log(Level.INFO, "discovered model server " + t.name() + " is gone");
                render(); // its series go now, not with the next poll of another target
            }
        }
        for (TargetSettings t : wanted.values()) {
            if (!pollers.containsKey(t.name())) {
                start(t);
                LOG.log(Level.INFO, "discovered model server " + t.name() + " (" + t.type().label() + ") at " + t.url());
            }
        }
    }

    /** A static target serves a process tree when the tree listens on its port at a local or the same address. */
    private static boolean serves(TargetSettings t, ServerProcess sp) {
        for (URI u : new URI[] {t.url(), t.metricsUrl().orElse(t.url())}) {
            int port = u.getPort() != -1 ? u.getPort() : u.getScheme().equals("https") ? 443 : 80;
            for (Endpoint e : sp.endpoints()) {
                if (e.port() == port && (isLocal(u.getHost()) || e.host().equalsIgnoreCase(u.getHost()))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isLocal(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            InetAddress a = InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
            return a.isLoopbackAddress() || a.isAnyLocalAddress();
        } catch (IOException e) {
            return false;
        }
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
}
