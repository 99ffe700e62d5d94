package dev.gpuwatch.integration.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.integration.live.LiveFleet;
import dev.gpuwatch.integration.promql.MetricNames;
import dev.gpuwatch.integration.rules.RuleFiles;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every query of every shipped dashboard, run through a real Prometheus that scrapes the {@link LiveFleet}
 * every second under the job names the rules expect, with every rules/*.rules.yml loaded: each must parse and
 * return data (at least one sample that is not NaN). Variables are set as Grafana's "All" would set them ({@code .*}); {@code $__rate_interval} is
 * {@value Dashboards#RATE_INTERVAL}, which Grafana would never pick below four scrape intervals, and which holds
 * enough samples for rate() a few seconds after a series first appears.
 */
@ExtendWith(LiveFleet.Extension.class)
class LiveDashboardTest {

    /** Long enough for the slowest series (the receiver's digest, a model server's first poll) on 2 busy cores. */
    private static final Duration DEADLINE = Duration.ofSeconds(120);

    /** Well inside the rate window of {@value Dashboards#RATE_INTERVAL}. */
    private static final Duration BURST_EVERY = Duration.ofSeconds(15);

    private static Prometheus prometheus;
    private static LiveFleet fleet;
    private static final Map<Dashboards.Query, JsonNode> answers = new LinkedHashMap<>();

    @BeforeAll
    static void startPrometheus(LiveFleet liveFleet) throws InterruptedException {
        fleet = liveFleet;
        prometheus = fleet.startPrometheus(RuleFiles.ruleFiles());
        // Poll until every query has data and every rule has been evaluated, or the deadline passes; the tests
        // then judge the last answers.
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        long lastBurst = 0;
        int bursts = 0;
        do {
            // The receipt-to-delivery quantiles need deliveries inside the rate window, not only at the fleet's
            // start: a fresh burst of notifications while Prometheus watches, again if the polling takes long.
            if (bursts == 0 || System.nanoTime() - lastBurst > BURST_EVERY.toNanos()) {
                fleet.notifyReceiver("dashboards-" + ++bursts);
                lastBurst = System.nanoTime();
            }
            Thread.sleep(LiveFleet.SCRAPE_INTERVAL.multipliedBy(2));
            boolean complete = rulesEvaluated();
            for (Dashboards.Query query : Dashboards.queries()) {
                JsonNode answer = prometheus.query(query.exprWithVariablesReplaced());
                answers.put(query, answer);
                complete &= Dashboards.hasData(answer);
            }
            if (complete) {
                return;
            }
        } while (System.nanoTime() < deadline);
    }

    @AfterAll
    static void stopPrometheus() {
        if (prometheus != null) {
            prometheus.close();
        }
    }

    @Test
    void prometheusScrapesEveryProcessUnderTheExpectedJobs() {
        List<String> problems = new ArrayList<>();
        JsonNode targets = prometheus.api("targets", Map.of("state", "active")).path("data").path("activeTargets");
        int count = 0;
        for (JsonNode target : targets) {
            count++;
            if (!target.path("health").asText().equals("up")) {
                problems.add(target.path("labels").path("job").asText() + " " + target.path("scrapeUrl").asText()
                        + ": " + target.path("health").asText() + " " + target.path("lastError").asText());
            }
        }
        assertEquals(List.of(), problems, fleet::logs);
        assertEquals(fleet.jobs().values().stream().mapToInt(List::size).sum(), count, targets::toString);
    }

    @TestFactory
    Stream<DynamicTest> everyDashboardQueryParsesAndReturnsData() {
        assertFalse(answers.isEmpty(), "no dashboard queries");
        return answers.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey().where(), () -> {
            Dashboards.Query query = e.getKey();
            JsonNode answer = e.getValue();
            assertEquals("success", answer.path("status").asText(),
                    () -> query.exprWithVariablesReplaced() + "\n  does not run: " + answer.path("error").asText());
            assertFalse(answer.path("data").path("result").isEmpty(),
                    () -> query.exprWithVariablesReplaced() + "\n  returns no data; " + whyEmpty(query));
            // NaN (e.g. a quantile of a histogram that did not move in the window) is no data on a panel either.
            assertTrue(Dashboards.hasData(answer), () -> query.exprWithVariablesReplaced() + "\n  returns only NaN: "
                    + answer.path("data").path("result"));
        }));
    }

    /** Every rule group of rules/ is loaded and every rule evaluates without an error on the live series. */
    @Test
    void everyShippedRuleEvaluatesWithoutError() {
        List<String> problems = new ArrayList<>();
        JsonNode groups = prometheus.api("rules", Map.of()).path("data").path("groups");
        int rules = 0;
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                rules++;
                if (!rule.path("health").asText().equals("ok")) {
                    problems.add(group.path("name").asText() + " / " + rule.path("name").asText() + ": "
                            + rule.path("health").asText() + " " + rule.path("lastError").asText());
                }
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(RuleFiles.rules().size(), rules, "rules loaded by Prometheus");
    }

    private static boolean rulesEvaluated() {
        for (JsonNode group : prometheus.api("rules", Map.of()).path("data").path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.path("health").asText().equals("unknown")) {
                    return false;
                }
            }
        }
        return true;
    }

    /** For an empty answer: how many series each metric it uses has, without and with the query's matchers. */
    private static String whyEmpty(Dashboards.Query query) {
        StringBuilder why = new StringBuilder("series in Prometheus:");
        for (String name : MetricNames.in(query.exprWithVariablesReplaced())) {
            JsonNode count = prometheus.query("count(" + name + ")").path("data").path("result");
            why.append(' ').append(name).append('=')
                    .append(count.isEmpty() ? "none" : count.path(0).path("value").path(1).asText());
        }
        return why.toString();
    }
}
