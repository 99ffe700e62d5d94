package dev.gpuwatch.receiver.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.store.NotificationStore.DeliveryState;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryStatus;
import dev.gpuwatch.receiver.store.NotificationStore.StoredNotification;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The templates without a browser: what an alert's sender controls is escaped, and times read as UTC and age. */
class InboxPagesTest {

    private static final Instant NOW = Instant.parse("2026-12-04T03:12:09Z");
    private static final String HOSTILE = "<script>alert(1)</script>\" onmouseover='x' `=";

    @Test
    void labelsAnnotationsAndErrorsFromTheSenderAreEscaped() {
        String body = """
                {"version":"4","groupKey":"{}:{alertname=\\"X\\"}","truncatedAlerts":0,"status":"firing",\
                "receiver":"r","groupLabels":{"team":"%1$s"},"commonLabels":{"team":"%1$s"},"commonAnnotations":{},\
                "externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"%1$s","team":"%1$s"},\
                "annotations":{"summary":"%1$s"},"startsAt":"2026-12-04T03:00:00Z","endsAt":"0001-01-01T00:00:00Z",\
                "generatorURL":"javascript:alert(1)","fingerprint":"f"}]}"""
                .formatted(HOSTILE.replace("\"", "\\\""));
        var delivery = new DeliveryState(7, "r", "r/slack/0", "slack", DeliveryStatus.DEAD, 3, NOW, HOSTILE,
                Optional.of(NOW), Optional.empty());
        var stored = new StoredNotification(1, "{}:{alertname=\"X\"}", "firing", NOW.minusSeconds(60),
                body.getBytes(StandardCharsets.UTF_8), List.of(delivery));
        Views views = new Views();
        Pages pages = new Pages();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("n", views.row(stored, NOW));
        model.put("alerts", views.alerts(views.parse(stored).orElseThrow(), NOW));
        model.put("unreadable", false);
        model.put("common", List.of());
        model.put("deliveries", views.histories(stored, List.of(), NOW));
        model.put("flash", "");
        String page = pages.render("notification", "Notification 1", "../", "", Map.of(), model);
        assertFalse(page.contains("<script>"), page);
        assertFalse(page.contains("onmouseover='x'"), page);
        assertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover&#x3D;&#39;x&#39; &#x60;&#x3D;"),
                page);
        assertFalse(page.contains("href=\"javascript:"), "the generator URL is shown as text, never a link");
        assertTrue(page.contains("Replay delivery 7"), "a dead delivery has its Replay button");
        assertTrue(page.contains("2026-12-04 03:11:09 UTC"), page);
        assertTrue(page.contains("1 min ago"), page);
    }

    @Test
    void theNavMarksThePageAndCountsTheDeadLetters() {
        String page = new Pages().render("dead-letters", "Dead letters", "", "dead-letters", Map.of("dead-letters", 2L),
                Map.of("rows", List.of(), "flash", ""));
        assertTrue(page.contains("<a href=\"dead-letters\" class=\"current\" aria-current=\"page\">Dead letters"
                + " <span class=\"count\">2</span></a>"), page);
        assertTrue(page.contains("<a href=\"./\">Notifications</a>"), page);
        assertTrue(page.contains("No dead letters"), page);
        String nested = new Pages().render("dead-letters", "x", "../", "", Map.of(), Map.of("rows", List.of(),
                "flash", ""));
        assertTrue(nested.contains("<a href=\"../route\">Route tester</a>")
                && nested.contains("href=\"../inbox.css\""), "links from a page one level down");
    }

    @Test
    void agesReadAsAPersonSaysThem() {
        assertEquals("just now", Times.relative(NOW, NOW));
        assertEquals("42 s ago", Times.relative(NOW.minusSeconds(42), NOW));
        assertEquals("5 min ago", Times.relative(NOW.minus(Duration.ofMinutes(5).plusSeconds(59)), NOW));
        assertEquals("3 h ago", Times.relative(NOW.minus(Duration.ofHours(3)), NOW));
        assertEquals("3 h 20 min ago", Times.relative(NOW.minus(Duration.ofMinutes(200)), NOW));
        assertEquals("2 d 4 h ago", Times.relative(NOW.minus(Duration.ofHours(52)), NOW));
        assertEquals("in 30 s", Times.relative(NOW.plusSeconds(30), NOW));
        assertEquals("2026-12-04 03:12:09 UTC", Times.show(NOW, NOW).utc());
    }
}
