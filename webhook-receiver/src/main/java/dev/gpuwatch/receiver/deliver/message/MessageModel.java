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
 */
public final class MessageModel {

    /** Severity label values in the order an on-call engineer cares about them, most urgent first. */
    private static final List<String> SEVERITY_ORDER = List.of("critical", "error", "warning", "info");

    private MessageModel() {}

    /** The model of one notification (a single, non-digest message). */
    public static Map<String, Object> of(EnrichedNotification enriched) {
        Notification n = enriched.notification();
        Map<String, Object> m = new LinkedHashMap<>();
        boolean resolved = n.isResolved();
        long firing = n.alerts().stream().filter(a -> !a.isResolved()).count();
        long resolvedCount = n.alerts().size() - firing;
        m.put("status", resolved ? "resolved" : "firing");
        m.put("STATUS", resolved ? "RESOLVED" : "FIRING");
        m.put("firing", !resolved);
        m.put("resolved", resolved);
        m.put("alertname", alertName(n));
        m.put("severity", severity(n));
        m.put("firingCount", firing);
        m.put("resolvedCount", resolvedCount);
        m.put("alertCount", n.alerts().size());
        m.put("truncatedAlerts", n.truncatedAlerts());
        m.put("receiver", n.receiver());
        m.put("groupLabels", pairs(n.groupLabels(), List.of()));
        m.put("groupLabelsText", pairsText(n.groupLabels(), List.of()));
        m.put("groupValues", n.groupLabels().entrySet().stream()
                .filter(e -> !e.getKey().equals("alertname"))
                .sorted(Map.Entry.comparingByKey())
                .map(Map.Entry::getValue)
                .collect(Collectors.joining(" ")));
        m.put("summary", n.commonAnnotations().getOrDefault("summary",
                n.alerts().isEmpty() ? "" : summary(n.alerts().getFirst())));
        m.put("externalUrl", safeUrl(n.externalUrl()));
        m.put("silenceUrl", enriched.alerts().stream()
                .map(EnrichedAlert::silenceUrl).flatMap(Optional::stream).map(MessageModel::safeUrl)
                .filter(s -> !s.isEmpty()).findFirst().orElse(""));
        List<Map<String, Object>> alerts = new ArrayList<>();
        for (EnrichedAlert a : enriched.alerts()) {
            alerts.add(alert(a));
        }
        m.put("alerts", alerts);
        return m;
    }

    /** The model of several notifications folded into one digest; each entry is an {@link #of} model. */
    public static Map<String, Object> digest(List<EnrichedNotification> notifications) {
        List<Map<String, Object>> entries = notifications.stream().map(MessageModel::of).toList();
        long firing = notifications.stream().filter(n -> !n.notification().isResolved()).count();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("digest", entries.size() > 1);
        m.put("notificationCount", entries.size());
        m.put("firingCount", firing);
        m.put("resolvedCount", entries.size() - firing);
        m.put("notifications", entries);
        return m;
    }

    /** One alert's model: the key labels exclude alertname and severity, which have their own fields. */
    public static Map<String, Object> alert(EnrichedAlert enriched) {
        Alert a = enriched.alert();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", a.isResolved() ? "resolved" : "firing");
        m.put("STATUS", a.isResolved() ? "RESOLVED" : "FIRING");
        m.put("firing", !a.isResolved());
        m.put("resolved", a.isResolved());
        m.put("alertname", a.alertName());
        m.put("severity", a.labels().getOrDefault("severity", ""));
        m.put("summary", summary(a));
        m.put("description", a.annotations().getOrDefault("description", ""));
        List<String> hidden = List.of("alertname", "severity");
        m.put("labels", pairs(a.labels(), hidden));
        m.put("labelsText", pairsText(a.labels(), hidden));
        m.put("startsAt", DateTimeFormatter.ISO_INSTANT.format(a.startsAt()));
        m.put("endsAt", a.endsAt().map(DateTimeFormatter.ISO_INSTANT::format).orElse(""));
        m.put("fingerprint", a.fingerprint());
        String runbook = enriched.runbookUrl().map(MessageModel::safeUrl).orElse("");
        m.put("runbookUrl", runbook);
        m.put("noRunbook", runbook.isEmpty());
        m.put("ownerTeam", enriched.ownerTeam().orElse(""));
        m.put("firstSteps", enriched.firstSteps());
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

    private static List<Map<String, String>> pairs(Map<String, String> labels, List<String> hidden) {
        return new TreeMap<>(labels).entrySet().stream()
                .filter(e -> !hidden.contains(e.getKey()))
                .map(e -> Map.of("name", e.getKey(), "value", e.getValue()))
                .toList();
    }

    private static String pairsText(Map<String, String> labels, List<String> hidden) {
        return new TreeMap<>(labels).entrySet().stream()
                .filter(e -> !hidden.contains(e.getKey()))
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
    }
}
