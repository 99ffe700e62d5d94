package dev.gpuwatch.receiver.deliver.log;

import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;

/**
 * The default sink: one line per delivery, on stdout or appended to a file, naming each alert with its status
 * and runbook. It lets a first try of the receiver show what would be sent without any credentials, and gives
 * tests a sink they can read back.
 */
public final class LogChannel implements Channel {

    private final String receiver;
    private final Optional<Path> file;
    private final PrintStream stdout;

    private LogChannel(String receiver, Optional<Path> file, PrintStream stdout) {
        this.receiver = receiver;
        this.file = file;
        this.stdout = stdout;
    }

    public static LogChannel create(String receiver, LogSettings settings) {
        return new LogChannel(receiver, Optional.of(settings.file()).filter(f -> !f.isBlank()).map(Path::of),
                System.out);
    }

    @Override
    public String integration() {
        return "log";
    }

    @Override
    public DeliveryOutcome deliver(Delivery delivery) {
        String line = format(receiver, delivery);
        if (file.isEmpty()) {
            synchronized (stdout) {
                stdout.println(line);
                stdout.flush();
            }
            return new DeliveryOutcome.Delivered(new Receipt(Map.of()));
        }
        // one write() call per line, opened in append mode: lines of concurrent deliveries never interleave
        try (OutputStream out = Files.newOutputStream(file.get(), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new DeliveryOutcome.RetryLater("cannot append to " + file.get() + ": " + e.getMessage(),
                    Optional.empty());
        }
        return new DeliveryOutcome.Delivered(new Receipt(Map.of()));
    }

    /** {@code delivery=7 receiver=default group=... status=firing alerts=2 | GpuHot firing runbook=... | ...} */
    static String format(String receiver, Delivery delivery) {
        StringBuilder b = new StringBuilder("delivery=").append(delivery.deliveryId())
                .append(" receiver=").append(receiver)
                .append(" group=").append(quote(delivery.groupKey()));
        if (delivery.isDigest()) {
            b.append(" digest=").append(delivery.notifications().size());
        }
        for (EnrichedNotification n : delivery.notifications()) {
            b.append(" status=").append(n.notification().status())
                    .append(" alerts=").append(n.alerts().size());
            for (EnrichedAlert a : n.alerts()) {
                b.append(" | ").append(quote(a.alert().alertName())).append(' ').append(a.alert().status())
                        .append(" fingerprint=").append(a.alert().fingerprint())
                        .append(" runbook=").append(a.runbookUrl().map(LogChannel::quote).orElse("none"));
            }
        }
        return b.toString();
    }

    /** Keeps a line a line: control characters from label values are escaped. */
    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString().contains(" ") ? '"' + b.toString().replace("\"", "\\\"") + '"' : b.toString();
    }
}
