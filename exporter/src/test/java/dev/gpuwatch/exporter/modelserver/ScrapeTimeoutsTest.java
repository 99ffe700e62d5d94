package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScrapeTimeoutsTest {
    @Test
    void clampsBelowTheSmallestScrapeTimeoutSeen() {
        ScrapeTimeouts t = new ScrapeTimeouts();
        assertEquals(Duration.ofSeconds(3), t.clamp(Duration.ofSeconds(3)));
        t.observe("10");
        assertEquals(Duration.ofSeconds(3), t.clamp(Duration.ofSeconds(3)));
        t.observe("2.5");
        t.observe("garbage");
        t.observe("-1");
        t.observe("5");
        assertEquals(Duration.ofSeconds(2), t.clamp(Duration.ofSeconds(3)));
        t.observe("0.01");
        assertEquals(Duration.ofMillis(100), t.clamp(Duration.ofSeconds(3)));
    }
}
