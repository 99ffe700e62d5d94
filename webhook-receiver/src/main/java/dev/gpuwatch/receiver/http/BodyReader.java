package dev.gpuwatch.receiver.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.Semaphore;

/**
 * Reads request bodies into buffers that grow as bytes arrive, never by what {@code Content-Length} declares: a
 * client declaring 8 MiB and sending nothing must cost a few KiB, not 8 MiB of heap per connection. All bodies
 * being read share one budget of bytes; a body that would exceed it is refused (503, try later) rather than
 * letting slow senders exhaust the heap.
 */
final class BodyReader {

    /** What one read gave. */
    sealed interface Body {
        /** The body; {@link #release} gives its bytes back to the budget once it is no longer needed. */
        record Read(byte[] bytes, int reservedKib) implements Body {}

        record TooLarge() implements Body {}

        record OverBudget() implements Body {}
    }

    private static final int CHUNK = 8192;

    private final long maxBodyBytes;
    private final int budgetKib;
    private final Semaphore budget;

    /** @param budgetBytes the bytes all bodies being read at once may hold together */
    BodyReader(long maxBodyBytes, long budgetBytes) {
        this.maxBodyBytes = maxBodyBytes;
        this.budgetKib = (int) Math.clamp(budgetBytes / 1024, 1, Integer.MAX_VALUE);
        this.budget = new Semaphore(budgetKib);
    }

    Body read(InputStream in) throws IOException {
        byte[] chunk = new byte[CHUNK];
        byte[] body = new byte[0];
        int length = 0;
        int reserved = 0;
        boolean done = false;
        try {
            int n;
            while ((n = in.read(chunk)) >= 0) {
                if (length + (long) n > maxBodyBytes) {
                    return new Body.TooLarge();
                }
                if (length + n > body.length) {
                    int capacity = (int) Math.min(maxBodyBytes, Math.max(length + n, Math.max(CHUNK, 2L * body.length)));
                    int needKib = (capacity + 1023) / 1024 - reserved;
                    if (!budget.tryAcquire(needKib)) {
                        return new Body.OverBudget();
                    }
                    reserved += needKib;
                    body = Arrays.copyOf(body, capacity);
                }
                System.arraycopy(chunk, 0, body, length, n);
                length += n;
            }
            done = true;
            return new Body.Read(length == body.length ? body : Arrays.copyOf(body, length), reserved);
        } finally {
            if (!done) {
                budget.release(reserved);
            }
        }
    }

    void release(Body.Read read) {
        budget.release(read.reservedKib());
    }

    /** KiB held by bodies being read or not yet released: for tests. */
    int heldKib() {
        return budgetKib - budget.availablePermits();
    }
}
