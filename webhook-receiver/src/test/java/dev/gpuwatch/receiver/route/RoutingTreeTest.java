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

    /** The tree of Alertmanager's routing docs, shortened: continue, an inheriting child, an anchored regex. */
    private static RoutingTree explainedTree() {
        return new RoutingTree(route("default", "", false,
                route("pager", "severity=\"critical\"", true),
                route("ml", "team=~\"ml\"", false,
                        route(null, "env=\"staging\"", false)),
                route("late", "team=~\"ml.*\"", false),
                route("never", "team=~\"ml.*\"", false)));
    }

    @Test
    void explainShowsEachMatchersVerdictAndWhichSiblingsWereNeverTried() {
        var explained = explainedTree().explain(Map.of("severity", "critical", "team", "mlops"), Map.of());
        assertEquals(List.of("pager", "late"), explained.receivers(), "continue, then the next matching sibling");
        assertEquals(List.of("route", "route.routes[0]", "route.routes[1]", "route.routes[2]", "route.routes[3]"),
                explained.steps().stream().map(RoutingTree.Step::path).toList(),
                "the children of an unmatched node are not walked");
        var root = explained.steps().get(0);
        assertTrue(root.matched() && !root.chosen(), "the root matched, but children took the notification");
        var pager = explained.steps().get(1);
        assertTrue(pager.matched() && pager.chosen() && pager.continueMatching());
        var ml = explained.steps().get(2);
        assertFalse(ml.matched(), "regexes are anchored: ml does not match mlops");
        var verdict = ml.verdicts().getFirst(); // a Pattern has no equals, so the matcher compares as text
        assertEquals(List.of("team=~\"ml\"", "mlops", "false"),
                List.of(verdict.matcher().toString(), verdict.actual(), String.valueOf(verdict.matched())));
        var late = explained.steps().get(3);
        assertTrue(late.matched() && late.chosen() && !late.continueMatching());
        var never = explained.steps().get(4);
        assertFalse(never.tried(), "after a match without continue Alertmanager stops looking");
        assertEquals(List.of(), never.verdicts());
    }

    @Test
    void explainNamesTheInheritedReceiverAndAMissingLabelAsEmpty() {
        var explained = explainedTree().explain(Map.of("team", "ml"), Map.of("env", "staging"));
        assertEquals(List.of("ml"), explained.receivers());
        var pager = explained.steps().get(1);
        assertEquals("", pager.verdicts().getFirst().actual(), "a missing label is the empty string");
        assertFalse(pager.matched());
        var child = explained.steps().stream().filter(s -> s.path().equals("route.routes[1].routes[0]")).findFirst()
                .orElseThrow();
        assertEquals(2, child.depth());
        assertEquals("ml", child.receiver());
        assertTrue(child.inherited() && child.chosen(), "the child names no receiver and takes its parent's");
        assertFalse(explained.steps().get(2).chosen(), "the parent's receiver comes from its child, not itself");
        var nothing = explainedTree().explain(Map.of("team", "web"), Map.of());
        assertEquals(List.of("default"), nothing.receivers());
        assertTrue(nothing.steps().getFirst().chosen(), "no child matched: the root's receiver");
    }

    @Test
    void receiversAreTheExplainedWalksOutcome() {
        var tree = explainedTree();
        for (var labels : List.of(Map.of("severity", "critical"), Map.of("team", "ml", "env", "prod"),
                Map.of("team", "ml-serving"), Map.<String, String>of())) {
            assertEquals(tree.explain(labels, Map.of()).receivers(), tree.receivers(labels, Map.of()));
            assertEquals(tree.explain(labels, Map.of()).steps().stream().filter(RoutingTree.Step::chosen)
                    .map(RoutingTree.Step::receiver).distinct().toList(), tree.receivers(labels, Map.of()));
        }
    }
}
