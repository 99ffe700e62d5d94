package dev.gpuwatch.testkit.pagerduty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.testkit.http.Failure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The local PagerDuty's own contract, spoken to with a plain HTTP client as any Events API v2 client would. */
class LocalPagerDutyServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(String url, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pagerDutyValidatesEventsAsDocumented() throws Exception {
        try (LocalPagerDutyServer pd = LocalPagerDutyServer.start(0)) {
            HttpResponse<String> bad = post(pd.enqueueUrl(), """
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
                    "{\"routing_key\":\"" + "k".repeat(32) + "\",\"event_action\":\"resolve\"}").body()).path("errors")));
            assertEquals(400, post(pd.enqueueUrl(), "{not json").statusCode());
            assertTrue(pd.events().isEmpty());
        }
    }

    @Test
    void pagerDutyRefusesAnEventOverHalfAMebibyte() throws Exception {
        try (LocalPagerDutyServer pd = LocalPagerDutyServer.start(0)) {
            String valid = "{\"routing_key\":\"" + "k".repeat(32) + "\",\"event_action\":\"trigger\",\"payload\":"
                    + "{\"summary\":\"s\",\"source\":\"x\",\"severity\":\"info\",\"custom_details\":{\"d\":\"%s\"}}}";
            String tooLarge = valid.formatted("x".repeat(LocalPagerDutyServer.MAX_EVENT_BYTES));
            HttpResponse<String> refused = post(pd.enqueueUrl(), tooLarge);
            assertEquals(400, refused.statusCode());
            assertEquals(List.of("Event is " + tooLarge.length() + " bytes, larger than the 512 KB limit"),
                    toList(JSON.readTree(refused.body()).path("errors")));
            assertTrue(pd.events().isEmpty());
            String fits = valid.formatted("x".repeat(LocalPagerDutyServer.MAX_EVENT_BYTES - valid.length()));
            assertEquals(202, post(pd.enqueueUrl(), fits).statusCode());
        }
    }

    @Test
    void pagerDutyKeepsOneIncidentPerDedupKey() throws Exception {
        try (LocalPagerDutyServer pd = LocalPagerDutyServer.start(0)) {
            String key = "k".repeat(32);
            String trigger = "{\"routing_key\":\"" + key + "\",\"event_action\":\"trigger\",\"dedup_key\":\"g1\","
                    + "\"payload\":{\"summary\":\"GPU hot\",\"source\":\"node-1\",\"severity\":\"warning\",\"timestamp\":\"2026-11-20T10:00:00Z\"}}";
            HttpResponse<String> accepted = post(pd.enqueueUrl(), trigger);
            assertEquals(202, accepted.statusCode());
            assertEquals("{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"g1\"}", accepted.body());
            post(pd.enqueueUrl(), trigger);
            assertEquals(new LocalPagerDutyServer.Incident("g1", "triggered", "GPU hot", "warning", 2), pd.incident("g1").orElseThrow());
            post(pd.enqueueUrl(), "{\"routing_key\":\"" + key + "\",\"event_action\":\"acknowledge\",\"dedup_key\":\"g1\"}");
            assertEquals("acknowledged", pd.incident("g1").orElseThrow().status());
            post(pd.enqueueUrl(), "{\"routing_key\":\"" + key + "\",\"event_action\":\"resolve\",\"dedup_key\":\"g1\"}");
            assertEquals("resolved", pd.incident("g1").orElseThrow().status());
            // without a dedup_key PagerDuty makes one up and returns it
            String generated = JSON.readTree(post(pd.enqueueUrl(), trigger.replace(",\"dedup_key\":\"g1\"", "")).body())
                    .path("dedup_key").asText();
            assertTrue(generated.matches("[0-9a-f]{32}"), generated);
            String listing = get("http://127.0.0.1:" + pd.port() + "/").body();
            assertTrue(listing.startsWith("Local PagerDuty: 2 incidents, 5 events\n"), listing);
            assertTrue(listing.contains("[RESOLVED] warning GPU hot"), listing);

            pd.failNext(1, Failure.rateLimited(60));
            HttpResponse<String> throttled = post(pd.enqueueUrl(), trigger);
            assertEquals(429, throttled.statusCode());
            assertEquals(Optional.of("60"), throttled.headers().firstValue("Retry-After"));
        }
    }

    private static List<String> toList(JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
