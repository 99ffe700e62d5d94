package dev.gpuwatch.receiver.inbox;

import dev.gpuwatch.receiver.route.Matcher;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Labels pasted into the route tester: a selector as Prometheus and Alertmanager print one
 * ({@code {team="ml", severity="critical"}}) or {@code key=value} lines. Values are read by {@link Matcher}'s
 * parser, so quoting and escapes mean what they mean in the routing configuration.
 */
final class LabelsInput {

    private LabelsInput() {}

    /** The labels, or the reason they cannot be read. */
    sealed interface Parsed {
        record Labels(Map<String, String> labels) implements Parsed {}

        record Invalid(String problem) implements Parsed {}
    }

    static Parsed parse(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            return new Parsed.Invalid("no labels given");
        }
        // lines become list entries: a line's value ends at its end, as a comma ends one inside braces
        String joined = s.startsWith("{") ? s : String.join(",", s.lines().map(String::strip)
                .filter(line -> !line.isEmpty()).toList());
        List<Matcher> matchers;
        try {
            matchers = Matcher.parseAll(joined);
        } catch (IllegalArgumentException e) {
            return new Parsed.Invalid(e.getMessage());
        }
        Map<String, String> labels = new LinkedHashMap<>();
        for (Matcher m : matchers) {
            if (m.op() != Matcher.Op.EQ) {
                return new Parsed.Invalid("labels have values, not matchers: use name=\"value\", not " + m);
            }
            if (labels.put(m.name(), m.value()) != null) {
                return new Parsed.Invalid("label " + m.name() + " given twice");
            }
        }
        return new Parsed.Labels(labels);
    }
}
