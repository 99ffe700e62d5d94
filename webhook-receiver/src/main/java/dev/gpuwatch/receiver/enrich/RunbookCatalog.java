package dev.gpuwatch.receiver.enrich;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gpuwatch.receiver.alert.Alert;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The runbook catalog: ordered entries that match alerts by {@code alertname} and Alertmanager label matchers
 * and give a runbook URL template, an owner team, a Grafana dashboard and first steps. For each field the
 * first matching entry that sets it wins, so a catch-all runbook entry can sit next to per-prefix dashboard
 * entries. A catch-all entry (empty {@code match}) ranks below the alert's own {@code runbook_url}
 * annotation: a specific entry knows better than the alert, the alert knows better than a generic guess.
 * Immutable.
 */
public final class RunbookCatalog {

    /** Where gpuwatch's own runbooks live; docs/runbooks/&lt;alertname lower-case&gt;.md. */
    public static final String DEFAULT_RUNBOOK_BASE_URL = "https://github.com/gpuwatch/gpuwatch/blob/main/docs/runbooks";

    private static final Pattern UID = Pattern.compile("[A-Za-z0-9_-]{1,40}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final String runbookBaseUrl;
    private final String grafanaUrl;
    private final List<Entry> entries;
    /** The values templates may use besides labels and annotations. */
    private final Map<String, String> bases;

    /** One catalog entry, parsed and checked. */
    record Entry(
            List<LabelMatcher> matchers,
            Optional<UrlTemplate> runbook,
            Optional<String> owner,
            Optional<UrlTemplate> dashboard,
            List<String> firstSteps) {

        boolean catchAll() {
            return matchers.isEmpty();
        }

        boolean matches(Map<String, String> labels) {
            for (LabelMatcher m : matchers) {
                if (!m.matches(labels)) {
                    return false;
                }
            }
            return true;
        }
    }

    record CatalogFile(
            @JsonProperty("runbook_base_url") String runbookBaseUrl,
            @JsonProperty("grafana_url") String grafanaUrl,
            @JsonProperty("entries") List<EntryFile> entries) {}

    record EntryFile(
            @JsonProperty("match") MatchFile match,
            @JsonProperty("runbook_url") String runbookUrl,
            @JsonProperty("owner") String owner,
            @JsonProperty("dashboard_uid") String dashboardUid,
            @JsonProperty("dashboard_url") String dashboardUrl,
            @JsonProperty("first_steps") List<String> firstSteps) {}

    record MatchFile(
            @JsonProperty("alertname") String alertname,
            @JsonProperty("matchers") List<String> matchers) {}

    private RunbookCatalog(String runbookBaseUrl, String grafanaUrl, List<Entry> entries) {
        this.runbookBaseUrl = runbookBaseUrl;
        this.grafanaUrl = grafanaUrl;
        this.entries = List.copyOf(entries);
        this.bases = Map.of("runbook_base_url", runbookBaseUrl, "grafana_url", grafanaUrl);
    }

    /** The catalog shipped in {@code resources/catalog/default.yaml}. */
    public static RunbookCatalog defaults() {
        try (InputStream in = RunbookCatalog.class.getResourceAsStream("/catalog/default.yaml")) {
            return parse(new String(Objects.requireNonNull(in, "default catalog").readAllBytes(), StandardCharsets.UTF_8),
                    "default catalog");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads a catalog file; errors name the file, the entry index and the key. */
    public static RunbookCatalog load(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("runbook catalog " + file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Parses catalog YAML; {@code source} names it in error messages. */
    public static RunbookCatalog parse(String yaml, String source) {
        CatalogFile file;
        try {
            file = YAML.readValue(yaml, CatalogFile.class);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("runbook catalog " + source + ": " + e.getOriginalMessage());
        }
        if (file == null) {
            return new RunbookCatalog(DEFAULT_RUNBOOK_BASE_URL, "", List.of());
        }
        List<Entry> entries = new ArrayList<>();
        List<EntryFile> raw = Optional.ofNullable(file.entries()).orElse(List.of());
        for (int i = 0; i < raw.size(); i++) {
            String where = "runbook catalog " + source + ": entries[" + i + "]";
            try {
                entries.add(entry(raw.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage());
            }
        }
        return new RunbookCatalog(
                blankTo(file.runbookBaseUrl(), DEFAULT_RUNBOOK_BASE_URL), blankTo(file.grafanaUrl(), ""), entries);
    }

    /** A copy whose {@code {runbook_base_url}} is {@code url}. */
    public RunbookCatalog withRunbookBaseUrl(String url) {
        return new RunbookCatalog(url, grafanaUrl, entries);
    }

    /** A copy whose {@code {grafana_url}} (dashboard links) is {@code url}; empty means no dashboard links. */
    public RunbookCatalog withGrafanaUrl(String url) {
        return new RunbookCatalog(runbookBaseUrl, url, entries);
    }

    public String runbookBaseUrl() {
        return runbookBaseUrl;
    }

    public String grafanaUrl() {
        return grafanaUrl;
    }

    /** What the catalog says about one alert, before links are added. */
    record Lookup(Optional<String> runbookUrl, Optional<String> owner, Optional<String> dashboardBase, List<String> firstSteps) {}

    Lookup lookup(Alert alert) {
        // One pass, no streams: this runs for every alert of every delivery (60,000 times a second in the ingest
        // benchmark, where the stream version was a tenth of the receiver's CPU).
        Map<String, String> labels = alert.labels();
        Optional<UrlTemplate> specificRunbook = Optional.empty();
        Optional<UrlTemplate> catchAllRunbook = Optional.empty();
        Optional<String> owner = Optional.empty();
        Optional<UrlTemplate> dashboard = Optional.empty();
        List<String> steps = List.of();
        for (Entry e : entries) {
            if (!e.matches(labels)) {
                continue;
            }
            if (e.catchAll()) {
                catchAllRunbook = catchAllRunbook.or(e::runbook);
            } else {
                specificRunbook = specificRunbook.or(e::runbook);
            }
            owner = owner.or(e::owner);
            dashboard = dashboard.or(e::dashboard);
            if (steps.isEmpty()) {
                steps = e.firstSteps();
            }
        }
        Function<UrlTemplate, String> expand = t -> t.expand(labels, alert.annotations(), bases);
        Optional<String> runbook = specificRunbook.map(expand);
        if (runbook.isEmpty()) {
            runbook = Optional.of(alert.annotations().getOrDefault("runbook_url", "").strip()).filter(s -> !s.isEmpty());
        }
        if (runbook.isEmpty()) {
            runbook = catchAllRunbook.map(expand);
        }
        Optional<String> dashboardBase = dashboard.map(expand)
                .filter(u -> u.startsWith("http://") || u.startsWith("https://"));
        return new Lookup(runbook, owner, dashboardBase, steps);
    }

    private static Entry entry(EntryFile e) {
        List<LabelMatcher> matchers = new ArrayList<>();
        if (e.match() != null) {
            if (e.match().alertname() != null && !e.match().alertname().isBlank()) {
                matchers.add(new LabelMatcher("alertname", LabelMatcher.Op.EQ, e.match().alertname().strip(), null));
            }
            for (String m : Optional.ofNullable(e.match().matchers()).orElse(List.of())) {
                try {
                    matchers.add(LabelMatcher.parse(m));
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("match.matchers: " + ex.getMessage());
                }
            }
        }
        Optional<UrlTemplate> runbook = template("runbook_url", e.runbookUrl());
        Optional<UrlTemplate> dashboard = template("dashboard_url", e.dashboardUrl());
        if (e.dashboardUid() != null && !e.dashboardUid().isBlank()) {
            if (dashboard.isPresent()) {
                throw new IllegalArgumentException("set dashboard_uid or dashboard_url, not both");
            }
            if (!UID.matcher(e.dashboardUid()).matches()) {
                throw new IllegalArgumentException("dashboard_uid: " + e.dashboardUid() + " is not a Grafana uid");
            }
            dashboard = Optional.of(UrlTemplate.parse("{grafana_url}/d/" + e.dashboardUid()));
        }
        Optional<String> owner = Optional.ofNullable(e.owner()).map(String::strip).filter(s -> !s.isEmpty());
        List<String> steps = Optional.ofNullable(e.firstSteps()).orElse(List.of()).stream()
                .filter(Objects::nonNull).map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (runbook.isEmpty() && owner.isEmpty() && dashboard.isEmpty() && steps.isEmpty()) {
            throw new IllegalArgumentException("sets none of runbook_url, owner, dashboard_uid, dashboard_url, first_steps");
        }
        return new Entry(matchers, runbook, owner, dashboard, steps);
    }

    private static Optional<UrlTemplate> template(String key, String source) {
        if (source == null || source.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(UrlTemplate.parse(source.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage());
        }
    }

    private static String blankTo(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value.strip();
    }
}
