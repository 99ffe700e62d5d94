package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BodyReaderTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void aBodyCostsWhatArrivedNotWhatWasDeclared() throws Exception {
        BodyReader reader = new BodyReader(8 * MIB, 64 * 1024);
        var read = assertInstanceOf(BodyReader.Body.Read.class, reader.read(new ByteArrayInputStream(new byte[100])));
        assertEquals(100, read.bytes().length);
        assertEquals(8, reader.heldKib(), "one 8 KiB chunk, whatever Content-Length said");
        reader.release(read);
        assertEquals(0, reader.heldKib());
    }

    @Test
    void growsAsBytesArriveAndKeepsThemExactly() throws Exception {
        byte[] data = new byte[3 * (int) MIB + 17];
        new Random(1).nextBytes(data);
        BodyReader reader = new BodyReader(8 * MIB, 64 * MIB);
        var read = assertInstanceOf(BodyReader.Body.Read.class, reader.read(new ByteArrayInputStream(data)));
        assertArrayEquals(data, read.bytes());
        reader.release(read);
        assertEquals(0, reader.heldKib());
    }

    @Test
    void overTheLimitIsTooLargeAndOverTheBudgetIsRefusedForNow() throws Exception {
        BodyReader roomy = new BodyReader(MIB, 4 * MIB);
        assertInstanceOf(BodyReader.Body.TooLarge.class, roomy.read(new ByteArrayInputStream(new byte[(int) MIB + 1])));
        assertEquals(0, roomy.heldKib(), "a refused body gives its bytes back");
        BodyReader reader = new BodyReader(MIB, 64 * 1024);
        var held = assertInstanceOf(BodyReader.Body.Read.class, reader.read(new ByteArrayInputStream(new byte[40_000])));
        assertInstanceOf(BodyReader.Body.OverBudget.class, reader.read(new ByteArrayInputStream(new byte[40_000])));
        reader.release(held);
        assertTrue(reader.read(new ByteArrayInputStream(new byte[40_000])) instanceof BodyReader.Body.Read);
    }
}
