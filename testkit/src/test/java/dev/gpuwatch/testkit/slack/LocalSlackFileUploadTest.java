package dev.gpuwatch.testkit.slack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The external file upload as Slack documents it: get an upload URL, POST the bytes there, complete into a thread. */
class LocalSlackFileUploadTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private JsonNode call(LocalSlackServer slack, String method, String form) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(slack.apiUrl() + method))
                .header("Authorization", "Bearer " + slack.token())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private HttpResponse<byte[]> upload(String url, byte[] bytes) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String post(LocalSlackServer slack) {
        return slack.messages().isEmpty() ? "" : slack.messages().getFirst().ts();
    }

    @Test
    void aFileUploadedThroughItsUrlIsSharedIntoTheThreadWithItsBytes() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            JsonNode posted = call(slack, "chat.postMessage", "channel=%23alerts&text=hot");
            String ts = posted.path("ts").asText();
            byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5};
            JsonNode url = call(slack, "files.getUploadURLExternal", "filename=graph.png&length=" + png.length);
            assertTrue(url.path("ok").asBoolean(), url.toString());
            String id = url.path("file_id").asText();
            assertTrue(url.path("upload_url").asText().startsWith("http://127.0.0.1:" + slack.port() + "/upload/"));
            assertEquals(200, upload(url.path("upload_url").asText(), png).statusCode());
            String channel = slack.channelId("alerts");
            JsonNode done = call(slack, "files.completeUploadExternal", "files=" + enc("[{\"id\":\"" + id
                    + "\",\"title\":\"GpuHot\"}]") + "&channel_id=" + channel + "&thread_ts=" + ts);
            assertTrue(done.path("ok").asBoolean(), done.toString());
            assertEquals(id, done.path("files").get(0).path("id").asText());

            LocalSlackServer.SharedFile file = slack.files(channel, ts).getFirst();
            assertArrayEquals(png, file.bytes());
            assertEquals("GpuHot", file.title());
            assertEquals(Optional.of(ts), file.threadTs());
            assertEquals(1, slack.thread(channel, ts).size(), "one message in the thread shares the file");
            HttpResponse<byte[]> served = http.send(HttpRequest.newBuilder(URI.create(done.path("files").get(0)
                    .path("permalink").asText())).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals("image/png", served.headers().firstValue("Content-Type").orElse(""));
            assertArrayEquals(png, served.body());
            assertEquals("file_not_found", call(slack, "files.completeUploadExternal", "files=" + enc("[{\"id\":\"" + id
                    + "\"}]") + "&channel_id=" + channel).path("error").asText(), "a file is shared once");
        }
    }

    @Test
    void theDocumentedErrors() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            call(slack, "chat.postMessage", "channel=%23alerts&text=hot");
            String channel = slack.channelId("alerts");
            assertEquals("invalid_arguments", call(slack, "files.getUploadURLExternal", "filename=g.png").path("error").asText());
            assertEquals("invalid_arguments", call(slack, "files.getUploadURLExternal", "filename=g.png&length=0")
                    .path("error").asText());
            JsonNode url = call(slack, "files.getUploadURLExternal", "filename=g.png&length=4");
            assertEquals(400, upload(url.path("upload_url").asText(), new byte[3]).statusCode(), "length is checked");
            assertEquals("file_not_found", call(slack, "files.completeUploadExternal", "files="
                    + enc("[{\"id\":\"" + url.path("file_id").asText() + "\"}]") + "&channel_id=" + channel)
                    .path("error").asText(), "never uploaded");
            assertEquals("file_not_found", call(slack, "files.completeUploadExternal", "files="
                    + enc("[{\"id\":\"F0NOPE\"}]") + "&channel_id=" + channel).path("error").asText());
            assertEquals("invalid_arguments", call(slack, "files.completeUploadExternal", "files=nope&channel_id="
                    + channel).path("error").asText());
            assertEquals(200, upload(url.path("upload_url").asText(), new byte[4]).statusCode());
            assertEquals("thread_not_found", call(slack, "files.completeUploadExternal", "files="
                    + enc("[{\"id\":\"" + url.path("file_id").asText() + "\"}]") + "&channel_id=" + channel
                    + "&thread_ts=1.000001").path("error").asText());
            slack.revokeScope("files:write");
            JsonNode refused = call(slack, "files.getUploadURLExternal", "filename=g.png&length=4");
            assertEquals("missing_scope", refused.path("error").asText());
            assertEquals("files:write", refused.path("needed").asText());
            assertTrue(slack.files().isEmpty());
            assertEquals(1, slack.messages().size(), post(slack));
        }
    }
}
