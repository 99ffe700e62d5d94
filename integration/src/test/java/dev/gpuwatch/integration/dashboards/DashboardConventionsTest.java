package dev.gpuwatch.integration.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.integration.promql.MetricNames;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The dashboards-as-code conventions of dashboards/README.md, checked on every dashboard and panel. */
class DashboardConventionsTest {

    /** Fixed uids (the receiver's catalog links alerts to them) and the variables each one must offer. */
    private static final Map<String, Set<String>> VARIABLES_BY_UID = Map.of(
            "gpuwatch-gpu-fleet", Set.of("datasource", "job", "instance", "gpu", "model"),
            "gpuwatch-model-servers", Set.of("datasource", "job", "instance", "model"),
            "gpuwatch-alert-bridge", Set.of("datasource", "job", "instance"));
    private static final String DATASOURCE = "${datasource}";
    private static final Pattern RATE_CALL = Pattern.compile("\\b(rate|irate|increase)\\s*\\(");
    private static final Pattern RANGE = Pattern.compile("\\[([^\\]]*)]");

    @Test
    void theThreeDashboardsShipWithFixedUids() {
        Set<String> uids = Dashboards.files().stream()
                .map(f -> Dashboards.read(f).path("uid").asText())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(VARIABLES_BY_UID.keySet()), uids);
    }

    @Test
    void everyDashboardHasADatasourceVariableAndItsFilterVariables() {
        List<String> problems = new ArrayList<>();
        for (Path file : Dashboards.files()) {
            JsonNode dashboard = Dashboards.read(file);
            String uid = dashboard.path("uid").asText();
            Set<String> names = new TreeSet<>();
            for (JsonNode variable : dashboard.path("templating").path("list")) {
                String name = variable.path("name").asText();
                names.add(name);
                if (name.equals("datasource")) {
                    if (!variable.path("type").asText().equals("datasource")
                            || !variable.path("query").asText().equals("prometheus")) {
                        problems.add(uid + ": $datasource must be a datasource variable of type prometheus");
                    }
                } else if (!variable.path("datasource").path("uid").asText().equals(DATASOURCE)) {
                    problems.add(uid + ": variable $" + name + " must query " + DATASOURCE);
                }
            }
            if (!names.containsAll(VARIABLES_BY_UID.getOrDefault(uid, Set.of()))) {
                problems.add(uid + ": variables " + names + " lack some of " + VARIABLES_BY_UID.get(uid));
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void everyPanelUsesTheDatasourceVariableAndHasAUnit() {
        List<String> problems = new ArrayList<>();
        for (Path file : Dashboards.files()) {
            JsonNode dashboard = Dashboards.read(file);
            for (JsonNode panel : Dashboards.panels(dashboard)) {
                if (panel.path("type").asText().equals("row")) {
                    continue;
                }
                String where = dashboard.path("uid").asText() + " / " + panel.path("title").asText();
                if (!panel.path("datasource").path("uid").asText().equals(DATASOURCE)) {
                    problems.add(where + ": panel datasource must be " + DATASOURCE);
                }
                if (panel.path("fieldConfig").path("defaults").path("unit").asText("").isBlank()) {
                    problems.add(where + ": no unit");
                }
                if (panel.path("targets").isEmpty()) {
                    problems.add(where + ": no query");
                }
                for (JsonNode target : panel.path("targets")) {
                    if (!target.path("datasource").path("uid").asText().equals(DATASOURCE)) {
                        problems.add(where + " / " + target.path("refId").asText() + ": target datasource must be "
                                + DATASOURCE);
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void ratesUseTheRateIntervalAndCountersAppearOnlyInsideRates() {
        List<String> problems = new ArrayList<>();
        for (Dashboards.Query query : Dashboards.queries()) {
            String expr = query.expr();
            Matcher call = RATE_CALL.matcher(expr);
            while (call.find()) {
                Matcher range = RANGE.matcher(expr.substring(call.end(), closingParenthesis(expr, call.end() - 1)));
                if (!range.find() || !range.group(1).equals("$__rate_interval")) {
                    problems.add(query.where() + ": " + call.group(1) + "() must use [$__rate_interval]");
                }
            }
            for (String name : MetricNames.in(expr)) {
                if (!isCounterSample(name)) {
                    continue;
                }
                Matcher use = Pattern.compile("(?<![A-Za-z0-9_:])" + Pattern.quote(name) + "(?![A-Za-z0-9_:])")
                        .matcher(expr);
                while (use.find()) {
                    if (!expr.substring(0, use.start()).matches("(?s).*\\b(rate|irate|increase)\\s*\\(\\s*")) {
                        problems.add(query.where() + ": counter " + name + " outside rate()/increase()");
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void theProvisioningFileLoadsTheDashboardsFromFiles() throws IOException {
        JsonNode provisioning = new ObjectMapper(new YAMLFactory())
                .readTree(Repository.path("dashboards/provisioning/gpuwatch.yaml").toFile());
        JsonNode provider = provisioning.path("providers").path(0);
        assertEquals(1, provisioning.path("apiVersion").asInt());
        assertEquals("file", provider.path("type").asText());
        assertEquals(false, provider.path("options").path("path").asText().isEmpty());
    }

    private static boolean isCounterSample(String name) {
        return !name.contains(":") && (name.endsWith("_total") || name.endsWith("_bucket") || name.endsWith("_sum")
                || name.endsWith("_count"));
    }

    private static int closingParenthesis(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return s.length();
    }
}
