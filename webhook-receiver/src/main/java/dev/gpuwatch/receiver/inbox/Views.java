package dev.gpuwatch.receiver.inbox;

import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import dev.gpuwatch.receiver.interact.AlertmanagerSilences;
import dev.gpuwatch.receiver.interact.ButtonAction;
import dev.gpuwatch.receiver.route.RoutingTree;
import dev.gpuwatch.receiver.store.NotificationStore.ActionStatus;
import dev.gpuwatch.receiver.store.NotificationStore.DeadLetter;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryAttempt;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryState;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryStatus;
import dev.gpuwatch.receiver.store.NotificationStore.StoredAction;
import dev.gpuwatch.receiver.store.NotificationStore.StoredNotification;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the templates show, built from the store's records and the routing tree: plain values only (strings,
 * booleans, lists), so the templates stay logic-less. Knows nothing of HTTP. {@code tone} is the colour a state
 * has on the page: {@code bad} (firing, dead), {@code good} (resolved, delivered), {@code wait} (pending, in
 * doubt), {@code busy} (being sent), {@code quiet} (not tried).
 */
final class Views {

    private final PayloadParser parser = new PayloadParser();

    record Label(String name, String value) {}

    /** {@code attempts}: "no attempt yet", "1 attempt", "3 attempts". */
    record Delivery(long id, String receiver, String channel, String integration, String state, String tone,
            String attempts, List<Times.Shown> next, String lastError, boolean dead) {}

    /** One line of the list; {@code alerts} as "GpuXidError ×3". */
    record Row(long id, String status, String tone, Times.Shown received, String alerts, List<Label> group,
            String groupKey, List<Delivery> deliveries) {}

    record AlertView(String status, String tone, String name, List<Label> labels, List<Label> annotations,
            Times.Shown startsAt, List<Times.Shown> endsAt, String generatorUrl) {}

    record Attempt(Times.Shown at, String outcome, String tone, int attempt, String error, List<Times.Shown> next) {}

    record DeliveryHistory(Delivery delivery, List<Attempt> attempts) {}

    record DeadLetterRow(long id, long notificationId, String receiver, String channel, String groupKey,
            String attempts, String error, Times.Shown received, Times.Shown dead) {}

    /** A button press: who, what, on which group, how it ended, and the silence it made (its page, if known). */
    record ActionRow(long id, Times.Shown at, String user, String action, String groupKey, String status,
            String tone, String result, List<String> resultLink, String error, List<Times.Shown> until,
            String message) {}

    record Verdict(String matcher, String actual, boolean matched) {}

    record Step(String path, String indent, String receiver, boolean inherited, List<Verdict> verdicts,
            boolean root, boolean continueMatching, String state, String tone) {}

    record Chosen(String receiver, List<String> channels) {}

    record Route(List<Label> labels, List<Chosen> receivers, List<Step> steps) {}

    Optional<Notification> parse(StoredNotification n) {
        return parser.parse(n.body()) instanceof PayloadParser.Result.Parsed p ? Optional.of(p.notification())
                : Optional.empty();
    }

    Row row(StoredNotification n, Instant now) {
        Optional<Notification> parsed = parse(n);
        return new Row(n.id(), n.status(), statusTone(n.status()), Times.show(n.receivedAt(), now),
                parsed.map(Views::alertNames).orElse("(stored body unreadable)"),
                parsed.map(p -> labels(p.groupLabels())).orElse(List.of()), n.groupKey(),
                n.deliveries().stream().map(d -> delivery(d, now)).toList());
    }

    List<AlertView> alerts(Notification n, Instant now) {
        return n.alerts().stream().map(a -> new AlertView(a.status(), statusTone(a.status()), a.alertName(),
                labels(without(a.labels(), "alertname")), labels(a.annotations()), Times.show(a.startsAt(), now),
                a.endsAt().map(e -> List.of(Times.show(e, now))).orElse(List.of()), a.generatorUrl())).toList();
    }

    List<DeliveryHistory> histories(StoredNotification n, List<DeliveryAttempt> attempts, Instant now) {
        return n.deliveries().stream().map(d -> new DeliveryHistory(delivery(d, now), attempts.stream()
                .filter(a -> a.deliveryId() == d.id()).map(a -> attempt(a, now)).toList())).toList();
    }

    ActionRow action(StoredAction a, Instant now, String alertmanagerUrl) {
        Optional<ButtonAction> button = ButtonAction.of(a.action());
        String tone = switch (a.status()) {
            case DONE -> "good";
            case FAILED -> "bad";
            case PENDING -> "busy";
        };
        boolean silence = button.map(ButtonAction::silences).orElse(false);
        List<String> link = silence && a.status() == ActionStatus.DONE && !a.result().isEmpty()
                && !alertmanagerUrl.isEmpty()
                ? List.of(AlertmanagerSilences.silencePage(alertmanagerUrl, a.result()))
                : List.of();
        return new ActionRow(a.id(), Times.show(a.createdAt(), now), a.userName() + " (" + a.userId() + ")",
                button.map(ButtonAction::label).orElse(a.action()), a.groupKey(),
                a.status().name().toLowerCase(Locale.ROOT), tone, a.result(), link, a.error(),
                silence && a.status() == ActionStatus.DONE ? List.of(Times.show(a.until(), now)) : List.of(),
                a.slackChannel() + " " + a.messageTs());
    }

