package dev.gpuwatch.integration.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.integration.Repository;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The shipped Grafana dashboards (dashboards/*.json) and every PromQL query in them. */
public final class Dashboards {

    /** Where the test Prometheus scrapes every second, the windows Grafana would pick are short ones. */
    static final String RATE_INTERVAL = "30s";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LABEL_VALUES = Pattern.compile("^label_values\\((.*),\\s*[a-zA-Z_]+\\)$");
    private static final Pattern TEMPLATE_VARIABLE = Pattern.compile("\\$\\{?([a-zA-Z_][a-zA-Z0-9_]*)}?");

    /**
     * One query: a panel target's expr, or a query variable's metric selector (from label_values(selector,
     * label)).
     */
    public record Query(String dashboard, String panel, String refId, String expr) {

        public String where() {
            return dashboard + " / " + panel + " / " + refId;
        }

        /** The query as Prometheus would get it with every variable set to "All". */
        public String exprWithVariablesReplaced() {
            String s = expr.replace("$__rate_interval", RATE_INTERVAL)
                    .replace("$__interval", "5s")
                    .replace("$__range", "1m");
            return TEMPLATE_VARIABLE.matcher(s).replaceAll(".*");
        }
    }

    private Dashboards() {}

    public static List<Path> files() {
        return Repository.files("dashboards", ".json");
    }

    public static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every panel in the dashboard, rows' nested panels included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            all.add(panel);
            panel.path("panels").forEach(all::add);
        }
        return all;
    }

    public static List<Query> queries() {
        List<Query> queries = new ArrayList<>();
        for (Path file : files()) {
            JsonNode dashboard = read(file);
            String uid = dashboard.path("uid").asText();
            for (JsonNode panel : panels(dashboard)) {
                for (JsonNode target : panel.path("targets")) {
                    queries.add(new Query(uid, panel.path("title").asText(), target.path("refId").asText(),
                            target.path("expr").asText()));
                }
            }
            for (JsonNode variable : dashboard.path("templating").path("list")) {
                if (variable.path("type").asText().equals("query")) {
                    Matcher m = LABEL_VALUES.matcher(variable.path("query").path("query").asText());
                    if (m.matches()) {
                        queries.add(new Query(uid, "variable $" + variable.path("name").asText(), "query", m.group(1)));
                    } else {
                        queries.add(new Query(uid, "variable $" + variable.path("name").asText(), "query",
                                "unsupported variable query: " + variable.path("query")));
                    }
                }
            }
        }
        return queries;
    }

    /** A successful instant-query answer with at least one sample that is a number (not NaN). */
    public static boolean hasData(JsonNode answer) {
        if (!answer.path("status").asText().equals("success")) {
            return false;
        }
        for (JsonNode sample : answer.path("data").path("result")) {
            if (!sample.path("value").path(1).asText("NaN").equals("NaN")) {
                return true;
            }
        }
        return false;
    }
}
