package dev.gpuwatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizeTest {

    @ParameterizedTest
    @CsvSource({"0, 0", "1048576, 1048576", "512B, 512", "1KB, 1024", "1KiB, 1024", "8MiB, 8388608",
            "8MB, 8388608", "2GiB, 2147483648", "1TB, 1099511627776", "16mib, 16777216"})
    void parsesBytesAndPowersOf1024(String text, long bytes) {
        assertEquals(Optional.of(new ByteSize(bytes)), ByteSize.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5MB", "MB", "1XB", "9999999999PB", "1 M"})
    void refusesOthers(String text) {
        assertEquals(Optional.empty(), ByteSize.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"0, 0B", "1536, 1536B", "1024, 1KiB", "16777216, 16MiB"})
    void printsTheLargestExactUnit(long bytes, String text) {
        assertEquals(text, new ByteSize(bytes).toString());
    }
}
