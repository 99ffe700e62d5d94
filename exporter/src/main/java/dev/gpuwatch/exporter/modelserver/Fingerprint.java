package dev.gpuwatch.exporter.modelserver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.exporter.modelserver.adapter.MetricFamilies;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.exporter.modelserver.discovery.Endpoint;
import dev.gpuwatch.exporter.modelserver.discovery.ServerProcess;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Tells which model server answers on a port, by the endpoints each one has: the metric prefix on
 * {@code /metrics} first, then JSON endpoints only one server type has. Requests are GETs with a short deadline and
 * the usual size and series limits, so a port that is not HTTP at all costs one timeout.
 */
final class Fingerprint {
    /** What a port is to its server: the API, the Prometheus endpoint, or both on one port. */
    enum Role { API, METRICS, BOTH }

    record Found(ServerType type, Role role) {}

    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
    /** The polling defaults: a probe of an unknown port must fit the heap as a poll does (docs/model-servers.md). */
    private static final long PROBE_BYTES = InferenceSettings.DEFAULT_MAX_BYTES;
    private static final int PROBE_SERIES = InferenceSettings.DEFAULT_MAX_SERIES;

    private Fingerprint() {}

    static Optional<Found> identify(HttpClient client, Endpoint endpoint) {
        URI base = URI.create("http://" + endpoint.authority());
        Optional<Exposition> metrics = probe(client, base, f -> f.metrics());
        if (metrics.isPresent()) {
            Optional<Found> byPrefix = byMetricNames(metrics.get());
            if (byPrefix.isPresent()) {
                return byPrefix;
            }
        }
        if (json(client, base, "/v2", j -> j.path("name").asText("").toLowerCase().contains("triton"))) {
            return Optional.of(new Found(ServerType.TRITON, Role.API));
        }
        if (json(client, base, "/api/ps", j -> j.path("models").isArray())) {
            return Optional.of(new Found(ServerType.OLLAMA, Role.BOTH));
        }
        if (json(client, base, "/models", j -> j.path("models").isArray())) {
            return Optional.of(new Found(ServerType.TORCHSERVE, Role.API));
        }
        if (json(client, base, "/get_model_info", j -> j.has("model_path"))) {
            return Optional.of(new Found(ServerType.SGLANG, Role.BOTH)); // started without --enable-metrics
        }
        if (json(client, base, "/props", j -> j.has("default_generation_settings"))) {
            return Optional.of(new Found(ServerType.LLAMACPP, Role.BOTH)); // started without --metrics
        }
        return Optional.empty();
    }

    /** By the metric names only one server type uses; Triton's and TorchServe's metrics have a port of their own. */
    static Optional<Found> byMetricNames(Exposition e) {
        return MetricFamilies.typeOf(e).map(t -> new Found(t,
                t == ServerType.TRITON || t == ServerType.TORCHSERVE ? Role.METRICS : Role.BOTH));
    }

    /** The targets of one process tree, one per server type found on its ports. */
    static List<TargetSettings> targets(ServerProcess process, Map<Endpoint, Found> found,
            InferenceSettings.Polling polling) {
        Map<ServerType, Endpoint> api = new EnumMap<>(ServerType.class);
        Map<ServerType, Endpoint> metrics = new EnumMap<>(ServerType.class);
        for (Endpoint e : process.endpoints()) {
            Found f = found.get(e);
            if (f == null) {
                continue;
            }
            if (f.role() != Role.METRICS) {
                api.putIfAbsent(f.type(), e);
            }
            if (f.role() != Role.API) {
                metrics.putIfAbsent(f.type(), e);
            }
        }
        List<TargetSettings> out = new ArrayList<>();
        for (ServerType type : ServerType.values()) {
            Endpoint a = api.get(type);
            Endpoint m = metrics.get(type);
            if (a == null && m == null) {
                continue;
            }
            if (a == null) {
                // only the metrics port answered: assume the API on the server's default port; a failing poll says so
                a = new Endpoint(m.host(), type == ServerType.TORCHSERVE ? 8081 : 8000);
            }
            URI url = URI.create("http://" + a.authority());
            Optional<URI> metricsUrl = m == null ? TargetSettings.defaultMetricsUrl(type, url)
                    : type == ServerType.OLLAMA ? Optional.empty()
                    : Optional.of(URI.create("http://" + m.authority() + "/metrics"));
            String host = a.host().equals("127.0.0.1") || a.host().equals("::1") ? "" : a.host().replace(':', '_') + "-";
            out.add(new TargetSettings(type.label() + "-" + host + a.port(), type, url, metricsUrl, polling.timeout(),
                    Optional.empty(), Map.of(), polling.loraAdapters(), true));
        }
        return out;
    }

    private interface Probe<T> {
        T run(HttpFetcher f) throws PollFailure;
    }

    private static <T> Optional<T> probe(HttpClient client, URI base, Probe<T> probe) {
        TargetSettings t = new TargetSettings("fingerprint", ServerType.VLLM, base,
                Optional.of(base.resolve("/metrics")), PROBE_TIMEOUT, Optional.empty(), Map.of(), false, true);
        try {
            return Optional.of(probe.run(new HttpFetcher(client, t, PROBE_TIMEOUT, PROBE_BYTES, PROBE_SERIES,
                    InferenceSettings.DEFAULT_MAX_LABEL_VALUE_BYTES)));
        } catch (PollFailure f) {
            return Optional.empty();
        }
    }

    private static boolean json(HttpClient client, URI base, String path, Predicate<JsonNode> test) {
        return probe(client, base, f -> f.getJson(path)).filter(test).isPresent();
    }
}
