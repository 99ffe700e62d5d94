package dev.gpuwatch.exporter.modelserver.exposition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of the text-format parser that reads every model server's /metrics. The ordinary test run
 * replays the corpus in {@code src/test/resources/.../TextFormatFuzzTestInputs/parse}; the module's {@code fuzz}
 * surefire execution runs it for 20 s with {@code JAZZER_FUZZ=1}. Whatever a server sends, the parser returns an
 * exposition within the series limit or refuses it with its own exception: nothing else escapes to the poller.
 */
class TextFormatFuzzTest {

    private static final int MAX_SERIES = 64;
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    @FuzzTest(maxDuration = "20s")
    void parse(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        Exposition exposition;
        try {
            exposition = TextFormat.parse(text, MAX_SERIES);
        } catch (ParseException | TextFormat.TooManySeriesException refused) {
            return;
        }
        assertTrue(exposition.size() <= MAX_SERIES, "at most the series limit: " + exposition.size());
        for (String name : exposition.sampleNames()) {
            assertTrue(NAME.matcher(name).matches(), name);
            for (Sample s : exposition.samples(name)) {
                assertEquals(name, s.name());
            }
        }
    }
}
