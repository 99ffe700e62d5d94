package dev.gpuwatch.receiver.route;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Alertmanager's routing tree, applied to a notification that Alertmanager has already grouped. A notification
 * is matched on its {@code commonLabels} overlaid with its {@code groupLabels}: the labels every alert of the
 * group shares. A node matches when all its matchers do; the notification goes to the deepest matching nodes,
 * the first matching child only unless that child says {@code continue: true}; a node without a receiver
 * inherits its parent's.
 */
public final class RoutingTree {

    /** One node: {@code receiver} empty means "inherit from the parent". */
    public record Route(Optional<String> receiver, List<Matcher> matchers, boolean continueMatching,
            List<Route> routes) {
        public Route {
            matchers = List.copyOf(matchers);
            routes = List.copyOf(routes);
        }
    }

    private final Route root;

    /** @param root must name a receiver: it is the default for every notification */
    public RoutingTree(Route root) {
        if (root.receiver().isEmpty()) {
            throw new IllegalArgumentException("the root route needs a receiver");
        }
        this.root = root;
    }

    /** The receivers a notification goes to, in tree order, each once; never empty. */
    public List<String> receivers(Map<String, String> commonLabels, Map<String, String> groupLabels) {
        return explain(commonLabels, groupLabels).receivers();
    }

    /**
     * One route node as the walk met it, for the inbox's route tester.
     *
     * @param path where the node is in the configuration: {@code route}, {@code route.routes[1].routes[0]}
     * @param depth 0 for the root
     * @param receiver the node's receiver, its own or the one it inherits
     * @param inherited true when the node names no receiver of its own
     * @param verdicts each matcher against the labels; empty for the root, which matches everything
     * @param tried false when an earlier sibling matched without {@code continue}, so Alertmanager never looked at
     *     this node (its verdicts are then empty)
     * @param matched whether every matcher matched (and the node was tried)
     * @param chosen whether the notification goes to this node's receiver: it matched and none of its children did
     */
    public record Step(String path, int depth, String receiver, boolean inherited, List<Verdict> verdicts,
            boolean continueMatching, boolean tried, boolean matched, boolean chosen) {
        public Step {
            verdicts = List.copyOf(verdicts);
        }
    }

    /** One matcher against the labels: the value the label has ({@code ""} when missing) and the outcome. */
    public record Verdict(Matcher matcher, String actual, boolean matched) {}

    /** The nodes in walk order and the receivers that result, in tree order, each once. */
    public record Explanation(Map<String, String> labels, List<Step> steps, List<String> receivers) {
        public Explanation {
            labels = Map.copyOf(labels);
            steps = List.copyOf(steps);
            receivers = List.copyOf(receivers);
        }
    }

    /**
     * How a notification with these labels walks the tree (the labels as {@link #receivers}: common labels
     * overlaid with group labels), node by node with each matcher's verdict. {@link #receivers} is this walk's
     * outcome, so the route tester shows exactly what ingest decides.
     */
    public Explanation explain(Map<String, String> commonLabels, Map<String, String> groupLabels) {
        Map<String, String> labels = new HashMap<>(commonLabels);
        labels.putAll(groupLabels);
        List<Step> steps = new ArrayList<>();
        LinkedHashSet<String> receivers = new LinkedHashSet<>();
        walk(root, "route", 0, root.receiver().orElseThrow(), List.of(), labels, steps, receivers);
        return new Explanation(labels, steps, new ArrayList<>(receivers));
    }

    /** Adds the steps of {@code node}'s matching subtree; the caller has checked that {@code node} matches. */
    private static void walk(Route node, String path, int depth, String inherited, List<Verdict> verdicts,
            Map<String, String> labels, List<Step> steps, LinkedHashSet<String> out) {
        String receiver = node.receiver().orElse(inherited);
        int index = steps.size();
        steps.add(null); // this node's step, filled once its children say whether it is chosen
        boolean childMatched = false;
        boolean stopped = false;
        for (int i = 0; i < node.routes().size(); i++) {
            Route child = node.routes().get(i);
            String childPath = path + ".routes[" + i + "]";
            String childReceiver = child.receiver().orElse(receiver);
            if (stopped) {
                steps.add(new Step(childPath, depth + 1, childReceiver, child.receiver().isEmpty(), List.of(),
                        child.continueMatching(), false, false, false));
                continue;
            }
            List<Verdict> childVerdicts = child.matchers().stream()
                    .map(m -> new Verdict(m, labels.getOrDefault(m.name(), ""), m.matches(labels))).toList();
            if (childVerdicts.stream().allMatch(Verdict::matched)) {
                walk(child, childPath, depth + 1, receiver, childVerdicts, labels, steps, out);
                childMatched = true;
                stopped = !child.continueMatching();
            } else {
                steps.add(new Step(childPath, depth + 1, childReceiver, child.receiver().isEmpty(), childVerdicts,
                        child.continueMatching(), true, false, false));
            }
        }
        if (!childMatched) {
            out.add(receiver);
        }
        steps.set(index, new Step(path, depth, receiver, node.receiver().isEmpty(), verdicts,
                node.continueMatching(), true, true, !childMatched));
    }

    /** Every receiver name the tree can produce, to check against the configured receivers. */
    public List<String> referencedReceivers() {
        List<String> names = new ArrayList<>();
        collect(root, names);
        return names;
    }

    private static void collect(Route node, List<String> out) {
        node.receiver().ifPresent(out::add);
        node.routes().forEach(child -> collect(child, out));
    }
}
