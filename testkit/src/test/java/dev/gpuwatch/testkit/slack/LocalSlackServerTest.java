package dev.gpuwatch.testkit.slack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.testkit.http.Failure;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The local Slack's own contract, spoken to with a plain HTTP client as any Slack client would. */
class LocalSlackServerTest {

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
}
