package dev.gpuwatch.receiver.context;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.route.Matcher;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The live-context catalog: PromQL templates queried at delivery next to an alert's graph (the processes on its
 * GPU, a model server's queue and KV cache), keyed by alert name and label matchers. {@code {{label}}} in a
 * template is the alert's label value, escaped for a PromQL string; a query whose labels the alert lacks is
 * skipped. Every entry that matches an alert contributes its queries, in catalog order, at most
 * {@link #MAX_QUERIES}. The shipped catalog is {@code resources/context/default.yaml}; a test checks it has an
 * entry for every alert of {@code rules/}. Immutable.
 */
public final class ContextCatalog {

    /** Context queries per alert: each is one instant query under the delivery's Prometheus deadline. */
    public static final int MAX_QUERIES = 4;
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*}}");
    private static final ConfigReader READER = ConfigReader.create();

    /** A query ready to run: its title, its PromQL and the labels of each result line to show. */
    public record Query(String title, String expr, List<String> show) {
        public Query {
            show = List.copyOf(show);
        }
    }

    record Entry(Set<String> alerts, List<Matcher> matchers, List<QueryFile> queries) {
        boolean matches(Map<String, String> labels) {
            if (!alerts.isEmpty() && !alerts.contains(labels.getOrDefault("alertname", ""))) {
                return false;
            }
            return matchers.stream().allMatch(m -> m.matches(labels));
        }
    }

    /** The file as written. */
    record CatalogFile(List<EntryFile> entries) {
        CatalogFile {
            entries = entries == null ? List.of() : entries;
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i) == null) {
                    throw InvalidValue.at("entries[" + i + "]", "expected a mapping of keys");
                }
            }
            entries = List.copyOf(entries);
        }
    }

    /**
     * {@code alerts}: alert names (any of them); {@code matchers}: Alertmanager matchers, all of which must hold;
     * at least one of the two, so that no entry silently matches everything.
     */
    record EntryFile(List<String> alerts, String matchers, List<QueryFile> queries) {
        EntryFile {
            alerts = alerts == null ? List.of() : alerts.stream().filter(Objects::nonNull).map(String::strip).toList();
            matchers = matchers == null ? "" : matchers.strip();
            queries = queries == null ? List.of() : queries;
            if (alerts.isEmpty() && matchers.isEmpty()) {
                throw InvalidValue.here("sets neither alerts nor matchers");
            }
            if (!matchers.isEmpty()) {
                try {
                    Matcher.parseAll(matchers);
                } catch (IllegalArgumentException e) {
                    throw InvalidValue.at("matchers", e.getMessage());
                }
            }
            for (int i = 0; i < queries.size(); i++) {
                if (queries.get(i) == null) {
                    throw InvalidValue.at("queries[" + i + "]", "expected {title, expr}");
                }
            }
            queries = List.copyOf(queries);
        }

        Entry entry() {
            return new Entry(Set.copyOf(alerts), matchers.isEmpty() ? List.of() : Matcher.parseAll(matchers), queries);
        }
    }

    /** {@code show}: the labels of each answer line, e.g. {@code [command, pid]}; empty: the value alone. */
    record QueryFile(String title, String expr, List<String> show) {
        QueryFile {
            title = title == null ? "" : title.strip();
            expr = expr == null ? "" : expr.strip();
            show = show == null ? List.of() : show.stream().filter(Objects::nonNull).toList();
            if (title.isEmpty()) {
                throw InvalidValue.at("title", "is required");
            }
            if (expr.isEmpty()) {
                throw InvalidValue.at("expr", "is required");
            }
        }
    }

    private final List<Entry> entries;

    private ContextCatalog(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** The catalog shipped in {@code resources/context/default.yaml}. */
    public static ContextCatalog defaults() {
        try (InputStream in = ContextCatalog.class.getResourceAsStream("/context/default.yaml")) {
            return parse(new String(Objects.requireNonNull(in, "default context catalog").readAllBytes(),
                    StandardCharsets.UTF_8), "default context catalog");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigException e) {
            throw new IllegalStateException("the built-in context catalog is invalid: " + e.getMessage(), e);
        }
    }

    /** Loads a catalog file; errors name the file, the line and the key ({@code entries[2].queries[0].expr}). */
    public static ContextCatalog load(Path file) throws ConfigException {
        return of(READER.read(file, CatalogFile.class).value());
    }

    public static ContextCatalog parse(String yaml, String source) throws ConfigException {
        return of(READER.parse(source, yaml, CatalogFile.class).value());
    }

    private static ContextCatalog of(CatalogFile file) {
        return new ContextCatalog(file.entries().stream().map(EntryFile::entry).toList());
    }

    /** Every query as written, {@code {{label}}} not substituted: what a test checks against the metric contract. */
    public List<Query> templates() {
        return entries.stream().flatMap(e -> e.queries().stream())
                .map(q -> new Query(q.title(), q.expr(), q.show())).toList();
    }

    /** Whether any entry matches an alert with these labels (the shipped-for-every-rule test asks). */
    public boolean hasEntryFor(Map<String, String> labels) {
        return entries.stream().anyMatch(e -> e.matches(labels));
    }

    /** The queries for an alert, its labels substituted; a query naming a label the alert lacks is left out. */
    public List<Query> queriesFor(Map<String, String> labels) {
        Set<String> seen = new LinkedHashSet<>();
        List<Query> out = new ArrayList<>();
        for (Entry e : entries) {
            if (!e.matches(labels)) {
                continue;
            }
            for (QueryFile q : e.queries()) {
                Optional<String> expr = substitute(q.expr(), labels);
                if (expr.isPresent() && seen.add(expr.get()) && out.size() < MAX_QUERIES) {
                    out.add(new Query(q.title(), expr.get(), q.show()));
                }
            }
        }
        return out;
    }

    /** {@code {{gpu}}} by the label's value as the inside of a PromQL double-quoted string. */
    static Optional<String> substitute(String template, Map<String, String> labels) {
        java.util.regex.Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = labels.get(m.group(1));
            if (value == null || value.isEmpty()) {
                return Optional.empty();
            }
            String escaped = value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(escaped));
        }
        m.appendTail(out);
        return Optional.of(out.toString());
    }
}
