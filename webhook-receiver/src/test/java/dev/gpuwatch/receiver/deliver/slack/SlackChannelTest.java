package dev.gpuwatch.receiver.deliver.slack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import dev.gpuwatch.testkit.http.Failure;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SlackChannelTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private LocalSlackServer server;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        server = LocalSlackServer.start(0);
        channel = SlackChannel.create(SlackSettings.bot(secret("token", server.token()), "", "#alerts", server.apiUrl()),
                Templates.defaults());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private String secret(String name, String value) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, value + "\n");
        return file.toString();
    }

    private static EnrichedNotification firing() {
        return Fixtures.enrich(Fixtures.notification("firing", List.of(Fixtures.xid("firing", "node-1", "0"))));
    }

    private static EnrichedNotification resolved() {
        return Fixtures.enrich(Fixtures.notification("resolved", List.of(Fixtures.xid("resolved", "node-1", "0"))));
    }

    private static Delivery delivery(EnrichedNotification n, Optional<Receipt> previous) {
        return Fixtures.delivery("d-1", n, previous);
    }

    @Test
    void postsThenResolvesInPlaceWithAThreadReply() {
        DeliveryOutcome first = channel.deliver(delivery(firing(), Optional.empty()));
        Receipt receipt = assertInstanceOf(DeliveryOutcome.Delivered.class, first).receipt();
        assertEquals(Optional.of(server.channelId("alerts")), receipt.get("channel"));
        LocalSlackServer.Message posted = server.messages().getFirst();
        assertEquals(receipt.get("ts"), Optional.of(posted.ts()));
        assertTrue(posted.visibleText().startsWith("[FIRING:1] GpuXidError (node-1)\n"), posted.visibleText());

        DeliveryOutcome second = channel.deliver(delivery(resolved(), Optional.of(receipt)));
        assertEquals(receipt, assertInstanceOf(DeliveryOutcome.Delivered.class, second).receipt());
        List<LocalSlackServer.Message> messages = server.messages();
        assertEquals(2, messages.size(), "the original, updated, and one thread reply");
        LocalSlackServer.Message updated = messages.getFirst();
        assertEquals(posted.ts(), updated.ts());
        assertEquals(1, updated.updates());
        assertTrue(updated.visibleText().startsWith("[RESOLVED] GpuXidError (node-1)\n"), updated.visibleText());
        assertTrue(updated.visibleText().contains(":large_green_circle: *GpuXidError* · critical · resolved"), updated.visibleText());
        List<LocalSlackServer.Message> thread = server.thread(updated.channel(), updated.ts());
        assertEquals(1, thread.size());
        assertEquals(":large_green_circle: Resolved: *GpuXidError* (node-1), 1 of 1 alerts resolved.", thread.getFirst().text());
    }

    @Test
    void aDigestGivesEveryGroupTheDigestAndAResolveRepliesUnderItWithoutRewritingIt() {
        EnrichedNotification other = Fixtures.enrich(Fixtures.notification("firing",
                List.of(Fixtures.xid("firing", "node-2", "1"))));
        Delivery digest = new Delivery("digest-1", "digest", List.of(firing(), other), Optional.empty());
        var delivered = assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(digest));
        LocalSlackServer.Message posted = server.messages().getFirst();
        Receipt shared = delivered.groupReceipts().get(firing().notification().groupKey());
        assertTrue(shared.isDigest());
        assertEquals(Optional.of(posted.ts()), shared.get("ts"));

        DeliveryOutcome resolve = channel.deliver(delivery(resolved(), Optional.of(shared)));
        assertEquals(shared, assertInstanceOf(DeliveryOutcome.Delivered.class, resolve).receipt(),
                "the group's next delivery goes to the same thread");
        List<LocalSlackServer.Message> top = server.messages().stream().filter(m -> m.threadTs().isEmpty()).toList();
        assertEquals(1, top.size());
        assertEquals(0, top.getFirst().updates(), "the digest keeps speaking for every group");
        List<LocalSlackServer.Message> thread = server.thread(posted.channel(), posted.ts());
        assertEquals(1, thread.size());
        assertTrue(thread.getFirst().visibleText().startsWith("[RESOLVED] GpuXidError (node-1)\n"),
                thread.getFirst().visibleText());
    }

    @Test
    void aGroupWhoseDigestIsGoneGetsAMessageOfItsOwn() {
        Receipt gone = new Receipt(Map.of("channel", server.channelId("alerts"), "ts", "1.000001")).asDigest();
        DeliveryOutcome outcome = channel.deliver(delivery(resolved(), Optional.of(gone)));
        Receipt own = assertInstanceOf(DeliveryOutcome.Delivered.class, outcome).receipt();
        assertFalse(own.isDigest(), "from now on the group's own message is updated in place");
        LocalSlackServer.Message posted = server.messages().getFirst();
        assertEquals(Optional.of(posted.ts()), own.get("ts"));
        assertTrue(posted.threadTs().isEmpty());
        assertTrue(posted.visibleText().startsWith("[RESOLVED] GpuXidError (node-1)\n"), posted.visibleText());
    }

    @Test
    void firingAgainUpdatesTheOriginalAndRepliesInItsThreadWithTheWholeMessage() {
        Receipt receipt = assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(delivery(firing(), Optional.empty()))).receipt();
        // a repeat_interval reminder, or alerts joining the group: the same group firing again
        DeliveryOutcome again = channel.deliver(delivery(firing(), Optional.of(receipt)));
        assertEquals(receipt, assertInstanceOf(DeliveryOutcome.Delivered.class, again).receipt());
        List<LocalSlackServer.Message> top = server.messages().stream().filter(m -> m.threadTs().isEmpty()).toList();
        assertEquals(1, top.size(), "one message per incident");
        assertEquals(1, top.getFirst().updates());
        List<LocalSlackServer.Message> thread = server.thread(top.getFirst().channel(), top.getFirst().ts());
        assertEquals(1, thread.size());
        assertEquals(top.getFirst().visibleText(), thread.getFirst().visibleText(), "the reply carries the alert again");
        // a lost original: posted anew, and the receipt follows the new message
        Receipt lost = new Receipt(Map.of("channel", server.channelId("alerts"), "ts", "1.000001"));
        Receipt fresh = assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(delivery(firing(), Optional.of(lost)))).receipt();
        assertEquals(Optional.of(server.messages().getLast().ts()), fresh.get("ts"));
        assertEquals(Optional.empty(), server.messages().getLast().threadTs());
    }

    /** The local Slack does not keep reply_broadcast, so this one reads the requests themselves. */
    @Test
    void theFiringReplyIsBroadcastToTheChannelAndTheResolvedOneIsNot() throws Exception {
        List<String> posts = java.util.Collections.synchronizedList(new ArrayList<>());
        com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (exchange.getRequestURI().getPath().endsWith("chat.postMessage")) {
                posts.add(java.net.URLDecoder.decode(body, java.nio.charset.StandardCharsets.UTF_8));
            }
            byte[] ok = "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1.000002\"}".getBytes();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, ok.length);
            exchange.getResponseBody().write(ok);
            exchange.close();
        });
        http.start();
        try {
            Channel capturing = SlackChannel.create(SlackSettings.bot(secret("t2", "xoxb-test"), "", "#alerts",
                    "http://127.0.0.1:" + http.getAddress().getPort() + "/api/"), Templates.defaults());
            Receipt receipt = new Receipt(Map.of("channel", "C1", "ts", "1.000001"));
            capturing.deliver(delivery(firing(), Optional.of(receipt)));
            capturing.deliver(delivery(resolved(), Optional.of(receipt)));
            assertEquals(2, posts.size(), posts.toString());
            assertTrue(posts.get(0).contains("thread_ts=1.000001") && posts.get(0).contains("reply_broadcast=1"),
                    posts.get(0));
            assertTrue(posts.get(1).contains("thread_ts=1.000001") && !posts.get(1).contains("reply_broadcast=1"),
                    posts.get(1));
        } finally {
            http.stop(0);
        }
    }

    @Test
    void resolvedWithoutReceiptOrWithALostMessageIsPostedAnew() {
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(resolved(), Optional.empty())));
        Receipt lost = new Receipt(Map.of("channel", server.channelId("alerts"), "ts", "1.000001"));
        Receipt fresh = assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(resolved(), Optional.of(lost)))).receipt();
        assertEquals(2, server.messages().size());
        assertEquals(Optional.of(server.messages().get(1).ts()), fresh.get("ts"));
        assertTrue(server.messages().stream().allMatch(m -> m.updates() == 0 && m.threadTs().isEmpty()));
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new Failure.RateLimited(7), DeliveryOutcome.RetryLater.class, Optional.of(Duration.ofSeconds(7))),
                Arguments.of(new Failure.SlackError("ratelimited"), DeliveryOutcome.RetryLater.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("internal_error"), DeliveryOutcome.RetryLater.class, Optional.empty()),
                Arguments.of(new Failure.ServerError(500), DeliveryOutcome.RetryLater.class, Optional.empty()),
                Arguments.of(new Failure.ServerError(503), DeliveryOutcome.RetryLater.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("invalid_auth"), DeliveryOutcome.Failed.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("not_authed"), DeliveryOutcome.Failed.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("channel_not_found"), DeliveryOutcome.Failed.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("not_in_channel"), DeliveryOutcome.Failed.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("is_archived"), DeliveryOutcome.Failed.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("msg_too_long"), DeliveryOutcome.Failed.class, Optional.empty()),
                Arguments.of(new Failure.SlackError("invalid_blocks"), DeliveryOutcome.Failed.class, Optional.empty()));
    }

    @ParameterizedTest
    @MethodSource("failures")
    void eachFailureMapsToItsOutcome(Failure failure, Class<? extends DeliveryOutcome> expected, Optional<Duration> retryAfter) {
        server.failNext(1, failure);
        DeliveryOutcome outcome = channel.deliver(delivery(firing(), Optional.empty()));
        assertInstanceOf(expected, outcome);
        if (outcome instanceof DeliveryOutcome.RetryLater r) {
            assertEquals(retryAfter, r.retryAfter());
        }
        assertTrue(server.messages().isEmpty());
        // the failure was one request only: the next attempt goes through
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(firing(), Optional.empty())));
    }

    @Test
    void realAuthAndChannelErrorsArePermanent() throws Exception {
        Channel wrongToken = SlackChannel.create(SlackSettings.bot(secret("bad", "xoxb-wrong"), "", "alerts", server.apiUrl()),
                Templates.defaults());
        assertEquals(new DeliveryOutcome.Failed("slack: ok:false invalid_auth"), wrongToken.deliver(delivery(firing(), Optional.empty())));
        Channel unknown = SlackChannel.create(SlackSettings.bot(secret("t", server.token()), "", "#nope", server.apiUrl()),
                Templates.defaults());
        assertEquals(new DeliveryOutcome.Failed("slack: ok:false channel_not_found"), unknown.deliver(delivery(firing(), Optional.empty())));
        server.removeBot("alerts");
        assertEquals(new DeliveryOutcome.Failed("slack: ok:false not_in_channel"), channel.deliver(delivery(firing(), Optional.empty())));
        server.archive("alerts");
        assertEquals(new DeliveryOutcome.Failed("slack: ok:false is_archived"), channel.deliver(delivery(firing(), Optional.empty())));
    }

    @Test
    void serverDownIsRetriedAndRecovers() {
        server.goDown();
        DeliveryOutcome down = channel.deliver(delivery(firing(), Optional.empty()));
        assertInstanceOf(DeliveryOutcome.RetryLater.class, down);
        server.comeBack();
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(firing(), Optional.empty())));
    }

    @Test
    void incomingWebhookPostsWithoutTsAndMapsFailures() throws Exception {
        Channel webhook = SlackChannel.create(SlackSettings.webhook(secret("hook", server.webhookUrl()), ""), Templates.defaults());
        Receipt receipt = assertInstanceOf(DeliveryOutcome.Delivered.class, webhook.deliver(delivery(firing(), Optional.empty()))).receipt();
        assertEquals(Map.of(), receipt.values());
        assertEquals("webhook", server.messages().getFirst().via());
        // no ts to update: a resolve is a new message
        assertInstanceOf(DeliveryOutcome.Delivered.class, webhook.deliver(delivery(resolved(), Optional.of(receipt))));
        assertEquals(2, server.messages().size());

        server.failNext(1, new Failure.RateLimited(3));
        assertEquals(Optional.of(Duration.ofSeconds(3)),
                assertInstanceOf(DeliveryOutcome.RetryLater.class, webhook.deliver(delivery(firing(), Optional.empty()))).retryAfter());
        server.failNext(1, new Failure.ServerError(502));
        assertInstanceOf(DeliveryOutcome.RetryLater.class, webhook.deliver(delivery(firing(), Optional.empty())));
        server.failNext(1, new Failure.SlackError("no_service"));
        DeliveryOutcome gone = webhook.deliver(delivery(firing(), Optional.empty()));
        assertEquals(new DeliveryOutcome.Failed("slack webhook: HTTP 404 no_service"), gone);
        server.goDown();
        DeliveryOutcome down = webhook.deliver(delivery(firing(), Optional.empty()));
        assertFalse(down.toString().contains("local-webhook-secret"), "the webhook URL is a secret: " + down);
        assertInstanceOf(DeliveryOutcome.RetryLater.class, down);
    }

    @Test
    void hostileLabelsNeitherPingNorLink() throws Exception {
        Alert hostile = Fixtures.alert("firing",
                Map.of("alertname", "Evil<!channel>", "instance", "<!here>", "pod", "<@U123>", "job", "<http://evil.example|click>"),
                Map.of("summary", "<!channel> wake up", "description", "<!subteam^S0> &lt;!everyone&gt;",
                        "runbook_url", "http://evil.example/a|<!channel>"));
        Notification n = Fixtures.notification("firing", Map.of("alertname", "Evil<!channel>", "instance", "<!here>"), List.of(hostile));
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(Fixtures.enrich(n), Optional.empty())));
        LocalSlackServer.Message m = server.messages().getFirst();
        String all = m.text() + m.blocksJson();
        for (String raw : List.of("<!channel>", "<!here>", "<@U123>", "<http://evil.example|click>", "<!subteam^S0>", "<!everyone>")) {
            assertFalse(all.contains(raw), raw + " reached Slack unescaped: " + all);
        }
        assertTrue(m.visibleText().contains("&lt;!channel&gt; wake up"), m.visibleText());
        assertTrue(m.visibleText().contains("`instance=&lt;!here&gt;, job=&lt;http://evil.example|click&gt;, pod=&lt;@U123&gt;`"),
                m.visibleText());
        // an entity in the alert is escaped again, so Slack shows it literally
        assertTrue(m.visibleText().contains("&amp;lt;!everyone&amp;gt;"), m.visibleText());
    }

    @Test
    void labelValuesNeitherCloseCodeSpansNorForgeLines() {
        // a backtick would end the code span (`*breakout*` then renders bold), a newline would start a line of its own
        Alert a = Fixtures.alert("resolved",
                Map.of("alertname", "GpuHot", "instance", "node-1`*breakout*`", "pod", "p\n> :white_check_mark: ALL CLEAR"),
                Map.of("summary", "hot\n> :white_check_mark: ALL CLEAR"));
        Notification n = Fixtures.notification("resolved",
                Map.of("alertname", "GpuHot", "instance", "node-1`*breakout*`\r\n> :white_check_mark: ALL CLEAR"), List.of(a));
        EnrichedNotification enriched = Fixtures.enrich(n);
        BlockKit kit = new BlockKit(Templates.defaults());
        assertEquals(":large_green_circle: Resolved: *GpuHot* (node-1\u02cb*breakout*\u02cb &gt; :white_check_mark: ALL CLEAR), 1 of 1 alerts resolved.",
                kit.resolvedReply(enriched));
        BlockKit.SlackMessage m = kit.notification(enriched);
        String group = m.blocks().get(1).path("elements").get(0).path("text").asText();
        assertEquals("Group: `alertname=GpuHot, instance=node-1\u02cb*breakout*\u02cb &gt; :white_check_mark: ALL CLEAR` · <",
                group.substring(0, group.indexOf('<') + 1));
        assertEquals(List.of(
                ":large_green_circle: *GpuHot* · resolved",
                "hot &gt; :white_check_mark: ALL CLEAR",
                "`instance=node-1\u02cb*breakout*\u02cb, pod=p &gt; :white_check_mark: ALL CLEAR`"),
                m.blocks().get(2).path("text").path("text").asText().lines().limit(3).toList());
    }

    @Test
    void settingsDeserializeFromYamlAndNameTheKeyWhenInvalid() throws Exception {
        ConfigReader yaml = ConfigReader.create();
        SlackSettings s = yaml.parse("s.yml", """
                bot_token_file: /run/secrets/slack
                channel: "#gpu-alerts"
                api_url: http://127.0.0.1:9101/api
                title: "{{alertname}}"
                """, SlackSettings.class).value();
        assertEquals(new SlackSettings("/run/secrets/slack", "", "#gpu-alerts", "", "", "http://127.0.0.1:9101/api/", "{{alertname}}", "", "", ""), s);
        assertFalse(s.webhookMode());
        ConfigException noChannel = assertThrows(ConfigException.class,
                () -> yaml.parse("s.yml", "bot_token_env: SLACK_TOKEN\n", SlackSettings.class));
        assertEquals("s.yml: channel: required with a bot token (a channel id like C0123 or a name)",
                noChannel.getMessage());
        ConfigException both = assertThrows(ConfigException.class,
                () -> yaml.parse("s.yml", "bot_token_env: T\nchannel: c\nwebhook_url_env: W\n", SlackSettings.class));
        assertEquals("s.yml: set either bot_token_file/bot_token_env (with channel) or webhook_url_file/webhook_url_env,"
                + " exactly one of them", both.getMessage());
    }

    @Test
    void twoHundredAlertsFitSlackLimits() throws Exception {
        DeliveryOutcome outcome = channel.deliver(delivery(Fixtures.enrich(Fixtures.storm(200)), Optional.empty()));
        assertInstanceOf(DeliveryOutcome.Delivered.class, outcome);
        JsonNode blocks = JSON.readTree(server.messages().getFirst().blocksJson());
        assertEquals(BlockKit.MAX_BLOCKS, blocks.size());
        assertEquals("[FIRING:200] GpuXidError (node-1)", blocks.get(0).path("text").path("text").asText());
        assertEquals("… and 153 more alerts (153 firing, 0 resolved) not shown",
                blocks.get(49).path("elements").get(0).path("text").asText());
    }

    @Test
    void longTextsAreCutWithinLimitsWithoutBreakingEscapes() throws Exception {
        String description = "&<>".repeat(2000);
        Alert a = Fixtures.alert("firing", Map.of("alertname", "X".repeat(300)), Map.of("description", description));
        assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(delivery(Fixtures.enrich(Fixtures.notification("firing", List.of(a))), Optional.empty())));
        JsonNode blocks = JSON.readTree(server.messages().getFirst().blocksJson());
        String header = blocks.get(0).path("text").path("text").asText();
        assertEquals("[FIRING:1] " + "X".repeat(117) + "…[truncated 183 bytes]", header);
        assertEquals(BlockKit.MAX_HEADER, header.length());
        String section = blocks.get(2).path("text").path("text").asText();
        assertTrue(section.length() <= BlockKit.MAX_TEXT);
        assertTrue(section.matches("(?s).*…\\[truncated [0-9]+ bytes]"), section.substring(section.length() - 40));
        // every & left starts a whole entity: the cut never leaves "&am" that Slack would show or misparse
        assertTrue(section.replaceAll("&(amp|lt|gt);", "").indexOf('&') < 0, section.substring(section.length() - 20));
    }

    @Test
    void aHugeDescriptionLeavesTheLabelsAndTheRunbookInItsSection() throws Exception {
        Alert a = Fixtures.alert("firing", Map.of("alertname", "GpuXidError", "severity", "critical", "instance", "node-1", "gpu", "0"),
                Map.of("summary", "GPU 0 on node-1 reported Xid 79", "description", "d".repeat(600_000)));
        assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(delivery(Fixtures.enrich(Fixtures.notification("firing", List.of(a))), Optional.empty())));
        JsonNode blocks = JSON.readTree(server.messages().getFirst().blocksJson());
        List<String> lines = blocks.get(2).path("text").path("text").asText().lines().toList();
        assertEquals(List.of(
                ":red_circle: *GpuXidError* · critical · firing",
                "GPU 0 on node-1 reported Xid 79",
                "d".repeat(973) + "…[truncated 599027 bytes]",
                "`gpu=0, instance=node-1`",
                ":book: <http://receiver.example:9095/runbooks/gpuxiderror|Runbook>"),
                lines.subList(0, 5));
    }

    @Test
    void digestFoldsManyNotificationsIntoOneCompactMessage() throws Exception {
        List<EnrichedNotification> many = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            Alert a = Fixtures.alert(i % 3 == 0 ? "resolved" : "firing",
                    Map.of("alertname", "GpuHot", "instance", "node-" + i), Map.of("summary", "GPU temperature 91C"));
            many.add(Fixtures.enrich(Fixtures.notification(i % 3 == 0 ? "resolved" : "firing",
                    Map.of("alertname", "GpuHot", "instance", "node-" + i), List.of(a))));
        }
        Delivery digest = new Delivery("digest-1", "digest", many, Optional.empty());
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(digest));
        assertEquals(1, server.messages().size());
        LocalSlackServer.Message m = server.messages().getFirst();
        assertEquals("[DIGEST] 120 notifications: 80 firing, 40 resolved", m.text());
        JsonNode blocks = JSON.readTree(m.blocksJson());
        assertTrue(blocks.size() < 10, "packed into few sections: " + blocks.size());
        String visible = m.visibleText();
        assertTrue(visible.contains(":red_circle: *[FIRING:1] GpuHot* (node-1): GPU temperature 91C · <http://alertmanager.example:9093/#/silences/new?filter="),
                visible);
        assertTrue(visible.contains(":large_green_circle: *[RESOLVED] GpuHot* (node-0): GPU temperature 91C"), visible);
        assertTrue(visible.contains("(node-119)"), "every notification is listed");
    }
}
