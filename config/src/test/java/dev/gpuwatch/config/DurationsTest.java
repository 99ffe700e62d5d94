package dev.gpuwatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
            "0, 0", "0s, 0", "500ms, 500", "5s, 5000", "1m30s, 90000", "1d, 86400000", "2w, 1209600000",
            "1y, 31536000000", "1y2w3d4h5m6s7ms, 33019506007", "90m, 5400000", "1h0m, 3600000"})
    void acceptsPrometheusGrammar(String text, long millis) {
        assertEquals(Optional.of(Duration.ofMillis(millis)), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "30s5m", "1s1s", "5", "-5s", "5 s", " 5s", "1.5s", "5S", "ms", "1m1y", "s5",
            "999999999999999999y"})
    void refusesWhatPrometheusRefuses(String text) {
        assertEquals(Optional.empty(), Durations.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"0, 0s", "250, 250ms", "90000, 1m30s", "604800000, 1w", "691200000, 1w1d", "31536000000, 1y"})
    void formatsAsPrometheusDoesAndReadsBack(long millis, String text) {
        assertEquals(text, Durations.format(Duration.ofMillis(millis)));
        assertEquals(Optional.of(Duration.ofMillis(millis)), Durations.parse(text));
    }
}
