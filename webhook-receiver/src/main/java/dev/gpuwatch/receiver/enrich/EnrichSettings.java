package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.config.InvalidValue;

/**
 * The {@code enrichment} block of the receiver's configuration. Every key is optional.
 *
 * @param catalogFile a runbook catalog YAML file; empty: the built-in {@code catalog/default.yaml}
 * @param runbookBaseUrl overrides the catalog's {@code runbook_base_url}
 * @param grafanaUrl overrides the catalog's {@code grafana_url} (base of dashboard links); no dashboard links
 *     when neither sets one
 */
public record EnrichSettings(String catalogFile, String runbookBaseUrl, String grafanaUrl) {

    public EnrichSettings {
        catalogFile = catalogFile == null ? "" : catalogFile.strip();
        runbookBaseUrl = runbookBaseUrl == null ? "" : runbookBaseUrl.strip();
        grafanaUrl = grafanaUrl == null ? "" : grafanaUrl.strip();
        for (String[] url : new String[][] {{"runbook_base_url", runbookBaseUrl}, {"grafana_url", grafanaUrl}}) {
            if (!url[1].isEmpty() && !(url[1].startsWith("http://") || url[1].startsWith("https://"))) {
                throw InvalidValue.at(url[0], "must be an http(s) URL, got " + url[1]);
            }
        }
    }

    /** No catalog file, no overrides: the built-in catalog as shipped. */
    public static EnrichSettings defaults() {
        return new EnrichSettings("", "", "");
    }
}
