package dev.gpuwatch.receiver.enrich;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.runbook.ServedRunbooks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
 * entries. For the runbook, a specific entry ranks first, then the runbook the receiver serves for the alert,
 * then the alert's own {@code runbook_url} annotation, and a catch-all entry (empty {@code match}) last: a
 * specific entry knows better than the alert, the alert knows better than a generic guess. A runbook or dashboard
 * template that expands to no http(s) URL (a {@code {runbook_base_url}} nobody set) gives no link.
 * Immutable.
 */
public final class RunbookCatalog {

    private static final Pattern UID = Pattern.compile("[A-Za-z0-9_-]{1,40}");
    private static final ConfigReader READER = ConfigReader.create();

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

    /** The file as written; every value is checked here, so a bad one is reported at its key and line. */
    record CatalogFile(String runbookBaseUrl, String grafanaUrl, List<EntryFile> entries) {
        CatalogFile {
            // none by default: the receiver serves gpuwatch's own runbooks itself (ServedRunbooks)
            runbookBaseUrl = blankTo(runbookBaseUrl, "");
            grafanaUrl = blankTo(grafanaUrl, "");
            entries = entries == null ? List.of() : entries;
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i) == null) {
                    throw InvalidValue.at("entries[" + i + "]", "expected a mapping of keys");
                }
            }
            entries = List.copyOf(entries);
        }
    }

    record EntryFile(
            MatchFile match,
            String runbookUrl,
            String owner,
            String dashboardUid,
            String dashboardUrl,
            List<String> firstSteps) {
        EntryFile {
            match = Objects.requireNonNullElseGet(match, () -> new MatchFile(null, null));
            runbookUrl = blankTo(runbookUrl, "");
            owner = blankTo(owner, "");
            dashboardUid = blankTo(dashboardUid, "");
            dashboardUrl = blankTo(dashboardUrl, "");
            firstSteps = Optional.ofNullable(firstSteps).orElse(List.of()).stream()
                    .filter(Objects::nonNull).map(String::strip).filter(s -> !s.isEmpty()).toList();
            template("runbook_url", runbookUrl);
            template("dashboard_url", dashboardUrl);
            if (!dashboardUid.isEmpty()) {
                if (!dashboardUrl.isEmpty()) {
                    throw InvalidValue.here("set dashboard_uid or dashboard_url, not both");
                }
                if (!UID.matcher(dashboardUid).matches()) {
                    throw InvalidValue.at("dashboard_uid", dashboardUid + " is not a Grafana uid");
                }
            }
            if (runbookUrl.isEmpty() && owner.isEmpty() && dashboardUid.isEmpty() && dashboardUrl.isEmpty()
                    && firstSteps.isEmpty()) {
                throw InvalidValue.here("sets none of runbook_url, owner, dashboard_uid, dashboard_url, first_steps");
            }
        }

        /** The entry as the lookup uses it; every value was checked when the file was bound. */
        Entry entry() {
            Optional<UrlTemplate> dashboard = template("dashboard_url", dashboardUrl);
            if (!dashboardUid.isEmpty()) {
                dashboard = Optional.of(UrlTemplate.parse("{grafana_url}/d/" + dashboardUid));
            }
            return new Entry(match.labelMatchers(), template("runbook_url", runbookUrl),
                    Optional.of(owner).filter(o -> !o.isEmpty()), dashboard, firstSteps);
        }
    }

    record MatchFile(String alertname, List<String> matchers) {
        MatchFile {
            alertname = blankTo(alertname, "");
            matchers = matchers == null ? List.of() : matchers;
            for (int i = 0; i < matchers.size(); i++) {
                if (matchers.get(i) == null) {
                    throw InvalidValue.at("matchers[" + i + "]", "expected a matcher like severity=\"critical\"");
                }
                try {
                    LabelMatcher.parse(matchers.get(i));
                } catch (IllegalArgumentException e) {
                    throw InvalidValue.at("matchers[" + i + "]", e.getMessage());
                }
            }
            matchers = List.copyOf(matchers);
        }

        List<LabelMatcher> labelMatchers() {
            List<LabelMatcher> out = new ArrayList<>();
            if (!alertname.isEmpty()) {
                out.add(new LabelMatcher("alertname", LabelMatcher.Op.EQ, alertname, null));
            }
            matchers.forEach(m -> out.add(LabelMatcher.parse(m)));
            return out;
        }
    }

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
        } catch (ConfigException e) {
            throw new IllegalStateException("the built-in catalog is invalid: " + e.getMessage(), e);
        }
    }

    /** Loads a catalog file; errors name the file, the line and the key ({@code entries[2].runbook_url}). */
    public static RunbookCatalog load(Path file) throws ConfigException {
        return of(READER.read(file, CatalogFile.class).value());
    }

    /** Parses catalog YAML as if it were the file {@code source}. */
    public static RunbookCatalog parse(String yaml, String source) throws ConfigException {
        return of(READER.parse(source, yaml, CatalogFile.class).value());
    }

    private static RunbookCatalog of(CatalogFile file) {
        return new RunbookCatalog(file.runbookBaseUrl(), file.grafanaUrl(),
                file.entries().stream().map(EntryFile::entry).toList());
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

    Lookup lookup(Alert alert, ServedRunbooks served) {
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
        Optional<String> runbook = specificRunbook.map(expand).filter(RunbookCatalog::isHttp);
        if (runbook.isEmpty()) {
            runbook = served.url(alert.alertName());
        }
        if (runbook.isEmpty()) {
            runbook = Optional.of(alert.annotations().getOrDefault("runbook_url", "").strip()).filter(s -> !s.isEmpty());
        }
        if (runbook.isEmpty()) {
            runbook = catchAllRunbook.map(expand).filter(RunbookCatalog::isHttp);
        }
        Optional<String> dashboardBase = dashboard.map(expand).filter(RunbookCatalog::isHttp);
        return new Lookup(runbook, owner, dashboardBase, steps);
    }

    private static boolean isHttp(String url) {
        return url.startsWith("http://") || url.startsWith("https://");
    }

    private static Optional<UrlTemplate> template(String key, String source) {
        if (source.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(UrlTemplate.parse(source));
        } catch (IllegalArgumentException e) {
            throw InvalidValue.at(key, e.getMessage());
        }
    }

    private static String blankTo(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value.strip();
    }
}
