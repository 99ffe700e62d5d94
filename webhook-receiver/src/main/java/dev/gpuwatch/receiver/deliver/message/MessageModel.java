package dev.gpuwatch.receiver.deliver.message;

import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import java.net.URI;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The values a message template sees, built once from enriched notifications and shared by every channel so
 * that Slack, email and PagerDuty say the same things. Values are raw here: escaping is the template's
 * escaper's job (Slack mrkdwn, HTML), so one model serves every channel. Keys are documented in
 * {@code resources/templates/README.md}.
 *
 * <p>Values that a template puts on one line (labels, alert name, severity, summary, owner) never hold a line
 * break: a label value cannot forge a line of its own (a fake "ALL CLEAR" in Slack, a "Runbook:" line in a
 * mail); the channel's {@link ValueRules} neutralise what else matters there and bound every value's length.
 */
public final class MessageModel {

    /** Severity label values in the order an on-call engineer cares about them, most urgent first. */
    private static final List<String> SEVERITY_ORDER = List.of("critical", "error", "warning", "info");

    private MessageModel() {}

    /** The model of one notification (a single, non-digest message), values unbounded. */
    public static Map<String, Object> of(EnrichedNotification enriched) {
        return of(enriched, ValueRules.UNBOUNDED);
    }

    /** The model of one notification (a single, non-digest message), values shaped by {@code rules}. */
    public static Map<String, Object> of(EnrichedNotification enriched, ValueRules rules) {
        Notification n = enriched.notification();
        Map<String, Object> m = new LinkedHashMap<>();
        boolean resolved = n.isResolved();
        long firing = n.alerts().stream().filter(a -> !a.isResolved()).count();
        long resolvedCount = n.alerts().size() - firing;
        m.put("status", resolved ? "resolved" : "firing");
        m.put("STATUS", resolved ? "RESOLVED" : "FIRING");
        m.put("firing", !resolved);
        m.put("resolved", resolved);
        m.put("alertname", line(alertName(n), rules));
        m.put("severity", line(severity(n), rules));
        m.put("firingCount", firing);
        m.put("resolvedCount", resolvedCount);
        m.put("alertCount", n.alerts().size());
        m.put("truncatedAlerts", n.truncatedAlerts());
        m.put("receiver", line(n.receiver(), rules));
        m.put("groupLabels", pairs(n.groupLabels(), List.of(), rules));
        m.put("groupLabelsText", pairsText(n.groupLabels(), List.of(), rules));
        m.put("groupValues", line(n.groupLabels().entrySet().stream()
                .filter(e -> !e.getKey().equals("alertname"))
                .sorted(Map.Entry.comparingByKey())
                .map(Map.Entry::getValue)
                .collect(Collectors.joining(" ")), rules));
        m.put("summary", line(n.commonAnnotations().getOrDefault("summary",
                n.alerts().isEmpty() ? "" : summary(n.alerts().getFirst())), rules));
        m.put("externalUrl", safeUrl(n.externalUrl()));
        m.put("silenceUrl", enriched.alerts().stream()
                .map(EnrichedAlert::silenceUrl).flatMap(Optional::stream).map(MessageModel::safeUrl)
                .filter(s -> !s.isEmpty()).findFirst().orElse(""));
        List<Map<String, Object>> alerts = new ArrayList<>();
        for (EnrichedAlert a : enriched.alerts()) {
            alerts.add(alert(a, rules));
        }
        m.put("alerts", alerts);
        return m;
    }

    /** The model of several notifications folded into one digest, values unbounded. */
    public static Map<String, Object> digest(List<EnrichedNotification> notifications) {
        return digest(notifications, ValueRules.UNBOUNDED);
    }

    /** The model of several notifications folded into one digest; each entry is an {@link #of} model. */
    public static Map<String, Object> digest(List<EnrichedNotification> notifications, ValueRules rules) {
        List<Map<String, Object>> entries = notifications.stream().map(n -> of(n, rules)).toList();
        long firing = notifications.stream().filter(n -> !n.notification().isResolved()).count();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("digest", entries.size() > 1);
        m.put("notificationCount", entries.size());
        m.put("firingCount", firing);
        m.put("resolvedCount", entries.size() - firing);
        m.put("notifications", entries);
        return m;
    }

    /** One alert's model, values unbounded. */
    public static Map<String, Object> alert(EnrichedAlert enriched) {
        return alert(enriched, ValueRules.UNBOUNDED);
    }

