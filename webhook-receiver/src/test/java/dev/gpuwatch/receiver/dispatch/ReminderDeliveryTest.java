package dev.gpuwatch.receiver.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.slack.SlackChannel;
import dev.gpuwatch.receiver.deliver.slack.SlackSettings;
import dev.gpuwatch.receiver.enrich.CatalogEnricher;
import dev.gpuwatch.receiver.enrich.RunbookCatalog;
import dev.gpuwatch.receiver.ingest.IngestService;
import dev.gpuwatch.receiver.ingest.IngestService.Outcome;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.route.RoutingTree;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryStatus;
import dev.gpuwatch.receiver.store.SqliteStore;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gpuwatch issue 4: an Alertmanager {@code repeat_interval} reminder (same group, same alerts, still firing) is
 * delivered, while retries and HA copies stay duplicates. The whole path: ingest, the real store, the dispatcher
 * and the Slack channel against the local Slack; time jumps through the clock, never by sleeping.
 */
class ReminderDeliveryTest {

    private static final String CHANNEL = "oncall/slack/0";
    private static final byte[] FIRING = Payloads.bytes(Payloads.notification("GpuHot", "firing", 2));
    private static final byte[] RESOLVED = Payloads.bytes(Payloads.notification("GpuHot", "resolved", 2));

    @TempDir
    Path dir;

    private final DispatcherTest.TestClock clock = new DispatcherTest.TestClock(Instant.parse("2025-06-01T12:00:00Z"));
    private LocalSlackServer slack;
    private SqliteStore store;
    private Dispatcher dispatcher;
    private IngestService ingest;

    @BeforeEach
    void start() throws Exception {
        slack = LocalSlackServer.start(0);
        Path token = Files.writeString(dir.resolve("token"), slack.token() + "\n");
        var channel = SlackChannel.create(SlackSettings.bot(token.toString(), "", "#alerts", slack.apiUrl()),
                Templates.defaults());
        store = SqliteStore.open(dir.resolve("r.db"), 100, OptionalLong.empty(), Duration.ofMinutes(5));
        ReceiverMetrics metrics = new ReceiverMetrics(new PrometheusRegistry(), store);
        var settings = new DispatchSettings(Duration.ofHours(6), Duration.ofMillis(10), Duration.ofMillis(40),
                Map.of("slack", 0.0), 10, Duration.ofMinutes(2));
        dispatcher = new Dispatcher(store, List.of(new ConfiguredChannel(CHANNEL, "oncall", channel)),
                CatalogEnricher.create(RunbookCatalog.defaults(), alertname -> {}), settings, metrics, clock,
                new SplittableRandom(7));
        dispatcher.start();
        ingest = new IngestService(new RoutingTree(new RoutingTree.Route(Optional.of("oncall"), List.of(), false,
                List.of())), Map.of("oncall", List.of(new NotificationStore.Target("oncall", CHANNEL, "slack"))),
                store, settings.maxAge(), clock, metrics);
    }

    @AfterEach
    void stop() {
        dispatcher.close();
        store.close();
        slack.close();
    }

    private long count(DeliveryStatus status) {
        return store.countByIntegration(status).getOrDefault("slack", 0L);
    }

    private List<LocalSlackServer.Message> topLevel() {
        return slack.messages().stream().filter(m -> m.threadTs().isEmpty()).toList();
    }

    @Test
    void aReminderAfterTheWindowIsAThreadReplyAndTheResolveStillUpdatesTheOriginal() throws Exception {
        assertInstanceOf(Outcome.Accepted.class, ingest.ingest(FIRING));
        DispatcherTest.await("the first message", () -> count(DeliveryStatus.DELIVERED) == 1);
        LocalSlackServer.Message original = topLevel().getFirst();
        assertTrue(original.visibleText().startsWith("[FIRING:2] GpuHot"), original.visibleText());

        // Alertmanager retrying after a lost 200 and the HA peer 15 s later: nothing new to deliver
        assertInstanceOf(Outcome.Duplicate.class, ingest.ingest(FIRING));
        clock.advance(Duration.ofSeconds(15));
        assertInstanceOf(Outcome.Duplicate.class, ingest.ingest(FIRING));
        assertEquals(0, count(DeliveryStatus.PENDING));

        // repeat_interval (4h): the same notification again, and both HA peers send it
        clock.advance(Duration.ofHours(4));
        var peers = List.of(CompletableFuture.supplyAsync(() -> ingest.ingest(FIRING)),
                CompletableFuture.supplyAsync(() -> ingest.ingest(FIRING)));
        List<Outcome> outcomes = peers.stream().map(CompletableFuture::join).toList();
        assertEquals(1, outcomes.stream().filter(Outcome.Accepted.class::isInstance).count(), outcomes.toString());
        assertEquals(1, outcomes.stream().filter(Outcome.Duplicate.class::isInstance).count(), outcomes.toString());
        DispatcherTest.await("the reminder", () -> count(DeliveryStatus.DELIVERED) == 2);
        assertEquals(List.of(original.ts()), topLevel().stream().map(LocalSlackServer.Message::ts).toList(),
                "one message per incident");
        List<LocalSlackServer.Message> thread = slack.thread(original.channel(), original.ts());
        assertEquals(1, thread.size(), "the reminder is a reply under the original");
        assertTrue(thread.getFirst().visibleText().startsWith("[FIRING:2] GpuHot"), thread.getFirst().visibleText());
        assertTrue(thread.getFirst().visibleText().contains("GPU 1 is hot"), thread.getFirst().visibleText());
        assertEquals(1, topLevel().getFirst().updates(), "the original shows the current state");

        // the group resolves: the original turns resolved in place, with the resolved line in the same thread
        clock.advance(Duration.ofMinutes(1));
        assertInstanceOf(Outcome.Accepted.class, ingest.ingest(RESOLVED));
        DispatcherTest.await("the resolve", () -> count(DeliveryStatus.DELIVERED) == 3);
        LocalSlackServer.Message resolved = topLevel().getFirst();
        assertEquals(List.of(original.ts()), topLevel().stream().map(LocalSlackServer.Message::ts).toList());
        assertTrue(resolved.visibleText().startsWith("[RESOLVED] GpuHot"), resolved.visibleText());
        thread = slack.thread(original.channel(), original.ts());
        assertEquals(2, thread.size());
        assertEquals(":large_green_circle: Resolved: *GpuHot*, 2 of 2 alerts resolved.",
                thread.getLast().text());
        assertEquals(0, count(DeliveryStatus.PENDING) + count(DeliveryStatus.DEAD));
    }

    @Test
    void aCopyJustInsideTheWindowIsADuplicateAndJustAfterItAReminder() throws Exception {
        assertInstanceOf(Outcome.Accepted.class, ingest.ingest(FIRING));
        DispatcherTest.await("the first message", () -> count(DeliveryStatus.DELIVERED) == 1);
        // the test clock also moves with real time, so stop a second short of the window
        clock.advance(Duration.ofMinutes(5).minusSeconds(1));
        assertInstanceOf(Outcome.Duplicate.class, ingest.ingest(FIRING));
        clock.advance(Duration.ofSeconds(1));
        assertInstanceOf(Outcome.Accepted.class, ingest.ingest(FIRING));
        DispatcherTest.await("the reminder", () -> count(DeliveryStatus.DELIVERED) == 2);
        assertEquals(1, topLevel().size());
        assertEquals(1, slack.thread(topLevel().getFirst().channel(), topLevel().getFirst().ts()).size());
    }
}
