package dev.gpuwatch.exporter.scrape;

import java.io.ByteArrayOutputStream;
import java.util.zip.Deflater;

/**
 * Text compressed as a self-contained run of raw deflate blocks that ends on a byte boundary and is not final (a
 * sync flush, no finish). Such runs can be placed one after another inside one deflate stream, in any order and
 * between runs compressed at another time: none refers back to data before its own start, and each leaves the
 * bit stream aligned. This is how a scrape serves gzip without compressing the model-server text again: it was
 * compressed once per poll (pigz splices blocks compressed in parallel the same way).
 */
final class DeflateSegment {
    /**
     * For text compressed once per poll and served many times. BEST_SPEED too: the default level took three times
     * the CPU (4.3 ms instead of 1.3 ms for the 850 KB of the benchmark's 4 targets) on the polling thread, which
     * competes with scrapes on a small node, for 40 KB instead of 55 KB.
     */
    static final int CACHED_LEVEL = Deflater.BEST_SPEED;
    /** For text compressed on the scrape itself: most of the bytes are cached, so speed wins here. */
    static final int SCRAPE_LEVEL = Deflater.BEST_SPEED;

    private DeflateSegment() {}

    /** {@code text} as one segment, with a deflater of its own at {@link #CACHED_LEVEL}. */
    static byte[] compress(byte[] text) {
        Deflater deflater = new Deflater(CACHED_LEVEL, true);
        try {
            return compress(text, deflater);
        } finally {
            deflater.end();
        }
    }

    /**
     * {@code text} as one segment, with {@code deflater} (raw, created with {@code nowrap}), which is reset first so
     * that the segment refers to nothing compressed before it.
     */
    static byte[] compress(byte[] text, Deflater deflater) {
        deflater.reset();
        deflater.setInput(text);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, text.length / 4));
        byte[] buffer = new byte[Math.min(64 * 1024, Math.max(512, text.length / 2))];
        int n;
        do { // a sync flush that fills the buffer may have more to write (Deflater#deflate)
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
            out.write(buffer, 0, n);
        } while (n == buffer.length || !deflater.needsInput());
        return out.toByteArray();
    }
}
