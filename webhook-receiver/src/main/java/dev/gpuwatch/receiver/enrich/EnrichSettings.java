package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.config.InvalidValue;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code enrichment} block of the receiver's configuration. Every key is optional.
 *
 * @param catalogFile a runbook catalog YAML file; empty: the built-in {@code catalog/default.yaml}
 * @param runbookBaseUrl overrides the catalog's {@code runbook_base_url}
 * @param grafanaUrl overrides the catalog's {@code grafana_url} (base of dashboard links); no dashboard links
 *     when neither sets one
 * @param prometheusUrl the Prometheus the receiver queries at delivery for an alert's graph and live context
 *     (its expression from {@code generatorURL}); empty: messages carry neither
 * @param prometheusTimeout how long a delivery waits for Prometheus before it is sent without graph and context
 * @param alertmanagerUrl the Alertmanager whose API v2 the Slack buttons create silences in; empty: no Silence
 *     buttons
 * @param contextFile a live-context catalog YAML file replacing the built-in {@code context/default.yaml}; empty:
 *     the built-in one
 */
public record EnrichSettings(
        String catalogFile,
        String runbookBaseUrl,
        String grafanaUrl,
        String prometheusUrl,
        Duration prometheusTimeout,
        String alertmanagerUrl,
        String contextFile) {

    public static final Duration DEFAULT_PROMETHEUS_TIMEOUT = Duration.ofSeconds(3);

    public EnrichSettings {
        catalogFile = catalogFile == null ? "" : catalogFile.strip();
        runbookBaseUrl = runbookBaseUrl == null ? "" : runbookBaseUrl.strip();
        grafanaUrl = grafanaUrl == null ? "" : grafanaUrl.strip();
        prometheusUrl = prometheusUrl == null ? "" : prometheusUrl.strip();
        alertmanagerUrl = alertmanagerUrl == null ? "" : alertmanagerUrl.strip();
        contextFile = contextFile == null ? "" : contextFile.strip();
        prometheusTimeout = Objects.requireNonNullElse(prometheusTimeout, DEFAULT_PROMETHEUS_TIMEOUT);
        if (prometheusTimeout.isZero() || prometheusTimeout.compareTo(Duration.ofSeconds(30)) > 0) {
            throw InvalidValue.at("prometheus_timeout", "must be longer than 0s and at most 30s (a delivery waits"
                    + " for it)");
        }
        for (String[] url : new String[][] {
            {"runbook_base_url", runbookBaseUrl},
            {"grafana_url", grafanaUrl},
            {"prometheus_url", prometheusUrl},
            {"alertmanager_url", alertmanagerUrl}
        }) {
            if (!url[1].isEmpty() && !(url[1].startsWith("http://") || url[1].startsWith("https://"))) {
                throw InvalidValue.at(url[0], "must be an http(s) URL, got " + url[1]);
            }
        }
    }

    /** No catalog file, no overrides: the built-in catalog as shipped. */
    public static EnrichSettings defaults() {
        return new EnrichSettings("", "", "", "", null, "", "");
    }
}
