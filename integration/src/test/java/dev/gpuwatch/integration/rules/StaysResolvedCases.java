package dev.gpuwatch.integration.rules;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.config.Durations;
import dev.gpuwatch.integration.rules.RuleFiles.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "stays resolved" convention of rules/README.md. Every alert has a promtool test group named
 * {@code stays resolved: Alert[, Alert...]} in which each alert it names fires (with each severity of that alert),
 * is resolved again before an input series of the group disappears, and stays resolved once the series are back:
 * a case within a minute of the return and one five minutes or more after it. A rule that fires again when its
 * series come back (a "first seen" counter, a window that forgets the gap) fails that group in promtool.
 */
final class StaysResolvedCases {

    static final String PREFIX = "stays resolved: ";
    private static final Duration JUST_AFTER = Duration.ofMinutes(1);
    private static final Duration LATER = Duration.ofMinutes(5);
    private static final Pattern REPEAT = Pattern.compile(".*x(\\d+)");

    /** Where the input series of a group are absent between two samples: from {@code gone} to {@code back}. */
    record Gap(Duration gone, Duration back) {}

    /** One alert_rule_test case: when, and the severities it expects firing (none: resolved). */
    private record Case(Duration at, Set<String> firing) {}

    private StaysResolvedCases() {}

    /** What breaks the convention, one line per problem; empty when every alert has its complete case. */
    static List<String> problems(List<Rule> rules, List<JsonNode> testGroups) {
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> severities = new HashMap<>(); // alert -> its rules' severities
        for (Rule rule : rules) {
            if (rule.isAlert()) {
                severities.computeIfAbsent(rule.alert(), a -> new TreeSet<>()).add(rule.labels().getOrDefault("severity", ""));
            }
        }
        Map<String, Set<String>> fired = new HashMap<>(); // alert -> severities fired in its stays-resolved groups
        for (JsonNode group : testGroups) {
            String name = group.path("name").asText("");
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            Optional<Duration> interval = Durations.parse(group.path("interval").asText(""));
            if (interval.isEmpty()) {
                problems.add("'" + name + "': needs an interval");
                continue;
            }
            List<Gap> gaps = new ArrayList<>();
            for (JsonNode series : group.path("input_series")) {
                gaps.addAll(gaps(series.path("values").asText(""), interval.get()));
            }
            for (String listed : name.substring(PREFIX.length()).split(",")) {
                String alert = listed.strip();
                if (!severities.containsKey(alert)) {
                    problems.add("'" + name + "': no alert " + alert + " in rules/*.rules.yml");
                    continue;
                }
                List<Case> cases = cases(group, alert);
                problems.addAll(check(name, alert, cases, gaps));
                cases.forEach(c -> fired.computeIfAbsent(alert, a -> new TreeSet<>()).addAll(c.firing()));
            }
        }
        severities.forEach((alert, wanted) -> {
            if (!fired.containsKey(alert)) {
                problems.add(alert + ": no test group named '" + PREFIX + alert + "' (or naming it among others)");
                return;
            }
            for (String severity : wanted) {
                if (!fired.get(alert).contains(severity)) {
                    problems.add(alert + ": its stays-resolved case never fires it with severity " + severity);
                }
            }
        });
        Collections.sort(problems);
        return problems;
    }

    private static List<String> check(String group, String alert, List<Case> cases, List<Gap> gaps) {
        String where = alert + " in '" + group + "': ";
        Optional<Duration> lastFiring = cases.stream().filter(c -> !c.firing().isEmpty()).map(Case::at)
                .max(Duration::compareTo);
        if (lastFiring.isEmpty()) {
            return List.of(where + "no case where it fires");
        }
        Duration fired = lastFiring.get();
        List<Gap> after = gaps.stream().filter(g -> g.gone().compareTo(fired) > 0).toList();
        if (after.isEmpty()) {
            return List.of(where + "no input series disappears after " + Durations.format(fired)
                    + ", when it last fires, and comes back");
        }
        Duration gone = after.stream().map(Gap::gone).min(Duration::compareTo).orElseThrow();
        Duration back = after.stream().map(Gap::back).max(Duration::compareTo).orElseThrow();
        List<Duration> resolved = cases.stream().filter(c -> c.firing().isEmpty()).map(Case::at).toList();
        List<String> problems = new ArrayList<>();
        if (resolved.stream().noneMatch(t -> t.compareTo(fired) > 0 && t.compareTo(gone) < 0)) {
            problems.add(where + "no case where it is resolved between " + Durations.format(fired) + " and "
                    + Durations.format(gone) + ", when the series disappear");
        }
        if (resolved.stream().noneMatch(t -> t.compareTo(back) >= 0 && t.compareTo(back.plus(JUST_AFTER)) <= 0)) {
            problems.add(where + "no case where it stays resolved within a minute of " + Durations.format(back)
                    + ", when the series are back");
        }
        if (resolved.stream().noneMatch(t -> t.compareTo(back.plus(LATER)) >= 0)) {
            problems.add(where + "no case where it stays resolved " + Durations.format(LATER) + " or more after "
                    + Durations.format(back) + ", when the series are back");
        }
        return problems;
    }

    private static List<Case> cases(JsonNode group, String alert) {
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : group.path("alert_rule_test")) {
            if (!c.path("alertname").asText().equals(alert)) {
                continue;
            }
            Set<String> firing = new TreeSet<>();
            c.path("exp_alerts").forEach(a -> firing.add(a.path("exp_labels").path("severity").asText("?")));
            Durations.parse(c.path("eval_time").asText("")).ifPresent(at -> cases.add(new Case(at, firing)));
        }
        return cases;
    }

    /** The gaps of one input series: absent steps ({@code _}, {@code stale}) with a sample before and after. */
    static List<Gap> gaps(String values, Duration interval) {
        List<Boolean> present = presence(values);
        List<Gap> gaps = new ArrayList<>();
        int lastPresent = -1;
        for (int i = 0; i < present.size(); i++) {
            if (!present.get(i)) {
                continue;
            }
            if (lastPresent >= 0 && i > lastPresent + 1) {
                gaps.add(new Gap(interval.multipliedBy(lastPresent + 1), interval.multipliedBy(i)));
            }
            lastPresent = i;
        }
        return gaps;
    }

    /**
     * promtool's expanding notation, step by step, as present or not: {@code _} and {@code stale} are one absent
     * step, {@code _xN} N of them; {@code axN} and {@code a+bxN} are N+1 samples; any other token one sample.
     */
    static List<Boolean> presence(String values) {
        List<Boolean> steps = new ArrayList<>();
        for (String token : values.strip().split("\\s+")) {
            if (token.isEmpty()) {
                continue;
            }
            Matcher repeat = REPEAT.matcher(token);
            boolean absent = token.equals("_") || token.equals("stale") || token.startsWith("_x");
            int count = repeat.matches() ? Integer.parseInt(repeat.group(1)) + (absent ? 0 : 1) : 1;
            steps.addAll(Collections.nCopies(count, !absent));
        }
        return steps;
    }
}
