package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.runbook.RunbookLibrary;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import dev.gpuwatch.web.ExternalUrl;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runbooks over HTTP: a message delivered for each shipped alert links to the receiver's own runbook, and
 * following every such link answers 200 with that alert's page; unknown names and paths get 404.
 */
class RunbooksHttpTest {

    /** Slack's {@code <url|text>} links. */
    private static final Pattern SLACK_LINK = Pattern.compile("<(https?://[^|>]+)\\|[^>]*>");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private Receiver receiver;
    private LocalSlackServer slack;

    @AfterEach
    void stop() {
        if (receiver != null) {
            receiver.close();
        }
        if (slack != null) {
            slack.close();
        }
    }

    private void start(String yaml, Receiver.Options options) throws Exception {
        receiver = Receiver.start(ConfigLoader.parse("test.yml", yaml), options);
    }

    private Receiver.Options options() {
        return Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0);
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String local(String path) {
        return "http://127.0.0.1:" + receiver.port() + path;
    }

    @Test
    void everyRunbookLinkOfTheDeliveredMessagesOpens() throws Exception {
        slack = LocalSlackServer.start(0);
        Path token = Files.writeString(dir.resolve("slack-token"), slack.token());
        start("""
                dispatch:
                  rate_limits: {slack: 0}
                receivers:
                  - name: default
                    slack_configs: [{bot_token_file: %s, channel: "#alerts", api_url: %s}]
                """.formatted(token, slack.apiUrl()), options());
        assertEquals("http://127.0.0.1:" + receiver.port(), receiver.externalUrl().url(),
                "the default external URL is the listen address");
        List<String> alerts = new ArrayList<>();
        RunbookLibrary.bundled().all().forEach(r -> alerts.add(r.title()));
        for (String alert : alerts) {
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(local("/api/v1/alerts")))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.bytes(Payloads.notification(alert, "firing", 1))))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (slack.messages().size() < alerts.size() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(alerts.size(), slack.messages().size());
        Map<String, String> followed = new TreeMap<>();
        for (LocalSlackServer.Message m : slack.messages()) {
            String alert = alerts.stream().filter(a -> m.visibleText().contains(a + " ")
                    || m.visibleText().contains(a + "*")).findFirst().orElseThrow(() -> new AssertionError(m.text()));
            for (String url : SLACK_LINK.matcher(m.visibleText()).results().map(r -> r.group(1)).toList()) {
                if (!url.startsWith(receiver.externalUrl().url())) {
                    continue; // the graph and the silence are Prometheus' and Alertmanager's, not running here
                }
                HttpResponse<String> page = get(url);
                assertEquals(200, page.statusCode(), url);
                assertTrue(page.body().contains("<title>" + alert + "</title>"), url + " is " + alert + "'s runbook");
                followed.put(alert, url);
            }
        }
        for (String alert : alerts) {
            assertEquals(receiver.externalUrl().url() + "/runbooks/" + alert.toLowerCase(Locale.ROOT),
                    followed.get(alert), alert + "'s message links its runbook");
        }
    }

    @Test
    void theExternalUrlFlagIsTheBaseOfTheLinks() throws Exception {
        start("""
                receivers:
                  - name: default
                    log_configs: [{file: %s}]
                """.formatted(dir.resolve("deliveries.log")),
                options().withExternalUrl(ExternalUrl.parse("https://alerts.example.com/gpuwatch/").orElseThrow()));
        http.send(HttpRequest.newBuilder(URI.create(local("/api/v1/alerts")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.bytes(
                        Payloads.notification("GpuFellOffTheBus", "firing", 1))))
                .build(), HttpResponse.BodyHandlers.ofString());
        Path log = dir.resolve("deliveries.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!(Files.exists(log) && !Files.readString(log).isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.readString(log).contains(
                " runbook=https://alerts.example.com/gpuwatch/runbooks/gpufelloffthebus"), Files.readString(log));
    }

    @Test
    void pagesIndexAndRefusals() throws Exception {
        start("", options());
        HttpResponse<String> page = get(local("/runbooks/gpufelloffthebus"));
        assertEquals(200, page.statusCode());
        assertEquals("text/html;charset=utf-8", page.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("default-src 'none'; style-src 'unsafe-inline'",
                page.headers().firstValue("Content-Security-Policy").orElseThrow());
        assertTrue(page.body().contains("<a href=\"./\">All runbooks</a>"), "a relative link to the index");
        assertTrue(page.body().contains("<h1>GpuFellOffTheBus</h1>"), page.body());

        HttpResponse<String> index = get(local("/runbooks/"));
        assertEquals(200, index.statusCode());
        assertTrue(index.body().contains(" href=\"gpufelloffthebus\">GpuFellOffTheBus</a>"), index.body());
        // relative links resolve under /runbooks/ only: the folder without its slash redirects there
        HttpResponse<String> bare = get(local("/runbooks"));
        assertEquals(301, bare.statusCode());
        assertEquals("runbooks/", bare.headers().firstValue("Location").orElseThrow());

        for (String path : List.of("/runbooks/nosuchalert", "/runbooks/README", "/runbooks/gpufelloffthebus.md",
                "/runbooks/GpuFellOffTheBus", "/runbooks/..%2F..%2Fpom.xml", "/runbooks/%2e%2e%2fcatalog%2fdefault.yaml",
                "/runbooks/catalog/default.yaml", "/runbooks/gpufelloffthebus/x")) {
            assertEquals(404, get(local(path)).statusCode(), path);
        }
    }
}
