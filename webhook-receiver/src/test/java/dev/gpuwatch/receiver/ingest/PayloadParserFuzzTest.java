package dev.gpuwatch.receiver.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the payload parser with Jazzer. In the ordinary test run this replays the corpus kept
 * in {@code src/test/resources/.../PayloadParserFuzzTestInputs/parse} (regression mode); the {@code fuzz}
 * execution of the module's surefire runs it with {@code JAZZER_FUZZ=1} for a bounded time, and
 * {@code bench/fuzz.sh} runs it longer. Whatever the bytes, the parser answers with a result, never an
 * exception, and a notification it accepts has a stable idempotency key.
 */
class PayloadParserFuzzTest {

    private static final PayloadParser PARSER = new PayloadParser();

    @FuzzTest(maxDuration = "20s")
    void parse(byte[] body) {
        PayloadParser.Result result = PARSER.parse(body);
        switch (result) {
            case PayloadParser.Result.Invalid invalid -> assertFalse(invalid.error().isBlank(), "an error says why");
            case PayloadParser.Result.Parsed parsed -> {
                String key = PayloadParser.idempotencyKey(parsed.notification());
                assertTrue(key.matches("[0-9a-f]{64}"), key);
                // the same bytes give the same notification and key: retries and HA copies must agree
                PayloadParser.Result again = PARSER.parse(body);
                assertEquals(result, again);
                assertEquals(key, PayloadParser.idempotencyKey(((PayloadParser.Result.Parsed) again).notification()));
            }
        }
    }
}
