package dev.gpuwatch.exporter.scrape;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * One gzip member (RFC 1952) written from pieces: {@link DeflateSegment}s compressed earlier, spliced in as they
 * are, and text compressed here. Any gzip reader sees one ordinary member, so no client needs to support
 * concatenated members. The checksum covers the uncompressed text of every piece.
 */
final class SplicedGzip implements AutoCloseable {
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    /** An empty final block with fixed codes: BFINAL 1, BTYPE 01, end-of-block; what ends the deflate stream. */
    private static final byte[] LAST_BLOCK = {0x03, 0x00};

    private final OutputStream out;
    private final CRC32 crc = new CRC32();
    private long length;
    private Deflater deflater; // for text compressed here; created on first use

    SplicedGzip(OutputStream out) throws IOException {
        this.out = out;
        out.write(HEADER);
    }

    /** Text compressed earlier by {@link DeflateSegment}; {@code text} is what it decompresses to. */
    void writeSegment(byte[] segment, byte[] text) throws IOException {
        out.write(segment);
        crc.update(text);
        length += text.length;
    }

    /** Text to compress now. */
    void write(byte[] text) throws IOException {
        if (text.length == 0) {
            return;
        }
        if (deflater == null) {
            deflater = new Deflater(DeflateSegment.SCRAPE_LEVEL, true);
        }
        writeSegment(DeflateSegment.compress(text, deflater), text);
    }

    /** Ends the deflate stream and writes the trailer; does not close the underlying stream. */
    void finish() throws IOException {
        out.write(LAST_BLOCK);
        int c = (int) crc.getValue();
        int size = (int) length; // ISIZE is the length modulo 2^32
        out.write(new byte[] {(byte) c, (byte) (c >>> 8), (byte) (c >>> 16), (byte) (c >>> 24),
                (byte) size, (byte) (size >>> 8), (byte) (size >>> 16), (byte) (size >>> 24)});
    }

    /** Frees the deflater's native memory; the underlying stream stays open. */
    @Override
    public void close() {
        if (deflater != null) {
            deflater.end();
        }
    }
}
