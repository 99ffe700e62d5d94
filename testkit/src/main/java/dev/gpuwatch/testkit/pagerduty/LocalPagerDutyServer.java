package dev.gpuwatch.testkit.pagerduty;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.gpuwatch.testkit.http.Failure;
import dev.gpuwatch.testkit.http.LocalServer;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A local PagerDuty Events API v2 ({@code POST /v2/enqueue}) that validates events as the documentation
 * specifies (routing_key of 32 characters, event_action trigger|acknowledge|resolve, dedup_key at most 255,
 * payload.summary at most 1024, payload.source, payload.severity critical|error|warning|info, an ISO 8601
 * timestamp, https image sources, a whole event of at most 512 KB as the Events API v2 documents) and answers 400 {@code {"status":"invalid event","message":"Event object is
 * invalid","errors":[...]}} or 202 {@code {"status":"success","message":"Event processed","dedup_key":...}}.
 * It keeps every accepted event and an incident per dedup_key (triggered, acknowledged, resolved), and can be
 * told to answer 429 or 5xx, or go down.
 *
 * <p>{@code GET /} lists incidents and events as text, which is what the demo shows.
 */
public final class LocalPagerDutyServer extends LocalServer {

    /** The Events API v2 refuses an event larger than 512 KB. */
    public static final int MAX_EVENT_BYTES = 512 * 1024;

    /** An accepted event: its action, dedup_key and the JSON as received. */
    public record Event(String action, String dedupKey, String routingKey, String json) {

        public JsonNode body() {
            try {
                return JSON.readTree(json);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** One incident, as PagerDuty groups events by dedup_key. */
    public record Incident(String dedupKey, String status, String summary, String severity, int events) {}

    private final List<Event> events = new ArrayList<>();
    private final Map<String, Incident> incidents = new LinkedHashMap<>();

    private LocalPagerDutyServer() {}

    /** Starts on {@code port} (0: any free port). */
    public static LocalPagerDutyServer start(int port) {
        LocalPagerDutyServer server = new LocalPagerDutyServer();
        server.bind(port);
        return server;
    }

    /** The URL to configure as the PagerDuty {@code url}: {@code http://127.0.0.1:PORT/v2/enqueue}. */
    public String enqueueUrl() {
        return "http://127.0.0.1:" + port() + "/v2/enqueue";
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    public synchronized List<Incident> incidents() {
        return List.copyOf(incidents.values());
    }

    public synchronized Optional<Incident> incident(String dedupKey) {
        return Optional.ofNullable(incidents.get(dedupKey));
    }

    @Override
    protected void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (exchange.getRequestMethod().equals("GET") && path.equals("/")) {
            send(exchange, 200, "text/plain; charset=utf-8", listing());
            return;
        }
        if (!path.equals("/v2/enqueue")) {
            send(exchange, 404, "application/json", "{\"status\":\"not found\"}");
            return;
        }
        if (!exchange.getRequestMethod().equals("POST")) {
            send(exchange, 405, "application/json", "{\"status\":\"method not allowed\"}");
            return;
        }
        String body = body(exchange);
        Optional<Failure> failure = nextFailure();
        if (failure.isPresent()) {
            switch (failure.get()) {
                case Failure.RateLimited r -> {
                    exchange.getResponseHeaders().set("Retry-After", Integer.toString(r.retryAfterSeconds()));
                    send(exchange, 429, "application/json",
                            "{\"status\":\"throttle event\",\"message\":\"Requests for this service are arriving too quickly. Please retry later.\"}");
                }
                case Failure.ServerError s -> send(exchange, s.status(), "text/html", "<html><body>" + s.status() + "</body></html>");
                case Failure.SlackError e -> invalid(exchange, List.of(e.error()));
            }
            return;
        }
        int size = body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (size > MAX_EVENT_BYTES) {
            invalid(exchange, List.of("Event is " + size + " bytes, larger than the 512 KB limit"));
            return;
        }
        JsonNode event;
        try {
            event = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            send(exchange, 400, "application/json",
                    "{\"status\":\"invalid request\",\"message\":\"Invalid JSON\",\"errors\":[\"Invalid JSON\"]}");
            return;
        }
        if (event == null || !event.isObject()) {
            invalid(exchange, List.of("Event object must be a JSON object"));
            return;
        }
        List<String> errors = validate(event);
        if (!errors.isEmpty()) {
            invalid(exchange, errors);
            return;
        }
        String action = event.path("event_action").asText();
        String dedupKey = event.path("dedup_key").asText("");
        if (dedupKey.isEmpty()) {
            byte[] random = new byte[16];
            ThreadLocalRandom.current().nextBytes(random);
            dedupKey = HexFormat.of().formatHex(random);
        }
        synchronized (this) {
            events.add(new Event(action, dedupKey, event.path("routing_key").asText(), event.toString()));
            Incident old = incidents.get(dedupKey);
            JsonNode payload = event.path("payload");
            switch (action) {
                case "trigger" -> incidents.put(dedupKey, old == null || old.status().equals("resolved")
                        ? new Incident(dedupKey, "triggered", payload.path("summary").asText(), payload.path("severity").asText(), 1)
                        : new Incident(dedupKey, old.status(), old.summary(), old.severity(), old.events() + 1));
                case "acknowledge" -> {
                    if (old != null && !old.status().equals("resolved")) {
                        incidents.put(dedupKey, new Incident(dedupKey, "acknowledged", old.summary(), old.severity(), old.events() + 1));
                    }
                }
                default -> {
                    if (old != null) {
                        incidents.put(dedupKey, new Incident(dedupKey, "resolved", old.summary(), old.severity(), old.events() + 1));
                    }
                }
            }
        }
        ObjectNode ok = JSON.createObjectNode().put("status", "success").put("message", "Event processed").put("dedup_key", dedupKey);
        actedOn();
        send(exchange, 202, "application/json", ok.toString());
    }

    /** The Events API v2 rules for one event; empty when valid. */
    static List<String> validate(JsonNode event) {
        List<String> errors = new ArrayList<>();
        String routingKey = event.path("routing_key").asText("");
        if (routingKey.isBlank()) {
            errors.add("'routing_key' is missing or blank");
        } else if (routingKey.length() != 32) {
            errors.add("'routing_key' must be 32 characters");
        }
        String action = event.path("event_action").asText("");
        if (!List.of("trigger", "acknowledge", "resolve").contains(action)) {
            errors.add("'event_action' must be one of trigger, acknowledge, resolve");
        }
        JsonNode dedup = event.path("dedup_key");
        if (dedup.isTextual() && dedup.asText().length() > 255) {
            errors.add("'dedup_key' must be at most 255 characters");
        }
        if ((action.equals("acknowledge") || action.equals("resolve")) && dedup.asText("").isBlank()) {
            errors.add("'dedup_key' is required for " + action);
        }
        if (action.equals("trigger")) {
            JsonNode payload = event.path("payload");
            if (!payload.isObject()) {
                errors.add("'payload' is missing or not an object");
            } else {
                String summary = payload.path("summary").asText("");
                if (summary.isBlank()) {
                    errors.add("'payload.summary' is missing or blank");
                } else if (summary.length() > 1024) {
                    errors.add("'payload.summary' must be at most 1024 characters");
                }
                if (payload.path("source").asText("").isBlank()) {
                    errors.add("'payload.source' is missing or blank");
                }
                if (!List.of("critical", "error", "warning", "info").contains(payload.path("severity").asText(""))) {
                    errors.add("'payload.severity' must be one of critical, error, warning, info");
                }
                if (payload.has("timestamp")) {
                    try {
                        OffsetDateTime.parse(payload.path("timestamp").asText(""));
                    } catch (DateTimeParseException e) {
                        errors.add("'payload.timestamp' must be an ISO 8601 date-time");
                    }
                }
                if (payload.has("custom_details") && !payload.get("custom_details").isObject()
                        && !payload.get("custom_details").isTextual()) {
                    errors.add("'payload.custom_details' must be an object");
                }
            }
            for (JsonNode link : event.path("links")) {
                if (link.path("href").asText("").isBlank()) {
                    errors.add("'links[].href' is required");
                }
            }
            for (JsonNode image : event.path("images")) {
                if (!image.path("src").asText("").startsWith("https://")) {
                    errors.add("'images[].src' must be an https URL");
                }
            }
        }
        return errors;
    }

    private static void invalid(HttpExchange exchange, List<String> errors) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("status", "invalid event").put("message", "Event object is invalid");
        ArrayNode list = body.putArray("errors");
        errors.forEach(list::add);
        send(exchange, 400, "application/json", body.toString());
    }

    private synchronized String listing() {
        StringBuilder out = new StringBuilder("Local PagerDuty: ").append(incidents.size()).append(" incidents, ")
                .append(events.size()).append(" events\n");
        for (Incident i : incidents.values()) {
            out.append("\n[").append(i.status().toUpperCase(java.util.Locale.ROOT)).append("] ").append(i.severity())
                    .append(" ").append(i.summary()).append("\n  dedup_key=").append(i.dedupKey())
                    .append(" events=").append(i.events()).append('\n');
        }
        return out.toString();
    }
}
