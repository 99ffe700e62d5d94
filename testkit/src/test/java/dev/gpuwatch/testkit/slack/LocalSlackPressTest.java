package dev.gpuwatch.testkit.slack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The local Slack pressing buttons as Slack does, checked by an app of its own here: the request a press sends is
 * signed as Slack documents (checked with javax.crypto, independently of the server's code) and carries the
 * block_actions payload; the page has a form button for each button, which goes through the same press.
 */
class LocalSlackPressTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "app-signing-secret";
    private static final String BLOCKS = """
            [{"type":"section","text":{"type":"mrkdwn","text":"GPU hot"}},
             {"type":"actions","block_id":"gpuwatch_actions","elements":[
               {"type":"button","action_id":"silence_1h","text":{"type":"plain_text","text":"Silence 1h"},"value":"s/1"},
               {"type":"button","action_id":"acknowledge","text":{"type":"plain_text","text":"Acknowledge"},"value":"s/1"}]}]""";

    record Received(String timestamp, String signature, String body) {}

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @Test
    void aPressIsASignedBlockActionsPostToTheAppAndThePageHasItsButtons() throws Exception {
        List<Received> received = new CopyOnWriteArrayList<>();
        HttpServer app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        app.createContext("/interactions", exchange -> {
            received.add(new Received(exchange.getRequestHeaders().getFirst("X-Slack-Request-Timestamp"),
                    exchange.getRequestHeaders().getFirst("X-Slack-Signature"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        app.start();
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            slack.interactivity("http://127.0.0.1:" + app.getAddress().getPort() + "/interactions", SECRET);
            String ts = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(slack.apiUrl() + "chat.postMessage"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + slack.token())
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("channel", "alerts")
                            .put("text", "GPU hot").put("blocks", BLOCKS).toString())).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).path("ts").asText();

            assertEquals(200, slack.press(ts, "silence_1h", "ana").status());
            Received press = received.getFirst();
            assertEquals(sign(SECRET, press.timestamp(), press.body()), press.signature());
            assertTrue(Math.abs(Instant.now().getEpochSecond() - Long.parseLong(press.timestamp())) < 5);
            assertTrue(press.body().startsWith("payload="), press.body());
            JsonNode payload = JSON.readTree(URLDecoder.decode(press.body().substring("payload=".length()),
                    StandardCharsets.UTF_8));
            assertEquals("block_actions", payload.path("type").asText());
            assertEquals("ana", payload.path("user").path("username").asText());
            assertEquals(slack.channelId("alerts"), payload.path("channel").path("id").asText());
            assertEquals(ts, payload.path("container").path("message_ts").asText());
            assertEquals("silence_1h", payload.path("actions").path(0).path("action_id").asText());
            assertEquals("s/1", payload.path("actions").path(0).path("value").asText());
            assertEquals("GPU hot", payload.path("message").path("blocks").path(0).path("text").path("text").asText());

            slack.press(ts, "acknowledge", "ben", LocalSlackServer.Signing.WRONG, Duration.ZERO);
            assertTrue(!sign(SECRET, received.get(1).timestamp(), received.get(1).body()).equals(received.get(1).signature()));
            slack.press(ts, "acknowledge", "ben", LocalSlackServer.Signing.MISSING, Duration.ZERO);
            assertEquals(null, received.get(2).signature());
            slack.press(ts, "acknowledge", "ben", LocalSlackServer.Signing.VALID, Duration.ofMinutes(6));
            assertTrue(Instant.now().getEpochSecond() - Long.parseLong(received.get(3).timestamp()) >= 360);

            // the page: a form per button; its post goes through the same press and back to the page
            String page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + slack.port() + "/"))
                    .header("Accept", "text/html").build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(page.contains("<button type=\"submit\">Silence 1h</button>"), page);
            assertTrue(page.contains("<button type=\"submit\">Acknowledge</button>"), page);
            assertTrue(page.contains("name=\"ts\" value=\"" + ts + "\""), page);
            HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + slack.port()
                    + LocalSlackServer.PRESS_PATH)).header("Accept", "text/html")
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("ts=" + ts + "&action_id=silence_1h&user=sandbox-user"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(303, form.statusCode());
            assertEquals(5, received.size());
            HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + slack.port() + LocalSlackServer.PRESS_PATH)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"ts\":\"" + ts + "\",\"action_id\":\"nope\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, unknown.statusCode(), unknown.body());
            assertEquals(5, received.size(), "an unknown button presses nothing");
            // and the plain listing stays text for curl and the demo's output
            assertTrue(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + slack.port() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString()).body().startsWith("Local Slack: 1 messages"));
        } finally {
            app.stop(0);
        }
    }

    private static String sign(String secret, String ts, String body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "v0=" + HexFormat.of().formatHex(mac.doFinal(("v0:" + ts + ":" + body).getBytes(StandardCharsets.UTF_8)));
    }
}