    DeadLetterRow deadLetter(DeadLetter d, Instant now) {
        return new DeadLetterRow(d.id(), d.notificationId(), d.receiver(), d.channel(), d.groupKey(),
                attempts(d.attempts()), d.lastError(), Times.show(d.receivedAt(), now), Times.show(d.deadAt(), now));
    }

    /** The route tester's answer: the labels used, each receiver with its channels, every node as walked. */
    static Route route(RoutingTree.Explanation e, Map<String, List<Target>> targets) {
        List<Chosen> chosen = e.receivers().stream().map(r -> new Chosen(r, targets.getOrDefault(r, List.of())
                .stream().map(Target::channel).toList())).toList();
        List<Step> steps = e.steps().stream().map(s -> {
            String state;
            String tone;
            if (!s.tried()) {
                state = "not tried: an earlier sibling matched without continue";
                tone = "quiet";
            } else if (!s.matched()) {
                state = "no match";
                tone = "quiet";
            } else if (s.chosen()) {
                state = "matched: notifies " + s.receiver();
                tone = "good";
            } else {
                state = "matched: a child route takes it";
                tone = "busy";
            }
            return new Step(s.path(), "depth-" + Math.min(s.depth(), 6), s.receiver(), s.inherited(),
                    s.verdicts().stream().map(v -> new Verdict(v.matcher().toString(), v.actual(), v.matched()))
                            .toList(), s.depth() == 0, s.continueMatching(), state, tone);
        }).toList();
        return new Route(labels(e.labels()), chosen, steps);
    }

    static List<Label> labels(Map<String, String> labels) {
        List<Label> out = new ArrayList<>();
        new TreeMap<>(labels).forEach((k, v) -> out.add(new Label(k, v)));
        return out;
    }

    private static Map<String, String> without(Map<String, String> labels, String name) {
        Map<String, String> copy = new LinkedHashMap<>(labels);
        copy.remove(name);
        return copy;
    }

    /** The distinct alert names in order of first appearance, each with its count when above one. */
    private static String alertNames(Notification n) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Alert a : n.alerts()) {
            counts.merge(a.alertName().isEmpty() ? "(no alertname)" : a.alertName(), 1, Integer::sum);
        }
        List<String> names = new ArrayList<>();
        counts.forEach((name, count) -> names.add(count == 1 ? name : name + " ×" + count));
        return names.isEmpty() ? "(no alerts)" : String.join(", ", names);
    }

    static String attempts(int count) {
        return switch (count) {
            case 0 -> "no attempt yet";
            case 1 -> "1 attempt";
            default -> count + " attempts";
        };
    }

    private static String statusTone(String status) {
        return status.equals("resolved") ? "good" : "bad";
    }

    private static Delivery delivery(DeliveryState d, Instant now) {
        String state;
        String tone;
        if (d.inDoubtSince().isPresent() && d.status() != DeliveryStatus.DELIVERED) {
            state = "in doubt";
            tone = "wait";
        } else {
            state = switch (d.status()) {
                case PENDING -> d.attempts() == 0 ? "pending" : "retrying";
                case IN_FLIGHT -> "sending";
                case DELIVERED -> "delivered";
                case DEAD -> "dead";
            };
            tone = switch (d.status()) {
                case PENDING -> "wait";
                case IN_FLIGHT -> "busy";
                case DELIVERED -> "good";
                case DEAD -> "bad";
            };
        }
        List<Times.Shown> next = d.status() == DeliveryStatus.PENDING ? List.of(Times.show(d.nextAttemptAt(), now))
                : List.of();
        return new Delivery(d.id(), d.receiver(), d.channel(), d.integration(), state, tone, attempts(d.attempts()),
                next, d.lastError(), d.status() == DeliveryStatus.DEAD);
    }

    private static Attempt attempt(DeliveryAttempt a, Instant now) {
        String outcome = switch (a.outcome()) {
            case DELIVERED -> "delivered";
            case RETRY -> "failed, will retry";
            case DEAD -> "failed for good: dead letter";
            case IN_DOUBT -> "outcome unknown (receiver stopped or lease expired): target asked before resending";
            case REPLAYED -> "dead letter replayed: pending again";
        };
        String tone = switch (a.outcome()) {
            case DELIVERED -> "good";
            case RETRY, IN_DOUBT -> "wait";
            case DEAD -> "bad";
            case REPLAYED -> "busy";
        };
        return new Attempt(Times.show(a.at(), now), outcome, tone, a.attempt(), a.error(),
                a.nextAttemptAt().map(t -> List.of(Times.show(t, now))).orElse(List.of()));
    }
}
