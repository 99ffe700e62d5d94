package dev.gpuwatch.receiver.deliver.slack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import dev.gpuwatch.receiver.enrich.LiveView;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The graph goes into the new message's thread through the external upload, once, and never costs the message. */
class SlackGraphUploadTest {

    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 42, 43, 44};

    @TempDir
    Path dir;
    private LocalSlackServer server;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        server = LocalSlackServer.start(0);
        Path token = Files.writeString(dir.resolve("token"), server.token());
        channel = SlackChannel.create(SlackSettings.bot(token.toString(), "", "#alerts", server.apiUrl()), Templates.defaults());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static EnrichedNotification withGraph(String status) {
        return Fixtures.enrich(Fixtures.notification(status, List.of(Fixtures.xid(status, "node-1", "0"))))
                .withLive(new LiveView(Optional.of(new LiveView.Graph(PNG, "gpuxiderror-20261204-101500.png",
                        "GpuXidError: up == 0", "GpuXidError over the last 60 minutes", Optional.empty())),
                        List.of(new LiveView.Context("Top processes on this GPU (memory)", List.of("python3 4242: 65 GiB")))));
    }

    @Test
    void theGraphIsSharedIntoTheNewMessagesThreadWithItsBytes() {
        Receipt receipt = assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(Fixtures.delivery("d-1", withGraph("firing"), Optional.empty()))).receipt();
        LocalSlackServer.Message posted = server.messages().getFirst();
        List<LocalSlackServer.SharedFile> files = server.files(posted.channel(), posted.ts());
        assertEquals(1, files.size(), server.files().toString());
        assertArrayEquals(PNG, files.getFirst().bytes());
        assertEquals("GpuXidError: up == 0", files.getFirst().title());
        assertEquals(receipt.get("ts"), Optional.of(posted.ts()), "the receipt is the message, not the file's reply");
        assertTrue(posted.visibleText().contains("*Top processes on this GPU (memory)*\npython3 4242: 65 GiB"),
                posted.visibleText());

        channel.deliver(Fixtures.delivery("d-2", withGraph("resolved"), Optional.of(receipt)));
        assertEquals(1, server.files().size(), "a resolve adds no second graph");
    }

    @Test
    void aFailedUploadLeavesTheMessageDeliveredOnce() {
        server.revokeScope("files:write");
        DeliveryOutcome outcome = channel.deliver(Fixtures.delivery("d-1", withGraph("firing"), Optional.empty()));
        assertInstanceOf(DeliveryOutcome.Delivered.class, outcome, "not a retry that would post it again");
        assertEquals(1, server.messages().size());
        assertTrue(server.files().isEmpty());
    }

    @Test
    void aDigestCarriesNoGraph() {
        EnrichedNotification other = Fixtures.enrich(Fixtures.notification("firing",
                List.of(Fixtures.xid("firing", "node-2", "1"))));
        channel.deliver(new Delivery("digest-1", "digest", List.of(withGraph("firing"), other), Optional.empty()));
        assertTrue(server.files().isEmpty());
    }
}
