package dev.gpuwatch.receiver.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The local servers' own contract, spoken to with a plain HTTP client as any Slack or PagerDuty client would. */
class LocalServersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(String url, String contentType, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (!token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void slackAcceptsJsonAndFormPostsAndAnswersLikeSlack() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            HttpResponse<String> r = post(slack.apiUrl() + "chat.postMessage", "application/json; charset=utf-8", slack.token(),
                    "{\"channel\":\"#alerts\",\"text\":\"hello\",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"*hi*\"}}]}");
            assertEquals(200, r.statusCode());
            JsonNode body = JSON.readTree(r.body());
            assertTrue(body.path("ok").asBoolean());
            assertEquals(slack.channelId("alerts"), body.path("channel").asText());
            String ts = body.path("ts").asText();
            assertTrue(ts.matches("\\d+\\.\\d{6}"), ts);
            assertEquals("hello", body.path("message").path("text").asText());

            JsonNode reply = JSON.readTree(post(slack.apiUrl() + "chat.postMessage", "application/x-www-form-urlencoded",
                    slack.token(), "channel=" + slack.channelId("alerts") + "&thread_ts=" + ts + "&text=in+thread").body());
            assertEquals(ts, reply.path("message").path("thread_ts").asText());
            assertTrue(!reply.path("ts").asText().equals(ts), "every message gets its own ts");

            JsonNode updated = JSON.readTree(post(slack.apiUrl() + "chat.update", "application/x-www-form-urlencoded",
                    slack.token(), "channel=" + slack.channelId("alerts") + "&ts=" + ts + "&text=edited").body());
            assertTrue(updated.path("ok").asBoolean());
            assertEquals("edited", slack.messages().getFirst().text());
            assertEquals(1, slack.messages().getFirst().updates());

            String listing = get("http://127.0.0.1:" + slack.port() + "/").body();
            assertTrue(listing.startsWith("Local Slack: 2 messages\n"), listing);
            assertTrue(listing.contains("(updated 1x)") && listing.contains("↳ in thread"), listing);
        }
    }

    @Test
    void slackRejectsWhatSlackRejects() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            String url = slack.apiUrl() + "chat.postMessage";
            String form = "application/x-www-form-urlencoded";
            assertEquals("not_authed", error(post(url, form, "", "channel=alerts&text=x")));
            assertEquals("invalid_auth", error(post(url, form, "xoxb-other", "channel=alerts&text=x")));
            assertEquals("no_text", error(post(url, form, slack.token(), "channel=alerts")));
            assertEquals("channel_not_found", error(post(url, form, slack.token(), "channel=random&text=x")));
            assertEquals("invalid_blocks", error(post(url, form, slack.token(), "channel=alerts&text=x&blocks="
                    + java.net.URLEncoder.encode("[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\"" + "h".repeat(151) + "\"}}]",
                    java.nio.charset.StandardCharsets.UTF_8))));
            assertEquals("message_not_found", error(post(slack.apiUrl() + "chat.update", form, slack.token(),
                    "channel=" + slack.channelId("alerts") + "&ts=1.000001&text=x")));
            assertEquals("invalid_payload", post(slack.webhookUrl(), "application/json", "", "not json").body());
            assertEquals(404, post("http://127.0.0.1:" + slack.port() + "/services/T/B/wrong", "application/json", "", "{}").statusCode());
            assertTrue(slack.messages().isEmpty());
        }
    }

    @Test
    void slackFailsOnCommandAndGoesDown() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            String url = slack.apiUrl() + "chat.postMessage";
            slack.failNext(2, Failure.rateLimited(12));
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = post(url, "application/x-www-form-urlencoded", slack.token(), "channel=alerts&text=x");
                assertEquals(429, r.statusCode());
                assertEquals(Optional.of("12"), r.headers().firstValue("Retry-After"));
            }
            slack.failNext(1, Failure.serverError(503));
            assertEquals(503, post(url, "application/x-www-form-urlencoded", slack.token(), "channel=alerts&text=x").statusCode());
            assertTrue(JSON.readTree(post(url, "application/x-www-form-urlencoded", slack.token(), "channel=alerts&text=x").body())
                    .path("ok").asBoolean());
            slack.goDown();
            assertThrows(ConnectException.class, () -> post(url, "application/x-www-form-urlencoded", slack.token(), "channel=alerts&text=x"));
            slack.comeBack();
            assertEquals(200, post(url, "application/x-www-form-urlencoded", slack.token(), "channel=alerts&text=x").statusCode());
        }
    }

    private static String error(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), "Slack reports API errors with HTTP 200");
        JsonNode body = JSON.readTree(r.body());
        assertEquals(false, body.path("ok").asBoolean(true));
        return body.path("error").asText();
    }

    @Test
    void pagerDutyValidatesEventsAsDocumented() throws Exception {
        try (LocalPagerDutyServer pd = LocalPagerDutyServer.start(0)) {
            HttpResponse<String> bad = post(pd.enqueueUrl(), "application/json", "", """
                    {"routing_key":"short","event_action":"trigger","dedup_key":"%s",
                     "payload":{"summary":"%s","severity":"urgent","timestamp":"yesterday"},
                     "images":[{"src":"http://insecure.example/x.png"}]}""".formatted("d".repeat(256), "s".repeat(1025)));
            assertEquals(400, bad.statusCode());
            JsonNode body = JSON.readTree(bad.body());
            assertEquals("invalid event", body.path("status").asText());
            assertEquals(List.of(
                    "'routing_key' must be 32 characters",
                    "'dedup_key' must be at most 255 characters",
                    "'payload.summary' must be at most 1024 characters",
                    "'payload.source' is missing or blank",
                    "'payload.severity' must be one of critical, error, warning, info",
                    "'payload.timestamp' must be an ISO 8601 date-time",
                    "'images[].src' must be an https URL"),
                    toList(body.path("errors")));
            assertEquals(List.of("'dedup_key' is required for resolve"), toList(JSON.readTree(post(pd.enqueueUrl(),
                    "application/json", "", "{\"routing_key\":\"" + "k".repeat(32) + "\",\"event_action\":\"resolve\"}").body()).path("errors")));
            assertEquals(400, post(pd.enqueueUrl(), "application/json", "", "{not json").statusCode());
            assertTrue(pd.events().isEmpty());
        }
    }

    @Test
    void pagerDutyKeepsOneIncidentPerDedupKey() throws Exception {
        try (LocalPagerDutyServer pd = LocalPagerDutyServer.start(0)) {
            String key = "k".repeat(32);
            String trigger = "{\"routing_key\":\"" + key + "\",\"event_action\":\"trigger\",\"dedup_key\":\"g1\","
                    + "\"payload\":{\"summary\":\"GPU hot\",\"source\":\"node-1\",\"severity\":\"warning\",\"timestamp\":\"2026-11-20T10:00:00Z\"}}";
            HttpResponse<String> accepted = post(pd.enqueueUrl(), "application/json", "", trigger);
            assertEquals(202, accepted.statusCode());
            assertEquals("{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"g1\"}", accepted.body());
            post(pd.enqueueUrl(), "application/json", "", trigger);
            assertEquals(new LocalPagerDutyServer.Incident("g1", "triggered", "GPU hot", "warning", 2), pd.incident("g1").orElseThrow());
            post(pd.enqueueUrl(), "application/json", "", "{\"routing_key\":\"" + key + "\",\"event_action\":\"acknowledge\",\"dedup_key\":\"g1\"}");
            assertEquals("acknowledged", pd.incident("g1").orElseThrow().status());
            post(pd.enqueueUrl(), "application/json", "", "{\"routing_key\":\"" + key + "\",\"event_action\":\"resolve\",\"dedup_key\":\"g1\"}");
            assertEquals("resolved", pd.incident("g1").orElseThrow().status());
            // without a dedup_key PagerDuty makes one up and returns it
            String generated = JSON.readTree(post(pd.enqueueUrl(), "application/json", "", trigger.replace(",\"dedup_key\":\"g1\"", "")).body())
                    .path("dedup_key").asText();
            assertTrue(generated.matches("[0-9a-f]{32}"), generated);
            String listing = get("http://127.0.0.1:" + pd.port() + "/").body();
            assertTrue(listing.startsWith("Local PagerDuty: 2 incidents, 5 events\n"), listing);
            assertTrue(listing.contains("[RESOLVED] warning GPU hot"), listing);

            pd.failNext(1, Failure.rateLimited(60));
            HttpResponse<String> throttled = post(pd.enqueueUrl(), "application/json", "", trigger);
            assertEquals(429, throttled.statusCode());
            assertEquals(Optional.of("60"), throttled.headers().firstValue("Retry-After"));
        }
    }

    private static List<String> toList(JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
