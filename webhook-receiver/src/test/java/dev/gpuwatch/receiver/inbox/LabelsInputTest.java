package dev.gpuwatch.receiver.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelsInputTest {

    private static Map<String, String> labels(String text) {
        return switch (LabelsInput.parse(text)) {
            case LabelsInput.Parsed.Labels l -> l.labels();
            case LabelsInput.Parsed.Invalid i -> throw new AssertionError(i.problem());
        };
    }

    private static String problem(String text) {
        return switch (LabelsInput.parse(text)) {
            case LabelsInput.Parsed.Labels l -> throw new AssertionError("read as " + l.labels());
            case LabelsInput.Parsed.Invalid i -> i.problem();
        };
    }

    @Test
    void aSelectorAsPrometheusPrintsIt() {
        assertEquals(Map.of("team", "ml", "severity", "critical"), labels("{team=\"ml\", severity=\"critical\"}"));
        assertEquals(Map.of("summary", "a, b \"c\""), labels("{summary=\"a, b \\\"c\\\"\"}"));
    }

    @Test
    void keyValueLinesWithBareOrQuotedValues() {
        assertEquals(Map.of("team", "ml", "env", "staging", "severity", "page"),
                labels("team=ml\n\n  env=\"staging\"  \r\nseverity = page\n"));
    }

    @Test
    void matchersEmptyInputAndRepeatsAreRefused() {
        assertTrue(problem("team=~\"ml.*\"").contains("labels have values"));
        assertTrue(problem("team!=web").contains("labels have values"));
        assertEquals("no labels given", problem("  \n "));
        assertEquals("label team given twice", problem("team=a\nteam=b"));
        assertTrue(problem("{team=\"open}").contains("unterminated"));
    }
}
