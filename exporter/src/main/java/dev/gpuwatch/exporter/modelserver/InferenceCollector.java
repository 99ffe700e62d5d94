package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.scrape.Prerendered;
import dev.gpuwatch.exporter.modelserver.adapter.InferenceMetric;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import dev.gpuwatch.exporter.modelserver.discovery.ContainerRef;
import dev.gpuwatch.exporter.modelserver.kubernetes.KubernetesPods;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The scrape side: reads the targets' last poll results and the last process attribution, joins them with the
 * current GPU sample, and builds snapshots. No I/O happens here; a slow or dead target costs a scrape nothing.
 *
 * <p>The families that come from poll results (thousands of series) change only when a poll ends, so they are
 * built once per set of poll results, not per scrape: a {@link Prerendered} generation that the HTTP layer also
 * renders once per format. {@link #refresh()}, called by whoever publishes a poll result, builds the next
 * generation and renders it in every format scrapes have asked for before scrapes see it; until then scrapes keep
 * getting the previous one. So a scrape never waits for rendering (measured: waiting for it was the exporter's
 * whole p99 with 4 large targets), and polls that end together are rendered together. Only the GPU memory and SM
 * utilisation families, which follow the GPU sample, are built on every scrape; an SM series exists where at
 * least one of its processes has a utilisation sample (absent, never 0, where the driver gives none).
 */
final class InferenceCollector implements MultiCollector {
    static final String UP = "inference_target_up";
    static final String POLL_DURATION = "inference_target_poll_duration_seconds";
    static final String LAST_ERROR = "inference_target_last_error";
    static final String PARTIAL = "inference_target_partial";
    static final String MODEL_GPU_MEMORY = "inference_model_gpu_memory_bytes";
    static final String CONTAINER_GPU_MEMORY = "inference_container_gpu_memory_bytes";
    static final String POD_GPU_MEMORY = "inference_pod_gpu_memory_bytes";
    static final String MODEL_GPU_SM = "inference_model_gpu_sm_utilization_ratio";
    static final String CONTAINER_GPU_SM = "inference_container_gpu_sm_utilization_ratio";
    static final String POD_GPU_SM = "inference_pod_gpu_sm_utilization_ratio";

    private final Supplier<List<TargetState>> states;
    private final Supplier<Attribution> attribution;
    private final Supplier<List<GpuSnapshot>> gpuSamples;
    private final Optional<KubernetesPods> pods;
    private final boolean containerLabels;
    private final ScrapeTimeouts scrapeTimeouts;
    /** The formats scrapes asked for, rendered ahead of them for every new generation. */
    private final Prerendered.Demand demand = new Prerendered.Demand();
    /** What scrapes get: the newest generation that is already rendered. */
    private volatile Generation served = new Generation(List.of(), new Prerendered(List.of(), demand));

    /** The families built from one set of target states (compared by identity: a poll publishes a new state). */
    private record Generation(List<TargetState> states, Prerendered families) {}

    /**
     * What the background scan knows about processes: the pids of each target's process tree and the container of
     * each GPU process.
     */
    record Attribution(Map<String, Set<Integer>> targetPids, Map<Integer, ContainerRef> containers) {
        static final Attribution NONE = new Attribution(Map.of(), Map.of());
    }

    InferenceCollector(Supplier<List<TargetState>> states, Supplier<Attribution> attribution,
            Supplier<List<GpuSnapshot>> gpuSamples, Optional<KubernetesPods> pods, boolean containerLabels,
            ScrapeTimeouts scrapeTimeouts) {
        this.states = states;
        this.attribution = attribution;
        this.gpuSamples = gpuSamples;
        this.pods = pods;
        this.containerLabels = containerLabels;
        this.scrapeTimeouts = scrapeTimeouts;
    }

    @Override
    public MetricSnapshots collect(PrometheusScrapeRequest request) {
        if (request instanceof PrometheusHttpRequest http) {
            scrapeTimeouts.observe(http.getHeader("X-Prometheus-Scrape-Timeout-Seconds"));
        }
        Generation g = served;
        if (request instanceof Prerendered.Sink sink) {
            sink.offer(g.families());
        }
        return snapshots(g);
    }

    @Override
    public MetricSnapshots collect() {
        return snapshots(served);
    }

    /**
     * Builds the generation of the current poll results, renders it in the formats scrapes use, then serves it.
     * Called after every published poll result (and after a target goes away); a caller that finds the results
     * already served, because another caller rendered them while it waited, returns at once.
     */
    synchronized void refresh() {
        List<TargetState> all = states.get();
        if (same(served.states(), all)) {
            return;
        }
        Generation g = new Generation(all, new Prerendered(families(all), demand));
        g.families().prerender();
        served = g;
    }

    private MetricSnapshots snapshots(Generation g) {
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        g.families().families().forEach(out::metricSnapshot);
        gpuUsage(g.states()).forEach(out::metricSnapshot);
        return out.build();
    }

    private static boolean same(List<TargetState> a, List<TargetState> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** The families from poll results: target health, then every metric's points from all targets. */
    private static List<MetricSnapshot> families(List<TargetState> all) {
        List<MetricSnapshot> out = new ArrayList<>(health(all));
        for (InferenceMetric m : InferenceMetric.values()) {
            List<DataPointSnapshot> points = new ArrayList<>();
            for (TargetState s : all) {
                points.addAll(s.points().getOrDefault(m, List.of()));
            }
            if (!points.isEmpty()) {
                out.add(Exposure.snapshot(m, points));
            }
        }
        return out;
    }

    @Override
    public List<String> getPrometheusNames() {
        List<String> names = new ArrayList<>(List.of(UP, POLL_DURATION, LAST_ERROR, PARTIAL, MODEL_GPU_MEMORY,
                CONTAINER_GPU_MEMORY, POD_GPU_MEMORY, MODEL_GPU_SM, CONTAINER_GPU_SM, POD_GPU_SM));
        for (InferenceMetric m : InferenceMetric.values()) {
            names.add(m.prometheusName());
        }
        return names;
    }

    private static List<MetricSnapshot> health(List<TargetState> all) {
        List<GaugeDataPointSnapshot> up = new ArrayList<>();
        List<GaugeDataPointSnapshot> duration = new ArrayList<>();
        List<GaugeDataPointSnapshot> error = new ArrayList<>();
        List<GaugeDataPointSnapshot> partial = new ArrayList<>();
        for (TargetState s : all) {
            if (s.pollSeconds().isEmpty()) {
                continue; // not polled yet: no claim either way
            }
            up.add(point(s.baseLabels(), s.up() ? 1 : 0));
            duration.add(point(s.baseLabels(), s.pollSeconds().get()));
            s.lastError().ifPresent(r -> error.add(point(s.baseLabels().add("reason", r.label()), 1)));
            for (Normalized.Missing m : s.missing()) {
                partial.add(point(s.baseLabels().add("part", m.part()).add("reason", m.reason().label()), 1));
            }
        }
        List<MetricSnapshot> out = new ArrayList<>();
        out.add(Exposure.gauge(UP, "1 when the last poll of the model-server target succeeded.", up));
        out.add(Exposure.gauge(POLL_DURATION, "Duration of the last poll of the target, in seconds.", duration));
        out.add(Exposure.gauge(LAST_ERROR, "1 for the reason the last poll of the target failed; absent while it is up.",
                error));
        out.add(Exposure.gauge(PARTIAL, "1 for each part of an up target's poll that a secondary call could not give "
                + "(part), with the reason; absent when the poll was complete.", partial));
        return out;
    }

    private List<GaugeSnapshot> gpuUsage(List<TargetState> all) {
        List<GpuSnapshot> gpus;
        try {
            gpus = gpuSamples.get();
        } catch (RuntimeException e) {
            return List.of(); // the GPU collectors report their own failure
        }
        Attribution a = attribution.get();
        List<GaugeDataPointSnapshot> models = new ArrayList<>();
        List<GaugeDataPointSnapshot> modelsSm = new ArrayList<>();
        for (TargetState s : all) {
            Set<Integer> pids = a.targetPids().getOrDefault(s.target().name(), Set.of());
            if (pids.isEmpty()) {
                continue;
            }
            Labels base = s.models().size() == 1 ? s.baseLabels().add("model", s.models().iterator().next())
                    : s.baseLabels();
            for (GpuSnapshot g : gpus) {
                Usage sum = Usage.NONE;
                boolean found = false;
                for (GpuProcess p : g.processes().orElse(List.of())) {
                    if (pids.contains(p.pid())) {
                        found = true;
                        sum = sum.plus(Usage.of(p));
                    }
                }
                if (found) {
                    models.add(point(gpuLabels(base, g), sum.bytes()));
                    sum.sm().ifPresent(v -> modelsSm.add(point(gpuLabels(base, g), v)));
                }
            }
        }
        List<GaugeSnapshot> out = new ArrayList<>();
        out.add(Exposure.gauge(MODEL_GPU_MEMORY, "GPU memory used by the model server's processes (the server and its "
                + "workers), from NVML, in bytes. model is absent when the server hosts several models.", models));
        out.add(Exposure.gauge(MODEL_GPU_SM, "Ratio of the GPU's SMs used by the model server's processes (the server "
                + "and its workers) over the last sample window, from NVML. model is absent when the server hosts several "
                + "models.", modelsSm));
        if (containerLabels) {
            containers(gpus, a, out);
        }
        return out;
    }

    private void containers(List<GpuSnapshot> gpus, Attribution a, List<GaugeSnapshot> out) {
        Map<Labels, Usage> byContainer = new LinkedHashMap<>();
        Map<Labels, Usage> byPod = new LinkedHashMap<>();
        for (GpuSnapshot g : gpus) {
            for (GpuProcess p : g.processes().orElse(List.of())) {
                ContainerRef ref = a.containers().getOrDefault(p.pid(), ContainerRef.NONE);
                if (ref.isEmpty()) {
                    continue;
                }
                Usage used = Usage.of(p);
                Labels gpu = gpuLabels(Labels.EMPTY, g);
                Optional<KubernetesPods.Pod> pod = ref.podUid().flatMap(uid -> pods.flatMap(k -> k.pod(uid)));
                Labels podLabels = gpu;
                if (ref.podUid().isPresent()) {
                    podLabels = podLabels.add("pod_uid", ref.podUid().get());
                    if (pod.isPresent()) {
                        podLabels = podLabels.add("namespace", pod.get().namespace()).add("pod", pod.get().name());
                    }
                    byPod.merge(podLabels, used, Usage::plus);
                }
                Labels c = podLabels;
                if (ref.containerId().isPresent()) {
                    c = c.add("container_id", ref.containerId().get());
                    String name = pod.map(x -> x.containers().getOrDefault(ref.containerId().get(), "")).orElse("");
                    if (!name.isEmpty()) {
                        c = c.add("container", name);
                    }
                    byContainer.merge(c, used, Usage::plus);
                }
            }
        }
        out.add(Exposure.gauge(CONTAINER_GPU_MEMORY, "GPU memory used by the processes of a container, from NVML, in "
                + "bytes; pod labels when it runs in Kubernetes.", memory(byContainer)));
        out.add(Exposure.gauge(POD_GPU_MEMORY, "GPU memory used by the processes of a Kubernetes pod, from NVML, in bytes.",
                memory(byPod)));
        out.add(Exposure.gauge(CONTAINER_GPU_SM, "Ratio of the GPU's SMs used by the processes of a container over the "
                + "last sample window, from NVML; pod labels when it runs in Kubernetes.", sm(byContainer)));
        out.add(Exposure.gauge(POD_GPU_SM, "Ratio of the GPU's SMs used by the processes of a Kubernetes pod over the "
                + "last sample window, from NVML.", sm(byPod)));
    }

    /**
     * Per GPU UUID, the one pod its processes run in: a GPU whose processes run in several pods, or in none that
     * the pod list names, has no entry (a label would pin the whole GPU on one of them). The container is there when
     * all of them run in one container of that pod.
     */
    Map<String, GpuPod> gpuPods() {
        if (!containerLabels || pods.isEmpty()) {
            return Map.of();
        }
        List<GpuSnapshot> gpus;
        try {
            gpus = gpuSamples.get();
        } catch (RuntimeException e) {
            return Map.of();
        }
        Attribution a = attribution.get();
        Map<String, GpuPod> out = new LinkedHashMap<>();
        for (GpuSnapshot g : gpus) {
            Set<GpuPod> seen = new HashSet<>();
            for (GpuProcess p : g.processes().orElse(List.of())) {
                ContainerRef ref = a.containers().getOrDefault(p.pid(), ContainerRef.NONE);
                Optional<KubernetesPods.Pod> pod = ref.podUid().flatMap(uid -> pods.flatMap(k -> k.pod(uid)));
                if (pod.isEmpty()) {
                    continue;
                }
                Optional<String> container = ref.containerId()
                        .map(id -> pod.get().containers().getOrDefault(id, "")).filter(n -> !n.isEmpty());
                seen.add(new GpuPod(pod.get().namespace(), pod.get().name(), container));
            }
            Set<List<String>> podsSeen = new HashSet<>();
            seen.forEach(p -> podsSeen.add(List.of(p.namespace(), p.pod())));
            if (podsSeen.size() == 1 && g.uuid().isPresent()) {
                GpuPod any = seen.iterator().next();
                Optional<String> container = seen.size() == 1 ? any.container() : Optional.empty();
                out.put(g.uuid().get(), new GpuPod(any.namespace(), any.pod(), container));
            }
        }
        return out;
    }

    private static List<GaugeDataPointSnapshot> memory(Map<Labels, Usage> sums) {
        List<GaugeDataPointSnapshot> out = new ArrayList<>();
        sums.forEach((l, v) -> out.add(point(l, v.bytes())));
        return out;
    }

    private static List<GaugeDataPointSnapshot> sm(Map<Labels, Usage> sums) {
        List<GaugeDataPointSnapshot> out = new ArrayList<>();
        sums.forEach((l, v) -> v.sm().ifPresent(sm -> out.add(point(l, sm))));
        return out;
    }

    /**
     * GPU memory and SM utilisation of a set of processes on one GPU. The SM sum is absent while none of them
     * had a utilisation sample: 0 would claim an idle GPU where the driver said nothing.
     */
    private record Usage(long bytes, OptionalDouble sm) {
        static final Usage NONE = new Usage(0, OptionalDouble.empty());

        static Usage of(GpuProcess p) {
            return new Usage(p.usedMemoryBytes().orElse(0), p.smUtilization());
        }

        Usage plus(Usage o) {
            OptionalDouble total = sm.isEmpty() ? o.sm
                    : o.sm.isEmpty() ? sm : OptionalDouble.of(sm.getAsDouble() + o.sm.getAsDouble());
            return new Usage(bytes + o.bytes, total);
        }
    }

    private static Labels gpuLabels(Labels base, GpuSnapshot g) {
        return base.add("gpu", String.valueOf(g.index())).add("uuid", g.uuid().orElse(""));
    }

    private static GaugeDataPointSnapshot point(Labels labels, double value) {
        return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }
}
