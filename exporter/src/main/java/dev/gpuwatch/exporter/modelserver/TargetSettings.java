package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * One model-server target, from {@code model_servers:} or found by discovery.
 *
 * @param name          the {@code target} label; unique
 * @param url           the server's HTTP API (Triton's port 8000, TorchServe's management port 8081)
 * @param metricsUrl    its Prometheus endpoint; empty for Ollama, which has none
 * @param authorization the whole {@code Authorization} header value, never logged
 * @param labels        extra labels added to each of the target's series
 */
public record TargetSettings(
        String name,
        ServerType type,
        URI url,
        Optional<URI> metricsUrl,
        Duration timeout,
        Optional<String> authorization,
        Map<String, String> labels,
        boolean loraAdapters,
        boolean discovered) {

    public TargetSettings {
        labels = Map.copyOf(labels);
    }

    /**
     * Where a server type keeps its Prometheus endpoint when the config names none: on the API port for most,
     * on port 8002 for Triton and 8082 for TorchServe (their defaults), nowhere for Ollama.
     */
    public static Optional<URI> defaultMetricsUrl(ServerType type, URI url) {
        String base = url.getScheme() + "://" + url.getHost();
        return switch (type) {
            case OLLAMA -> Optional.empty();
            case TRITON -> Optional.of(URI.create(base + ":8002/metrics"));
            case TORCHSERVE -> Optional.of(URI.create(base + ":8082/metrics"));
            default -> Optional.of(url.resolve("/metrics"));
        };
    }

    /** Never shows the authorization value. */
    @Override
    public String toString() {
        return "TargetSettings[name=" + name + ", type=" + type.label() + ", url=" + url + ", metricsUrl="
                + metricsUrl.map(URI::toString).orElse("none") + ", timeout=" + timeout + ", authorization="
                + (authorization.isPresent() ? "<set>" : "none") + ", labels=" + labels + ", loraAdapters="
                + loraAdapters + ", discovered=" + discovered + "]";
    }
}
