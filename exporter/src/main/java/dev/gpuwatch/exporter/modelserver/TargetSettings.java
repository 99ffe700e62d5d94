package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.CustomMapping;
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
 * @param mapping       how a {@code custom} target's metrics feed the {@code inference_*} family; present exactly
 *                      for {@code custom}, which only the configuration names (discovery finds no custom target)
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
        boolean discovered,
        Optional<CustomMapping> mapping) {

    public TargetSettings {
        labels = Map.copyOf(labels);
        if ((type == ServerType.CUSTOM) != mapping.isPresent()) {
            throw new IllegalArgumentException(name + ": a mapping goes with type custom, and only with it");
        }
        if (discovered && type == ServerType.CUSTOM) {
            throw new IllegalArgumentException(name + ": discovery cannot know a custom target's mapping");
        }
    }

    /** A target of a built-in type. */
    public TargetSettings(String name, ServerType type, URI url, Optional<URI> metricsUrl, Duration timeout,
            Optional<String> authorization, Map<String, String> labels, boolean loraAdapters, boolean discovered) {
        this(name, type, url, metricsUrl, timeout, authorization, labels, loraAdapters, discovered, Optional.empty());
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
                + loraAdapters + ", discovered=" + discovered + mapping.map(m -> ", mapping=" + m).orElse("") + "]";
    }
}
