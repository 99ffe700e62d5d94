package dev.gpuwatch.receiver.deliver.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogChannelTest {

    @TempDir
    Path dir;

    @Test
    void oneLinePerDeliveryWithAlertStatusAndRunbook() throws Exception {
        var parsed = (PayloadParser.Result.Parsed) new PayloadParser().parse(Payloads.bytes(
                Payloads.notification("GpuHot", "firing", 2).replace("GPU 1 is hot", "GPU 1\\nis hot")));
        var n = parsed.notification();
        var alerts = List.of(
                new EnrichedAlert(n.alerts().get(0), Optional.of("https://runbooks/gpu-hot"), Optional.empty(),
                        List.of(), Optional.empty(), Optional.empty(), Optional.empty()),
                new EnrichedAlert(n.alerts().get(1), Optional.empty(), Optional.empty(), List.of(), Optional.empty(),
                        Optional.empty(), Optional.empty()));
        Path file = dir.resolve("out.log");
        var channel = LogChannel.create("oncall", new LogSettings(file.toString()));
        var outcome = channel.deliver(new Delivery("7", n.groupKey(), List.of(new EnrichedNotification(n, alerts)),
                Optional.empty()));
        assertInstanceOf(DeliveryOutcome.Delivered.class, outcome);
        assertEquals(List.of("delivery=7 receiver=oncall group={}:{alertname=\"GpuHot\"} status=firing alerts=2"
                + " | GpuHot firing fingerprint=" + n.alerts().get(0).fingerprint() + " runbook=https://runbooks/gpu-hot"
                + " | GpuHot firing fingerprint=" + n.alerts().get(1).fingerprint() + " runbook=none"),
                Files.readAllLines(file));
    }
}