    /** One alert's model: the key labels exclude alertname and severity, which have their own fields. */
    public static Map<String, Object> alert(EnrichedAlert enriched, ValueRules rules) {
        Alert a = enriched.alert();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", a.isResolved() ? "resolved" : "firing");
        m.put("STATUS", a.isResolved() ? "RESOLVED" : "FIRING");
        m.put("firing", !a.isResolved());
        m.put("resolved", a.isResolved());
        m.put("alertname", line(a.alertName(), rules));
        m.put("severity", line(a.labels().getOrDefault("severity", ""), rules));
        m.put("summary", line(summary(a), rules));
        // the one value meant to span lines; bounded all the same
        m.put("description", Trim.toBytes(a.annotations().getOrDefault("description", ""), rules.maxValueBytes()));
        List<String> hidden = List.of("alertname", "severity");
        m.put("labels", pairs(a.labels(), hidden, rules));
        m.put("labelsText", pairsText(a.labels(), hidden, rules));
        m.put("startsAt", DateTimeFormatter.ISO_INSTANT.format(a.startsAt()));
        m.put("endsAt", a.endsAt().map(DateTimeFormatter.ISO_INSTANT::format).orElse(""));
        m.put("fingerprint", line(a.fingerprint(), rules));
        String runbook = enriched.runbookUrl().map(MessageModel::safeUrl).orElse("");
        m.put("runbookUrl", runbook);
        m.put("noRunbook", runbook.isEmpty());
        m.put("ownerTeam", line(enriched.ownerTeam().orElse(""), rules));
        m.put("firstSteps", enriched.firstSteps().stream().map(step -> line(step, rules)).toList());
        m.put("hasFirstSteps", !enriched.firstSteps().isEmpty());
        String graph = enriched.graphUrl().map(MessageModel::safeUrl).orElse("");
        String dashboard = enriched.dashboardUrl().map(MessageModel::safeUrl).orElse("");
        String silence = enriched.silenceUrl().map(MessageModel::safeUrl).orElse("");
        m.put("graphUrl", graph);
        m.put("dashboardUrl", dashboard);
        m.put("silenceUrl", silence);
        List<Map<String, Object>> links = new ArrayList<>();
        addLink(links, "Graph", graph);
        addLink(links, "Dashboard", dashboard);
        addLink(links, "Silence", silence);
        m.put("links", links);
        return m;
    }

    /**
     * The notification's severity: the common {@code severity} label, else the most urgent one among its
     * alerts, else empty.
     */
    public static String severity(Notification n) {
        String common = n.commonLabels().getOrDefault("severity", "");
        if (!common.isEmpty()) {
            return common;
        }
        return n.alerts().stream()
                .map(a -> a.labels().getOrDefault("severity", "").toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .min((x, y) -> Integer.compare(rank(x), rank(y)))
                .orElse("");
    }

    /** The group's alert name: from the group or common labels, else the first alert's. */
    public static String alertName(Notification n) {
        String name = n.groupLabels().getOrDefault("alertname", n.commonLabels().getOrDefault("alertname", ""));
        if (name.isEmpty() && !n.alerts().isEmpty()) {
            return n.alerts().getFirst().alertName();
        }
        return name;
    }

    /**
     * Keeps only absolute http(s) URLs, so an alert cannot smuggle a {@code javascript:} link into an email or
     * break a Slack {@code <url|text>} link with a {@code |}, a space or an angle bracket. Returns empty for
     * anything else.
     */
    public static String safeUrl(String url) {
        String u = url.strip();
        if (u.isEmpty()) {
            return "";
        }
        u = u.replace("|", "%7C").replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
                .replace("\"", "%22");
        try {
            URI uri = URI.create(u);
            String scheme = Optional.ofNullable(uri.getScheme()).orElse("").toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                return "";
            }
            return u;
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static int rank(String severity) {
        int i = SEVERITY_ORDER.indexOf(severity);
        return i < 0 ? SEVERITY_ORDER.size() : i;
    }

    private static String summary(Alert a) {
        return a.annotations().getOrDefault("summary", a.annotations().getOrDefault("message", ""));
    }

    private static void addLink(List<Map<String, Object>> links, String text, String url) {
        if (!url.isEmpty()) {
            links.add(Map.of("text", text, "url", url));
        }
    }

    private static List<Map<String, String>> pairs(Map<String, String> labels, List<String> hidden, ValueRules rules) {
        return new TreeMap<>(labels).entrySet().stream()
                .filter(e -> !hidden.contains(e.getKey()))
                .map(e -> Map.of("name", line(e.getKey(), rules), "value", line(e.getValue(), rules)))
                .toList();
    }

    private static String pairsText(Map<String, String> labels, List<String> hidden, ValueRules rules) {
        return line(new TreeMap<>(labels).entrySet().stream()
                .filter(e -> !hidden.contains(e.getKey()))
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", ")), rules);
    }

    /** A value a template puts on one line: without line breaks, shaped for the channel, bounded. */
    private static String line(String value, ValueRules rules) {
        return Trim.toBytes(rules.oneLine().apply(Trim.oneLine(value)), rules.maxValueBytes());
    }
}
