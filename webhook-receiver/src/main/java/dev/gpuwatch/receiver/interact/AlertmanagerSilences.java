package dev.gpuwatch.receiver.interact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Alertmanager's API v2 silences ({@code enrichment.alertmanager_url}): create one with equality matchers, and
 * find one again by a marker in its comment, which is how an action retried after a crash learns that its
 * silence was already made.
 */
public final class AlertmanagerSilences {

    static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    sealed interface Outcome {
        record Created(String silenceId) implements Outcome {}

        record Failed(String reason) implements Outcome {}
    }

    private final String base;
    private final HttpClient http;

    AlertmanagerSilences(String alertmanagerUrl, HttpClient http) {
        this.base = alertmanagerUrl.endsWith("/") ? alertmanagerUrl : alertmanagerUrl + "/";
        this.http = http;
    }

    /** The UI page of a silence, for the thread reply. */
    String silencePage(String silenceId) {
        return silencePage(base, silenceId);
    }

    /** The Alertmanager UI's page of a silence, for whatever links to one (the thread reply, the inbox). */
    public static String silencePage(String alertmanagerUrl, String silenceId) {
        return (alertmanagerUrl.endsWith("/") ? alertmanagerUrl : alertmanagerUrl + "/") + "#/silences/" + silenceId;
    }

    Outcome create(Map<String, String> labels, Instant startsAt, Instant endsAt, String createdBy, String comment) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode matchers = body.putArray("matchers");
        new TreeMap<>(labels).forEach((name, value) -> matchers.addObject().put("name", name).put("value", value)
                .put("isRegex", false).put("isEqual", true));
        body.put("startsAt", startsAt.toString());
        body.put("endsAt", endsAt.toString());
        body.put("createdBy", createdBy);
        body.put("comment", comment);
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "api/v2/silences")).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)).build();
        return switch (send(request)) {
            case Reply.Failed f -> new Outcome.Failed(f.reason());
            case Reply.Ok ok -> {
                String id = ok.json().path("silenceID").asText("");
                yield id.isEmpty() ? new Outcome.Failed("alertmanager: no silenceID in its answer")
                        : new Outcome.Created(id);
            }
        };
    }

    /** A silence not yet expired whose comment holds {@code marker}; a failure to ask is a failure, not "none". */
    Optional<Outcome> findByComment(String marker) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "api/v2/silences")).timeout(TIMEOUT).GET().build();
        return switch (send(request)) {
            case Reply.Failed f -> Optional.of(new Outcome.Failed(f.reason()));
            case Reply.Ok ok -> {
                for (JsonNode s : ok.json()) {
                    if (s.path("comment").asText("").contains(marker)
                            && !"expired".equals(s.path("status").path("state").asText())) {
                        yield Optional.of(new Outcome.Created(s.path("id").asText()));
                    }
                }
                yield Optional.empty();
            }
        };
    }

    private sealed interface Reply {
        record Ok(JsonNode json) implements Reply {}

        record Failed(String reason) implements Reply {}
    }

    private Reply send(HttpRequest request) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            return new Reply.Failed("alertmanager: no answer within " + TIMEOUT.toSeconds() + "s");
        } catch (IOException e) {
            return new Reply.Failed("alertmanager: " + e.getClass().getSimpleName()
                    + Optional.ofNullable(e.getMessage()).map(m -> ": " + m).orElse(""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply.Failed("alertmanager: interrupted");
        }
        String text = response.body().strip();
        if (response.statusCode() != 200) {
            return new Reply.Failed("alertmanager: HTTP " + response.statusCode() + " "
                    + (text.length() > 200 ? text.substring(0, 200) + "…" : text));
        }
        try {
            return new Reply.Ok(JSON.readTree(text));
        } catch (IOException e) {
            return new Reply.Failed("alertmanager: an answer that is not JSON");
        }
    }
}
