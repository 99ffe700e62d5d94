package dev.gpuwatch.exporter.scrape;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

/**
 * Segments compressed at different times, spliced with text compressed on the spot, make one valid gzip member:
 * checked by a reader that accepts exactly one member and nothing after it, as strict as any client could be.
 */
class SplicedGzipTest {

    @Test
    void segmentsAndFreshTextMakeOneMember() throws Exception {
        byte[] a = text("inference_requests_running{model=\"m%d\",server=\"vllm\",target=\"t\"} %d.0\n", 5000);
        byte[] b = text("gpu_temperature_celsius{gpu=\"%d\"} %d.0\n", 300);
        byte[] c = random(200_000); // incompressible and larger than the deflate buffer: the flush loop runs
        byte[] segmentA = DeflateSegment.compress(a);
        byte[] segmentC = DeflateSegment.compress(c);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SplicedGzip zip = new SplicedGzip(out)) {
            zip.write(b);
            zip.writeSegment(segmentA, a);
            zip.write(new byte[0]);
            zip.write(b); // compressed on the spot twice: each piece must stand on its own
            zip.writeSegment(segmentC, c);
            zip.writeSegment(segmentA, a); // the same cached segment twice
            zip.finish();
        }
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (byte[] piece : new byte[][] {b, a, b, c, a}) {
            expected.write(piece);
        }
        assertArrayEquals(expected.toByteArray(), strictGunzip(out.toByteArray()));
        assertTrue(segmentA.length < a.length / 5, "the cached text is really compressed: " + segmentA.length);
    }

    @Test
    void emptyBodyIsAValidMember() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SplicedGzip zip = new SplicedGzip(out)) {
            zip.finish();
        }
        assertEquals(0, strictGunzip(out.toByteArray()).length);
    }

    @Test
    void theStrictReaderRejectsTwoMembers() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 2; i++) {
            try (SplicedGzip zip = new SplicedGzip(out)) {
                zip.write("x\n".getBytes(StandardCharsets.US_ASCII));
                zip.finish();
            }
        }
        assertThrows(IOException.class, () -> strictGunzip(out.toByteArray()));
    }

    /** Decompresses exactly one gzip member with no trailing bytes, checking CRC-32 and ISIZE. */
    static byte[] strictGunzip(byte[] gz) throws IOException {
        if (gz.length < 18 || (gz[0] & 0xff) != 0x1f || (gz[1] & 0xff) != 0x8b || gz[2] != 8 || gz[3] != 0) {
            throw new IOException("not a plain gzip header");
        }
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(gz, 10, gz.length - 10);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IOException("deflate stream ends without a final block");
                }
                out.write(buffer, 0, n);
            }
            if (inflater.getRemaining() != 8) {
                throw new IOException(inflater.getRemaining() + " bytes after the deflate stream, not the 8-byte trailer");
            }
            ByteBuffer trailer = ByteBuffer.wrap(gz, gz.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN);
            byte[] plain = out.toByteArray();
            CRC32 crc = new CRC32();
            crc.update(plain);
            if (trailer.getInt() != (int) crc.getValue() || trailer.getInt() != plain.length) {
                throw new IOException("gzip trailer does not match the data");
            }
            return plain;
        } catch (DataFormatException e) {
            throw new IOException(e);
        } finally {
            inflater.end();
        }
    }

    private static byte[] text(String line, int lines) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            s.append(line.formatted(i % 47, i));
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(7).nextBytes(b);
        return b;
    }
}
