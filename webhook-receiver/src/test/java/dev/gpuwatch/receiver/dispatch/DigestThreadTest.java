package dev.gpuwatch.receiver.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.deliver.email.EmailChannel;
import dev.gpuwatch.receiver.deliver.email.EmailSettings;
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
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * gpuwatch issue 4: a group first announced only inside a storm digest resolves (or fires again) in the digest's
 * thread, on Slack and by email, never as a stray new message and never by rewriting the digest; also after a
 * restart between the digest and the resolve. The whole path: ingest, the real store, the dispatcher, the Slack
 * channel against the local Slack and the email channel against GreenMail.
 */
class DigestThreadTest {

    private static final String SLACK = "oncall/slack/0";
    private static final String EMAIL = "oncall/email/0";
    private static final int STORM = 12;  // more than the digest threshold of 10

    @RegisterExtension
    static final GreenMailExtension MAIL = new GreenMailExtension(
            new ServerSetup[] {ServerSetupTest.SMTP.dynamicPort()});

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
        open();
    }

    @AfterEach
    void stop() {
        shutDown();
        slack.close();
    }

    /** The store, the ingest and a dispatcher that is not started yet, so a storm can queue up first. */
    private void open() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), slack.token() + "\n");
        var slackChannel = SlackChannel.create(SlackSettings.bot(token.toString(), "", "#alerts", slack.apiUrl()),
                Templates.defaults());
        var emailChannel = EmailChannel.create(new EmailSettings("127.0.0.1:" + MAIL.getSmtp().getPort(),
                "gpuwatch@alerts.example", List.of("oncall@team.example"), "", "", "", "none", "gpuwatch.test",
                false), Templates.defaults());
        store = SqliteStore.open(dir.resolve("r.db"), 100, OptionalLong.empty(), Duration.ofMinutes(5));
        ReceiverMetrics metrics = new ReceiverMetrics(new PrometheusRegistry(), store);
        // both channels rate-limited, fast enough that the messages after the storm do not slow the test
        var settings = new DispatchSettings(Duration.ofHours(6), Duration.ofMillis(10), Duration.ofMillis(40),
                Map.of("slack", 20.0, "email", 20.0), 10, Duration.ofMinutes(2));
        dispatcher = new Dispatcher(store, List.of(new ConfiguredChannel(SLACK, "oncall", slackChannel),
                new ConfiguredChannel(EMAIL, "oncall", emailChannel)),
                CatalogEnricher.create(RunbookCatalog.defaults(), alertname -> {}), settings, metrics, clock,
                new SplittableRandom(7));
        ingest = new IngestService(new RoutingTree(new RoutingTree.Route(Optional.of("oncall"), List.of(), false,
                List.of())), Map.of("oncall", List.of(new NotificationStore.Target("oncall", SLACK, "slack"),
                        new NotificationStore.Target("oncall", EMAIL, "email"))),
                store, settings.maxAge(), clock, metrics);
    }

    private void shutDown() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private void send(String group, String status, int alerts) {
        assertInstanceOf(Outcome.Accepted.class,
                ingest.ingest(Payloads.bytes(Payloads.notification(group, status, alerts))));
    }

    private long delivered(String integration) {
        return store.countByIntegration(DeliveryStatus.DELIVERED).getOrDefault(integration, 0L);
    }

    private void awaitDelivered(long each) throws InterruptedException {
        DispatcherTest.await(each + " deliveries per channel", () -> delivered("slack") == each && delivered("email") == each);
        assertEquals(0, store.countByIntegration(DeliveryStatus.DEAD).values().stream().mapToLong(Long::longValue).sum());
    }

    private List<LocalSlackServer.Message> topLevel() {
        return slack.messages().stream().filter(m -> m.threadTs().isEmpty()).toList();
    }

    /** A storm of {@value #STORM} groups, queued before the dispatcher starts: one digest per channel. */
    private LocalSlackServer.Message storm() throws Exception {
        for (int i = 0; i < STORM; i++) {
            send("Storm" + i, "firing", 2);
        }
        dispatcher.start();
        awaitDelivered(STORM);
        List<LocalSlackServer.Message> top = topLevel();
        assertEquals(1, top.size(), "one digest instead of " + STORM + " messages");
        assertTrue(top.getFirst().visibleText().contains("Storm3"), top.getFirst().visibleText());
        assertEquals(1, MAIL.getReceivedMessages().length, "one digest mail");
        return top.getFirst();
    }

    private static String header(MimeMessage m, String name) throws Exception {
        return Optional.ofNullable(m.getHeader(name, null)).orElse("");
    }

    @Test
    void aGroupFirstSentInADigestResolvesAndFiresAgainInTheDigestsThread() throws Exception {
        LocalSlackServer.Message digest = storm();
        MimeMessage digestMail = MAIL.getReceivedMessages()[0];

        send("Storm3", "resolved", 2);
        awaitDelivered(STORM + 1);
        assertEquals(List.of(digest.ts()), topLevel().stream().map(LocalSlackServer.Message::ts).toList(),
                "no stray top-level message");
        List<LocalSlackServer.Message> thread = slack.thread(digest.channel(), digest.ts());
        assertEquals(1, thread.size(), "the resolve is a reply under the digest");
        assertTrue(thread.getFirst().visibleText().startsWith("[RESOLVED] Storm3"), thread.getFirst().visibleText());
        LocalSlackServer.Message digestNow = topLevel().getFirst();
        assertEquals(0, digestNow.updates(), "the digest is not rewritten with one group's message");
        assertEquals(digest.visibleText(), digestNow.visibleText());

        MimeMessage resolvedMail = MAIL.getReceivedMessages()[1];
        assertEquals(header(digestMail, "Message-ID"), header(resolvedMail, "In-Reply-To"));
        assertEquals("Re: " + digestMail.getSubject(), resolvedMail.getSubject());

        // another group of the digest fires again (an alert joined): the whole message, in the same thread
        send("Storm5", "firing", 3);
        awaitDelivered(STORM + 2);
        assertEquals(1, topLevel().size());
        thread = slack.thread(digest.channel(), digest.ts());
        assertEquals(2, thread.size());
        assertTrue(thread.getLast().visibleText().startsWith("[FIRING:3] Storm5"), thread.getLast().visibleText());
        assertEquals(0, topLevel().getFirst().updates());
        assertEquals(header(digestMail, "Message-ID"), header(MAIL.getReceivedMessages()[2], "In-Reply-To"));

        // and then resolves: still the digest's thread, as the group has no message of its own
        send("Storm5", "resolved", 3);
        awaitDelivered(STORM + 3);
        assertEquals(1, topLevel().size());
        thread = slack.thread(digest.channel(), digest.ts());
        assertEquals(3, thread.size());
        assertTrue(thread.getLast().visibleText().startsWith("[RESOLVED] Storm5"), thread.getLast().visibleText());
        assertEquals(0, topLevel().getFirst().updates());
        assertEquals(header(digestMail, "Message-ID"), header(MAIL.getReceivedMessages()[3], "In-Reply-To"));
    }

    @Test
    void aGroupOutsideAnyDigestStillResolvesInPlace() throws Exception {
        LocalSlackServer.Message digest = storm();

        send("Solo", "firing", 1);
        awaitDelivered(STORM + 1);
        List<LocalSlackServer.Message> top = topLevel();
        assertEquals(2, top.size(), "a group of its own gets a message of its own");
        LocalSlackServer.Message solo = top.getLast();
        assertTrue(solo.visibleText().startsWith("[FIRING:1] Solo"), solo.visibleText());
        MimeMessage soloMail = MAIL.getReceivedMessages()[1];
        assertFalse(soloMail.getSubject().startsWith("Re: "), soloMail.getSubject());

        send("Solo", "resolved", 1);
        awaitDelivered(STORM + 2);
        top = topLevel();
        assertEquals(2, top.size());
        assertEquals(1, top.getLast().updates(), "updated in place");
        assertTrue(top.getLast().visibleText().startsWith("[RESOLVED] Solo"), top.getLast().visibleText());
        assertEquals(1, slack.thread(solo.channel(), solo.ts()).size());
        assertEquals(0, slack.thread(digest.channel(), digest.ts()).size(), "nothing under the digest");
        assertEquals(0, top.getFirst().updates());
        assertEquals(header(soloMail, "Message-ID"), header(MAIL.getReceivedMessages()[2], "In-Reply-To"));
    }

    @Test
    void theDigestReceiptsSurviveARestart() throws Exception {
        LocalSlackServer.Message digest = storm();
        MimeMessage digestMail = MAIL.getReceivedMessages()[0];
        shutDown();

        open();  // a new store and dispatcher know only what the file kept
        dispatcher.start();
        send("Storm7", "resolved", 2);
        awaitDelivered(STORM + 1);
        assertEquals(1, topLevel().size());
        List<LocalSlackServer.Message> thread = slack.thread(digest.channel(), digest.ts());
        assertEquals(1, thread.size());
        assertTrue(thread.getFirst().visibleText().startsWith("[RESOLVED] Storm7"), thread.getFirst().visibleText());
        assertEquals(0, topLevel().getFirst().updates());
        assertEquals(header(digestMail, "Message-ID"), header(MAIL.getReceivedMessages()[1], "In-Reply-To"));
    }
}
