package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ScrapeTimeoutsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void clampsBelowTheSmallestScrapeTimeoutSeen() {
        ScrapeTimeouts t = new ScrapeTimeouts(now::get);
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

    @Test
    void oneTinyTimeoutStopsCountingWhileNormalScrapesGoOn() {
        ScrapeTimeouts t = new ScrapeTimeouts(now::get);
        t.observe("0.001"); // a curl with a silly header
        assertEquals(Duration.ofMillis(100), t.clamp(Duration.ofMillis(300)), "the floor holds");
        for (int i = 0; i < 8; i++) { // a Prometheus with scrape_timeout 10s, every 15 s, for two minutes
            advance(Duration.ofSeconds(15));
            t.observe("10");
        }
        assertEquals(Duration.ofMillis(300), t.clamp(Duration.ofMillis(300)));
        assertEquals(Duration.ofSeconds(8), t.clamp(Duration.ofSeconds(9)), "the scraper that goes on still clamps");
    }

    @Test
    void aScraperThatKeepsScrapingKeepsItsClampAndOneThatStopsLosesIt() {
        ScrapeTimeouts t = new ScrapeTimeouts(now::get);
        for (int i = 0; i < 10; i++) { // scrape_timeout 1s, every minute
            t.observe("1");
            assertEquals(Duration.ofMillis(800), t.clamp(Duration.ofSeconds(3)));
            advance(Duration.ofSeconds(59));
            assertEquals(Duration.ofMillis(800), t.clamp(Duration.ofSeconds(3)), "between two scrapes");
            advance(Duration.ofSeconds(1));
        }
        advance(ScrapeTimeouts.SLOT.multipliedBy(2));
        assertEquals(Duration.ofSeconds(3), t.clamp(Duration.ofSeconds(3)));
    }
}
