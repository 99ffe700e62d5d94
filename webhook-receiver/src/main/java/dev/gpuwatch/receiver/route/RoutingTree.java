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
        Map<String, String> labels = new HashMap<>(commonLabels);
        labels.putAll(groupLabels);
        LinkedHashSet<String> receivers = new LinkedHashSet<>();
        walk(root, root.receiver().orElseThrow(), labels, receivers);
        return new ArrayList<>(receivers);
    }

    /** Adds the receivers of {@code node}'s matching subtree; the caller has checked that {@code node} matches. */
    private static void walk(Route node, String inherited, Map<String, String> labels, LinkedHashSet<String> out) {
        String receiver = node.receiver().orElse(inherited);
        boolean childMatched = false;
        for (Route child : node.routes()) {
            if (child.matchers().stream().allMatch(m -> m.matches(labels))) {
                walk(child, receiver, labels, out);
                childMatched = true;
                if (!child.continueMatching()) {
                    break;
                }
            }
        }
        if (!childMatched) {
            out.add(receiver);
        }
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
