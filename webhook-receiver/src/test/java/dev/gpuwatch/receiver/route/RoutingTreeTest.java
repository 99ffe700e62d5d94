package dev.gpuwatch.receiver.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RoutingTreeTest {

    private static RoutingTree.Route route(String receiver, String matchers, boolean cont, RoutingTree.Route... children) {
        return new RoutingTree.Route(Optional.ofNullable(receiver),
                matchers.isEmpty() ? List.of() : Matcher.parseAll(matchers), cont, List.of(children));
    }

    @Test
    void matcherSyntaxAsInAlertmanager() {
        var labels = Map.of("severity", "critical", "team", "ml-serving", "msg", "say \"hi\"");
        assertTrue(Matcher.parseAll("severity=\"critical\"").getFirst().matches(labels));
        assertTrue(Matcher.parseAll("severity=critical").getFirst().matches(labels));
        assertTrue(Matcher.parseAll("team=~\"ml-.*\"").getFirst().matches(labels));
        assertFalse(Matcher.parseAll("team=~\"ml\"").getFirst().matches(labels), "regexes are anchored");
        assertTrue(Matcher.parseAll("team!~\"web.*\"").getFirst().matches(labels));
        assertTrue(Matcher.parseAll("cluster!=\"eu\"").getFirst().matches(labels), "a missing label is empty");
        assertTrue(Matcher.parseAll("cluster=\"\"").getFirst().matches(labels));
        assertTrue(Matcher.parseAll("msg=\"say \\\"hi\\\"\"").getFirst().matches(labels));
        assertEquals(2, Matcher.parseAll("{severity=\"critical\", team=~\"ml.*\"}").size());
        assertThrows(IllegalArgumentException.class, () -> Matcher.parseAll("team=~\"(\""));
        assertThrows(IllegalArgumentException.class, () -> Matcher.parseAll("team=\"open"));
    }

    @Test
    void firstMatchingChildWinsUnlessItContinues() {
        var tree = new RoutingTree(route("default", "", false,
                route("pager", "severity=\"critical\"", true),
                route("ml", "team=~\"ml.*\"", false,
                        route(null, "env=\"staging\"", false)), // inherits "ml"
                route("never", "team=~\"ml.*\"", false)));
        assertEquals(List.of("pager", "ml"),
                tree.receivers(Map.of("severity", "critical", "team", "ml-serving"), Map.of()));
        assertEquals(List.of("ml"), tree.receivers(Map.of("team", "ml-serving", "env", "staging"), Map.of()));
        assertEquals(List.of("default"), tree.receivers(Map.of("team", "web"), Map.of()));
    }

    @Test
    void groupLabelsCountAlongsideCommonLabels() {
        var tree = new RoutingTree(route("default", "", false, route("gpu", "alertname=~\"Gpu.*\"", false)));
        assertEquals(List.of("gpu"), tree.receivers(Map.of(), Map.of("alertname", "GpuHot")));
    }
}
