package dev.gpuwatch.receiver.deliver.message;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TrimTest {

    @Test
    void cutsToTheByteLimitWithTheMarkerAndNeverInsideACharacter() {
        assertEquals("short", Trim.toBytes("short", 32));
        String cut = Trim.toBytes("é".repeat(100), 64);
        assertEquals("é".repeat(20) + "…[truncated 160 bytes]", cut);
        assertEquals(64, cut.getBytes(StandardCharsets.UTF_8).length);
        assertEquals("😀".repeat(10) + "…[truncated 360 bytes]", Trim.toBytes("😀".repeat(100), 64));
    }

    @Test
    void cutsToTheCharacterLimitWithoutSplittingASurrogatePair() {
        assertEquals("a".repeat(29) + "…[truncated 71 bytes]", Trim.toChars("a".repeat(100), 51));
        // the limit falls inside a pair: the whole pair goes
        assertEquals("😀".repeat(14) + "…[truncated 141 bytes]", Trim.toChars("😀".repeat(49) + "a", 51));
    }

    @Test
    void oneLineTurnsEveryLineBreakAndItsBlanksIntoOneSpace() {
        assertEquals("a b c d e f", Trim.oneLine("a\nb \r\n  c\u2028d\u2029e\u0085f"));
    }
}
