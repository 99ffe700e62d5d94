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
import java.util.List;
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

    @Test
    void historyPagesNewestFirstWithMetadataOnlyWhenAskedAndRepliesOnlyWhenBroadcast() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            String form = "application/x-www-form-urlencoded";
            String channel = slack.channelId("alerts");
            String metadata = java.net.URLEncoder.encode(
                    "{\"event_type\":\"gpuwatch_delivery\",\"event_payload\":{\"delivery_id\":\"7\"}}",
                    java.nio.charset.StandardCharsets.UTF_8);
            String first = JSON.readTree(post(slack.apiUrl() + "chat.postMessage", form, slack.token(),
                    "channel=alerts&text=one&metadata=" + metadata).body()).path("ts").asText();
            post(slack.apiUrl() + "chat.postMessage", form, slack.token(),
                    "channel=alerts&thread_ts=" + first + "&text=quiet+reply");
            post(slack.apiUrl() + "chat.postMessage", form, slack.token(),
                    "channel=alerts&thread_ts=" + first + "&text=loud+reply&reply_broadcast=true");
            post(slack.apiUrl() + "chat.postMessage", form, slack.token(), "channel=alerts&text=two");
            assertEquals("invalid_metadata_format", error(post(slack.apiUrl() + "chat.postMessage", form, slack.token(),
                    "channel=alerts&text=x&metadata=%7B%7D")));

            JsonNode page = JSON.readTree(post(slack.apiUrl() + "conversations.history", form, slack.token(),
                    "channel=" + channel + "&limit=2&include_all_metadata=true").body());
            assertEquals(List.of("two", "loud reply"), texts(page));
            assertTrue(page.path("has_more").asBoolean());
            assertEquals("thread_broadcast", page.path("messages").get(1).path("subtype").asText());
            String cursor = page.path("response_metadata").path("next_cursor").asText();
            JsonNode last = JSON.readTree(post(slack.apiUrl() + "conversations.history", form, slack.token(),
                    "channel=" + channel + "&limit=2&include_all_metadata=true&cursor=" + cursor).body());
            assertEquals(List.of("one"), texts(last));
            assertEquals(false, last.path("has_more").asBoolean(true));
            assertEquals("", last.path("response_metadata").path("next_cursor").asText("absent"));
            assertEquals("7", last.path("messages").get(0).path("metadata").path("event_payload").path("delivery_id").asText());
            JsonNode without = JSON.readTree(get(slack.apiUrl() + "conversations.history?channel=" + channel
                    + "&token=" + slack.token() + "&oldest=" + first).body());
            assertEquals(List.of("two", "loud reply"), texts(without), "after oldest, exclusive");
            assertTrue(without.path("messages").get(0).path("metadata").isMissingNode(), "metadata only when asked");

            JsonNode thread = JSON.readTree(post(slack.apiUrl() + "conversations.replies", form, slack.token(),
                    "channel=" + channel + "&ts=" + first + "&include_all_metadata=true").body());
            assertEquals(List.of("one", "quiet reply", "loud reply"), texts(thread), "the parent first, then oldest first");

            assertEquals("channel_not_found", error(post(slack.apiUrl() + "conversations.history", form, slack.token(),
                    "channel=alerts")), "history takes an id, not a name");
            assertEquals("invalid_cursor", error(post(slack.apiUrl() + "conversations.history", form, slack.token(),
                    "channel=" + channel + "&cursor=bm9wZQ==")));
            assertEquals("thread_not_found", error(post(slack.apiUrl() + "conversations.replies", form, slack.token(),
                    "channel=" + channel + "&ts=1.000001")));
            assertEquals("not_authed", error(post(slack.apiUrl() + "conversations.history", form, "",
                    "channel=" + channel)));

            JsonNode list = JSON.readTree(post(slack.apiUrl() + "conversations.list", form, slack.token(),
                    "exclude_archived=true").body());
            assertEquals(channel, list.path("channels").get(0).path("id").asText());
            assertEquals("alerts", list.path("channels").get(0).path("name").asText());
        }
    }

    private static List<String> texts(JsonNode page) {
        List<String> texts = new java.util.ArrayList<>();
        page.path("messages").forEach(m -> texts.add(m.path("text").asText()));
        return texts;
    }

    private static String error(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), "Slack reports API errors with HTTP 200");
        JsonNode body = JSON.readTree(r.body());
        assertEquals(false, body.path("ok").asBoolean(true));
        return body.path("error").asText();
    }
}
