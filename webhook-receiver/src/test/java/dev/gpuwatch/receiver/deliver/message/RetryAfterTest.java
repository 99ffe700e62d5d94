package dev.gpuwatch.receiver.deliver.message;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryAfterTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);

    private static Optional<Duration> parse(String header) {
        return RetryAfter.parse(header, CLOCK);
    }

    @Test
    void deltaSeconds() {
        assertEquals(Optional.of(Duration.ofSeconds(30)), parse("30"));
        assertEquals(Optional.of(Duration.ZERO), parse("0"));
        assertEquals(Optional.of(Duration.ofSeconds(86_400)), parse(" 86400 "));
    }

    @Test
    void moreSecondsThanALongHoldsIsStillALongWaitNotGarbage() {
        // the dispatcher caps it at backoff_max; dropping it would retry a throttled target at once
        assertEquals(Optional.of(Duration.ofSeconds(Long.MAX_VALUE)), parse("9223372036854775807"));
        assertEquals(Optional.of(Duration.ofSeconds(Long.MAX_VALUE)), parse("99999999999999999999999"));
    }

    @Test
    void httpDate() {
        assertEquals(Optional.of(Duration.ofSeconds(90)), parse("Sun, 01 Jun 2025 12:01:30 GMT"));
        assertEquals(Optional.of(Duration.ZERO), parse("Sun, 01 Jun 2025 11:00:00 GMT"), "a date past is now");
    }

    @Test
    void garbageNegativeAndSignedAreIgnored() {
        for (String bad : new String[] {"", "  ", "-5", "+5", "1.5", "5s", "0x10", "soon", "Sun, 32 Jun 2025 12:00:00 GMT",
                "\u0661\u0662"}) {
            assertEquals(Optional.empty(), parse(bad), bad);
        }
    }
}
