package dev.gpuwatch.receiver.deliver.pagerduty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.MessageModel;
import dev.gpuwatch.receiver.deliver.message.RetryAfter;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.message.Templates.Escaping;
import dev.gpuwatch.receiver.deliver.message.Trim;
import dev.gpuwatch.receiver.deliver.secret.Secret;
import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Delivers to PagerDuty through the Events API v2 with the JDK HttpClient. The dedup_key is the hex SHA-256
 * of the Alertmanager group key, as Alertmanager computes it, so a resolve closes the incident its trigger
 * opened and HA duplicates merge into one incident. 202 is delivered, 400 (and other 4xx) permanent, 429,
 * 5xx and transport errors are retried.
 *
 * <p>An event stays within {@link #MAX_EVENT_BYTES}, the cap Alertmanager applies too, as PagerDuty refuses a
 * larger one with a 400 and the page would never go out. The summary, severity, source, dedup_key and group
 * labels always stay; the custom details give way first: their long values are cut ever shorter, then alerts
 * are left out of the list, and at last only the counts and group labels remain. Thread-safe.
 */
public final class PagerDutyChannel implements Channel {

    /** Alertmanager's cap for a PagerDuty event (its maxEventSize); PagerDuty documents 512 KB. */
    static final int MAX_EVENT_BYTES = 512_000;
    static final int MAX_SUMMARY = 1024;
    /** source, component, group and class: label values, so unbounded without this. */
    static final int MAX_FIELD_BYTES = 1024;
    static final int MAX_LINK_LENGTH = 2048;
    /** The limits tried, one after another, on every string in custom_details until the event fits. */
    static final List<Integer> DETAIL_VALUE_BYTES = List.of(16 * 1024, 1024, 128);
    static final int MAX_DETAIL_ALERTS = 50;
    static final int MAX_LINKS = 20;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PagerDutySettings settings;
    private final String routingKey;
    private final Templates templates;
    private final HttpClient http;

    private PagerDutyChannel(PagerDutySettings settings, String routingKey, Templates templates, HttpClient http) {
        this.settings = settings;
        this.routingKey = routingKey;
        this.templates = templates;
        this.http = http;
    }

    /**
     * Resolves the routing key now from the file or variable named in {@code settings}.
     *
     * @throws dev.gpuwatch.config.InvalidValue at the key (relative to the settings) when it is missing
     */
    public static Channel create(PagerDutySettings settings, Templates templates) {
        String key = Secret.resolve("routing_key_file", settings.routingKeyFile(),
                "routing_key_env", settings.routingKeyEnv());
        HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
        return new PagerDutyChannel(settings, key, templates, http);
    }

    @Override
    public String integration() {
        return "pagerduty";
    }

    /** Alertmanager's dedup key: the hex SHA-256 of the group key. */
    public static String dedupKey(String groupKey) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(groupKey.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public DeliveryOutcome deliver(Delivery delivery) {
        // A digest folds several groups; PagerDuty keeps one incident per group, so each gets its own event.
        for (EnrichedNotification n : delivery.notifications()) {
            String key = delivery.isDigest()
                    ? dedupKey(n.notification().groupKey())
                    : delivery.previous().flatMap(r -> r.get("dedup_key")).orElse(dedupKey(delivery.groupKey()));
            String event;
            try {
                event = fit(event(n, key));
            } catch (RuntimeException e) {
                return new DeliveryOutcome.Failed("pagerduty: template rendering failed: " + e.getMessage());
            }
            DeliveryOutcome outcome = send(event);
            if (!(outcome instanceof DeliveryOutcome.Delivered)) {
                return outcome;
            }
        }
        if (delivery.isDigest()) {
            // each group got an event of its own, so its receipt is its own dedup_key, not a digest's
            Map<String, Receipt> groups = new java.util.LinkedHashMap<>();
            for (EnrichedNotification n : delivery.notifications()) {
                String group = n.notification().groupKey();
                groups.put(group, new Receipt(Map.of("dedup_key", dedupKey(group))));
            }
            return new DeliveryOutcome.Delivered(new Receipt(Map.of()), groups);
        }
        String key = delivery.previous().flatMap(r -> r.get("dedup_key")).orElse(dedupKey(delivery.groupKey()));
        return new DeliveryOutcome.Delivered(new Receipt(Map.of("dedup_key", key)));
    }

    @Override
    public String toString() {
        return "PagerDutyChannel[" + settings.url() + "]";
    }

    /** The Events API v2 event for one notification: a trigger while firing, a bare resolve once resolved. */
    ObjectNode event(EnrichedNotification enriched, String dedupKey) {
        Notification n = enriched.notification();
        ObjectNode event = JSON.createObjectNode();
        event.put("routing_key", routingKey);
        event.put("dedup_key", dedupKey);
        if (n.isResolved()) {
            event.put("event_action", "resolve");
            return event;
        }
        event.put("event_action", "trigger");
        // values unbounded: the summary is cut once, so its marker counts the bytes really left out
        Map<String, Object> model = MessageModel.of(enriched);
        ObjectNode payload = event.putObject("payload");
        payload.put("summary", Trim.toChars(Trim.oneLine(templates.render("title", Escaping.NONE, model).strip()).replaceAll("\\s+", " "), MAX_SUMMARY));
        payload.put("source", firstLabel(n, "instance", "hostname", "node", "job").orElse("gpuwatch"));
        payload.put("severity", severity(n));
        payload.put("timestamp", n.alerts().stream().map(Alert::startsAt).min(Instant::compareTo).orElse(Instant.now()).toString());
        firstLabel(n, "component", "job").ifPresent(c -> payload.put("component", c));
        firstLabel(n, "cluster", "namespace").ifPresent(g -> payload.put("group", g));
        String alertName = MessageModel.alertName(n);
        if (!alertName.isEmpty()) {
            payload.put("class", Trim.toBytes(alertName, MAX_FIELD_BYTES));
        }
        ObjectNode details = payload.putObject("custom_details");
        long firing = n.alerts().stream().filter(a -> !a.isResolved()).count();
        details.put("firing", firing);
        details.put("resolved", n.alerts().size() - firing);
        if (n.truncatedAlerts() > 0) {
            details.put("truncated_alerts", n.truncatedAlerts());
        }
        details.set("group_labels", JSON.valueToTree(new TreeMap<>(n.groupLabels())));
        details.set("common_labels", JSON.valueToTree(new TreeMap<>(n.commonLabels())));
        details.set("common_annotations", JSON.valueToTree(new TreeMap<>(n.commonAnnotations())));
        ArrayNode alerts = details.putArray("alerts");
        for (EnrichedAlert a : enriched.alerts().subList(0, Math.min(MAX_DETAIL_ALERTS, enriched.alerts().size()))) {
            ObjectNode alert = alerts.addObject();
            alert.put("status", a.alert().status());
            alert.set("labels", JSON.valueToTree(new TreeMap<>(a.alert().labels())));
            alert.set("annotations", JSON.valueToTree(new TreeMap<>(a.alert().annotations())));
            alert.put("starts_at", a.alert().startsAt().toString());
            alert.put("runbook", a.runbookUrl().orElse("NO RUNBOOK"));
            a.ownerTeam().ifPresent(o -> alert.put("owner", o));
            if (!a.firstSteps().isEmpty()) {
                alert.set("first_steps", JSON.valueToTree(a.firstSteps()));
            }
        }
        if (enriched.alerts().size() > MAX_DETAIL_ALERTS) {
            details.put("alerts_not_listed", enriched.alerts().size() - MAX_DETAIL_ALERTS);
        }
        // live context from Prometheus ({title: [lines]}) and the graph the receiver serves (images)
        if (!enriched.live().context().isEmpty()) {
            ObjectNode context = details.putObject("context");
            enriched.live().context().forEach(c -> context.set(c.title(), JSON.valueToTree(c.lines())));
        }
        Optional<String> graphUrl = enriched.live().graph().flatMap(g -> g.url());
        // PagerDuty refuses the whole event for an image src that is not https: over plain http the graph is a link
        graphUrl.filter(url -> url.startsWith("https://")).ifPresent(url -> event.putArray("images").addObject()
                .put("src", url).put("href", url).put("alt", Trim.toChars(enriched.live().graph().orElseThrow().alt(), 250)));
        ArrayNode links = event.putArray("links");
        links(enriched).forEach((href, text) -> links.addObject().put("href", href).put("text", text));
        graphUrl.filter(url -> !url.startsWith("https://")).ifPresent(url -> links.addObject().put("href", url)
                .put("text", "Graph (PNG)"));
        event.put("client", settings.client());
        String clientUrl = settings.clientUrl().isEmpty() ? MessageModel.safeUrl(n.externalUrl()) : settings.clientUrl();
        if (!clientUrl.isEmpty()) {
            event.put("client_url", clientUrl);
        }
        return event;
    }

    /**
     * The event as JSON of at most {@link #MAX_EVENT_BYTES} UTF-8 bytes: custom details trimmed step by step
     * (see the class comment), measured on the serialized body each time.
     */
    static String fit(ObjectNode event) {
        String json = event.toString();
        if (!(event.path("payload") instanceof ObjectNode payload)
                || !(payload.path("custom_details") instanceof ObjectNode original) || fits(json)) {
            return json;
        }
        ObjectNode details = original;
        for (int limit : DETAIL_VALUE_BYTES) {
            // cut from the original each time, so that a marker counts the bytes of the alert's own value
            details = original.deepCopy();
            trimStrings(details, limit);
            payload.set("custom_details", details);
            json = event.toString();
            if (fits(json)) {
                return json;
            }
        }
        if (details.path("alerts") instanceof ArrayNode alerts) {
            int notListed = details.path("alerts_not_listed").asInt(0);
            while (!alerts.isEmpty()) {
                alerts.remove(alerts.size() - 1);
                details.put("alerts_not_listed", ++notListed);
                json = event.toString();
                if (fits(json)) {
                    return json;
                }
            }
        }
        // what Alertmanager does at once: the details go, with a word why; the counts and group labels stay
        ObjectNode minimal = JSON.createObjectNode();
        minimal.set("firing", details.path("firing"));
        minimal.set("resolved", details.path("resolved"));
        minimal.set("group_labels", details.path("group_labels"));
        minimal.put("error", "custom details removed: the event exceeded PagerDuty's " + MAX_EVENT_BYTES + " bytes");
        payload.set("custom_details", minimal);
        event.remove("links");
        return event.toString();
    }

    private static boolean fits(String json) {
        return Trim.utf8Length(json, 0, json.length()) <= MAX_EVENT_BYTES;
    }

    /** Cuts every string under {@code node} to {@code maxBytes}. */
    private static void trimStrings(JsonNode node, int maxBytes) {
        if (node instanceof ObjectNode object) {
            for (Map.Entry<String, JsonNode> field : object.properties()) {
                if (field.getValue().isTextual()) {
                    field.setValue(JSON.getNodeFactory().textNode(Trim.toBytes(field.getValue().asText(), maxBytes)));
                } else {
                    trimStrings(field.getValue(), maxBytes);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                if (array.get(i).isTextual()) {
                    array.set(i, JSON.getNodeFactory().textNode(Trim.toBytes(array.get(i).asText(), maxBytes)));
                } else {
                    trimStrings(array.get(i), maxBytes);
                }
            }
        }
    }

    private DeliveryOutcome send(String event) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(settings.url()))
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(event, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            return new DeliveryOutcome.RetryLater("pagerduty: timeout", Optional.empty());
        } catch (IOException e) {
            return new DeliveryOutcome.RetryLater("pagerduty: " + e.getClass().getSimpleName()
                    + Optional.ofNullable(e.getMessage()).map(m -> ": " + m).orElse(""), Optional.empty());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DeliveryOutcome.RetryLater("pagerduty: interrupted", Optional.empty());
        }
        int code = response.statusCode();
        if (code == 202 || code == 200) {
            return new DeliveryOutcome.Delivered(new Receipt(Map.of()));
        }
        String reason = "pagerduty: HTTP " + code + " " + describe(response.body());
        if (code == 429 || code >= 500) {
            return new DeliveryOutcome.RetryLater(reason, RetryAfter.parse(response.headers().firstValue("Retry-After")));
        }
        return new DeliveryOutcome.Failed(reason);
    }

    /**
     * Acknowledges the incident of {@code dedupKey} (an Events v2 {@code acknowledge}), for the Slack
     * Acknowledge button; with this channel's routing key, which never leaves it.
     */
    public DeliveryOutcome acknowledge(String dedupKey) {
        ObjectNode event = JSON.createObjectNode();
        event.put("routing_key", routingKey);
        event.put("dedup_key", dedupKey);
        event.put("event_action", "acknowledge");
        return send(event.toString());
    }

    /** PagerDuty's {@code message} and {@code errors} from an error body, else its start. */
    private static String describe(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            if (json != null && json.isObject()) {
                StringBuilder out = new StringBuilder(json.path("message").asText(""));
                for (JsonNode e : json.path("errors")) {
                    out.append(out.isEmpty() ? "" : "; ").append(e.asText());
                }
                return cut(out.toString(), 300);
            }
        } catch (IOException notJson) {
            // fall through: a proxy's HTML error page
        }
        return cut(body.strip(), 120);
    }

    private String severity(Notification n) {
        if (!settings.severity().isEmpty()) {
            return settings.severity();
        }
        return switch (MessageModel.severity(n).toLowerCase(Locale.ROOT)) {
            case "critical", "page", "fatal", "emergency", "p1" -> "critical";
            case "warning", "warn", "medium", "minor", "p3" -> "warning";
            case "info", "informational", "low", "none", "p4", "p5" -> "info";
            default -> "error";  // error, high, major and anything unknown: Alertmanager's default too
        };
    }

    /** Runbook, graph and dashboard of each alert, then the group's silence link; duplicates dropped. */
    private static Map<String, String> links(EnrichedNotification enriched) {
        Map<String, String> links = new LinkedHashMap<>();
        Set<String> seen = new LinkedHashSet<>();
        for (EnrichedAlert a : enriched.alerts()) {
            String name = a.alert().alertName();
            add(links, seen, a.runbookUrl(), "Runbook: " + name);
            add(links, seen, a.graphUrl(), "Prometheus graph: " + name);
            add(links, seen, a.dashboardUrl(), "Grafana dashboard: " + name);
        }
        enriched.alerts().stream().flatMap(a -> a.silenceUrl().stream()).findFirst()
                .ifPresent(s -> add(links, seen, Optional.of(s), "Silence this group"));
        return links;
    }

    private static void add(Map<String, String> links, Set<String> seen, Optional<String> url, String text) {
        String safe = url.map(MessageModel::safeUrl).orElse("");
        // a cut URL would lead somewhere else: one too long is left out
        if (!safe.isEmpty() && safe.length() <= MAX_LINK_LENGTH && links.size() < MAX_LINKS && seen.add(safe)) {
            links.put(safe, text);
        }
    }

    private static Optional<String> firstLabel(Notification n, String... names) {
        for (String name : names) {
            String v = n.commonLabels().getOrDefault(name, "");
            if (!v.isEmpty()) {
                return Optional.of(Trim.toBytes(v, MAX_FIELD_BYTES));
            }
        }
        return Optional.empty();
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

}
