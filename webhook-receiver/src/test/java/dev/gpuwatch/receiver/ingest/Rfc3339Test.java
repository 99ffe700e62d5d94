package dev.gpuwatch.receiver.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The fast path must mean exactly what {@link OffsetDateTime#parse} means, and refuse exactly what it refuses. */
class Rfc3339Test {

    @ParameterizedTest
    @ValueSource(strings = {
        "2025-06-01T12:00:00Z", "2025-06-01T12:00:00.123Z", "2025-06-01T12:00:00.1Z",
        "2025-06-01T12:00:00.123456789Z", "2025-06-01T12:00:00.000000001Z", "0001-01-01T00:00:00Z",
        "2025-06-01T12:00:00+02:00", "2025-06-01T12:00:00.5-07:30", "2025-06-01T00:30:00-00:00",
        "2024-02-29T23:59:59.999999999+14:00", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999Z",
        // not the fast path's shape, still valid: the full parser answers
        "2025-06-01t12:00:00z", "2025-06-01T12:00Z", "2025-06-01T12:00:00+02:00:30", "2025-06-01T12:00:00+18:00",
        "2025-06-01T12:00:00.Z",
    })
    void agreesWithTheJdkParser(String text) {
        assertEquals(OffsetDateTime.parse(text).toInstant(), Rfc3339.parse(text), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "yesterday", "2025-06-01", "2025-06-01T12:00:00", "2025-02-30T12:00:00Z",
        "2025-13-01T12:00:00Z", "2025-06-01T24:00:00Z", "2025-06-01T12:60:00Z", "2025-06-01T12:00:60Z",
        "2025-06-01T12:00:00.1234567891Z", "2025-06-01T12:00:00+2:00", "2025-06-01T12:00:00+19:00",
        "2025-06-01T12:00:00Zjunk", "2025-06-01 12:00:00Z", "+2025-06-01T12:00:00Z", "2025-06-01T12:0a:00Z",
        "２０２５-06-01T12:00:00Z",
    })
    void refusesWhatTheJdkParserRefuses(String text) {
        assertThrows(DateTimeParseException.class, () -> OffsetDateTime.parse(text), "the JDK accepts " + text);
        assertThrows(DateTimeParseException.class, () -> Rfc3339.parse(text), text);
    }

    @Test
    void agreesOnRandomInstantsAndOffsets() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 10_000; i++) {
            Instant t = Instant.ofEpochSecond(random.nextLong(-62_135_596_800L, 253_402_300_799L),
                    random.nextInt(4) == 0 ? 0 : random.nextInt(1_000_000_000));
            int offsetMinutes = random.nextInt(3) == 0 ? 0 : random.nextInt(-17 * 60, 17 * 60 + 1);
            String text = t.atOffset(java.time.ZoneOffset.ofTotalSeconds(offsetMinutes * 60)).toString();
            assertEquals(OffsetDateTime.parse(text).toInstant(), Rfc3339.parse(text), text);
        }
    }
}
