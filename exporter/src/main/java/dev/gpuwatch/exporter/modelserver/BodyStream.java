package dev.gpuwatch.exporter.modelserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response body read as it arrives, pulled by the poll's own thread: the client hands over one list of buffers
 * at a time and is asked for the next only when the reader has started on it, so at most two of its lists (a few
 * tens of KiB) are held whatever the body's size. Every read waits at most until the poll's deadline: a body that
 * trickles ends with {@link DeadlinePassed} at the deadline, and the subscription is cancelled (the client drops
 * the connection). {@link #close} cancels it too, so a reader that stops early never downloads the rest.
 */
final class BodyStream extends InputStream implements HttpResponse.BodySubscriber<InputStream> {

    /** The deadline passed while the body was still arriving. */
    static final class DeadlinePassed extends HttpTimeoutException {
        DeadlinePassed() {
            super("the body did not arrive within the deadline");
        }
    }

    private record Failed(Throwable cause) {}

    private static final Object END = new Object();

    private final long deadlineNanos;
    private final BlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
    private volatile Flow.Subscription subscription;
    private Iterator<ByteBuffer> list = List.<ByteBuffer>of().iterator();
    private ByteBuffer current = ByteBuffer.allocate(0);
    private boolean ended;
    private boolean closed;

    BodyStream(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    @Override
    public CompletionStage<InputStream> getBody() {
        return CompletableFuture.completedFuture(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        arrived.add(item);
    }

    @Override
    public void onError(Throwable t) {
        arrived.add(new Failed(t));
    }

    @Override
    public void onComplete() {
        arrived.add(END);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.remaining());
        current.get(b, off, n);
        return n;
    }

    /** Makes {@code current} hold unread bytes; false at the end of the body. */
    private boolean fill() throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        while (!current.hasRemaining()) {
            if (list.hasNext()) {
                current = list.next();
                continue;
            }
            if (ended) {
                return false;
            }
            Object item = take();
            if (item == END) {
                ended = true;
            } else if (item instanceof Failed f) {
                ended = true;
                throw f.cause() instanceof IOException io ? io : new IOException(f.cause());
            } else {
                @SuppressWarnings("unchecked")
                List<ByteBuffer> buffers = (List<ByteBuffer>) item;
                list = buffers.iterator();
                subscription.request(1); // the next list may arrive while this one is read
            }
        }
        return true;
    }

    private Object take() throws IOException {
        long left = deadlineNanos - System.nanoTime();
        Object item;
        try {
            item = left > 0 ? arrived.poll(left, TimeUnit.NANOSECONDS) : arrived.poll();
        } catch (InterruptedException e) {
            cancel();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the body");
        }
        if (item == null) {
            cancel();
            throw new DeadlinePassed();
        }
        return item;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (!ended) {
                cancel();
            }
        }
    }

    private void cancel() {
        ended = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        arrived.clear();
    }
}
