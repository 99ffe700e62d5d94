package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.receiver.alert.Alert;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Builds the links added to every alert: Prometheus graph, Grafana dashboard, Alertmanager silence. */
final class Links {

    static final Duration BEFORE_START = Duration.ofHours(1);
    static final Duration AFTER_END = Duration.ofMinutes(15);

    private Links() {}

    /** URL-encodes one value as a URI component ({@code encodeURIComponent}: space is %20, not +). */
    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The alert's generatorURL, when it has one. */
    static Optional<String> graph(Alert alert) {
        return Optional.of(alert.generatorUrl().strip()).filter(s -> !s.isEmpty());
    }

    /**
     * {@code base?from=<startsAt - 1h>&to=<endsAt + 15m | now>&var-<label>=<value>...} with times in epoch
     * milliseconds (Grafana's format), {@code to=now} while the alert fires so the view stays live, and one
     * variable per alert label in label-name order.
     */
    static String dashboard(String base, Alert alert) {
        StringBuilder url = new StringBuilder(base);
        url.append(base.contains("?") ? '&' : '?');
        url.append("from=").append(alert.startsAt().minus(BEFORE_START).toEpochMilli());
        url.append("&to=");
        if (alert.isResolved() && alert.endsAt().isPresent()) {
            url.append(alert.endsAt().get().plus(AFTER_END).toEpochMilli());
        } else {
            url.append("now");
        }
        new TreeMap<>(alert.labels()).forEach((k, v) -> url.append("&var-").append(encode(k)).append('=').append(encode(v)));
        return url.toString();
    }

    /**
     * Alertmanager's "new silence" page prefilled with the group's matchers:
     * {@code externalURL/#/silences/new?filter=<encoded {k="v",...}>}; empty without an external URL or labels.
     */
    static Optional<String> silence(String externalUrl, Map<String, String> groupLabels) {
        String base = UrlTemplate.stripTrailingSlash(externalUrl.strip());
        if (base.isEmpty() || groupLabels.isEmpty()) {
            return Optional.empty();
        }
        String filter = new TreeMap<>(groupLabels).entrySet().stream()
                .map(e -> e.getKey() + "=\"" + quote(e.getValue()) + "\"")
                .collect(Collectors.joining(",", "{", "}"));
        return Optional.of(base + "/#/silences/new?filter=" + encode(filter));
    }

    private static String quote(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
