package dev.gpuwatch.receiver.ingest;

import dev.gpuwatch.receiver.Payloads;
import java.util.function.Function;

/**
 * A rough timed loop, not a test: microseconds per parse of the ingest benchmark's payload (10 alerts, the shape of
 * bench/receiver/webhook.lua) by the streaming parser and by the tree-based reference, alternating rounds so both
 * see the same machine load. For guidance only; JMH under a quiet machine is the real measure.
 * Run: {@code java -cp <test classpath> dev.gpuwatch.receiver.ingest.PayloadParserTiming [rounds]}
 */
final class PayloadParserTiming {

    private PayloadParserTiming() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        boolean streamingOnly = args.length > 1 && args[1].equals("streaming-only"); // for a profiler
        byte[] body = Payloads.bytes(Payloads.notification("GpuHot", "firing", 10));
        PayloadParser streaming = new PayloadParser();
        ReferencePayloadParser tree = new ReferencePayloadParser();
        if (!streaming.parse(body).equals(tree.parse(body))) {
            throw new IllegalStateException("the parsers disagree on the timed payload");
        }
        System.out.printf("payload: %d bytes, 10 alerts%n", body.length);
        for (int i = 0; i < 3; i++) { // warm up before counting bytes
            time(streaming::parse, body);
            time(tree::parse, body);
        }
        System.out.printf("allocated per parse, same thread: streaming %d B, tree %d B%n",
                allocated(streaming::parse, body), allocated(tree::parse, body));
        System.out.printf("allocated per parse, a new virtual thread each (as Javalin serves): streaming %d B, tree %d B%n",
                allocatedInVirtualThreads(streaming::parse, body), allocatedInVirtualThreads(tree::parse, body));
        for (int round = 0; round < rounds; round++) {
            double s = time(streaming::parse, body);
            double t = streamingOnly ? Double.NaN : time(tree::parse, body);
            System.out.printf("round %2d: streaming %.2f us/parse, tree %.2f us/parse (%.2fx)%n", round, s, t, t / s);
        }
    }

    private static long allocated(Function<byte[], PayloadParser.Result> parse, byte[] body) {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int n = 10_000;
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < n; i++) {
            parse.apply(body);
        }
        return (threads.getCurrentThreadAllocatedBytes() - before) / n;
    }

    /**
     * Bytes allocated per parse in a fresh virtual thread each, thread-local buffer caches included, less what an
     * empty virtual thread costs. (A virtual thread cannot count its own allocation, so all threads are counted.)
     */
    private static long allocatedInVirtualThreads(Function<byte[], PayloadParser.Result> parse, byte[] body) {
        return allAllocatedInVirtualThreads(() -> parse.apply(body)) - allAllocatedInVirtualThreads(() -> {});
    }

    private static long allAllocatedInVirtualThreads(Runnable task) {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int n = 5_000;
        long before = threads.getTotalThreadAllocatedBytes();
        for (int i = 0; i < n; i++) {
            try {
                Thread.ofVirtual().start(task).join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        return (threads.getTotalThreadAllocatedBytes() - before) / n;
    }

    private static double time(Function<byte[], PayloadParser.Result> parse, byte[] body) {
        int n = 50_000;
        long sink = 0;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            // cheap to consume, unlike the record's hashCode, which would hash every map and alert
            sink += parse.apply(body) instanceof PayloadParser.Result.Parsed p ? p.notification().alerts().size() : 1;
        }
        long elapsed = System.nanoTime() - start;
        if (sink == 42) {
            System.out.print(""); // keeps the results alive
        }
        return elapsed / 1_000.0 / n;
    }
}
