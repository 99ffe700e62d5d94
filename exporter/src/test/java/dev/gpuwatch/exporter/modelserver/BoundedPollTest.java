package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.modelserver.adapter.Adapters;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.adapter.ServerAdapter;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What bounds one poll: bodies read as they arrive (gzip inflated on the way, the size limit on what was
 * inflated), label values capped for text and JSON alike, and no {@link Throwable} that leaves a target up with
 * its last values, nor a poller thread that dies unseen. No timing assertions: a trickling body meets a deadline
 * it cannot make whatever the machine's speed.
 */
class BoundedPollTest {
    private static final String GOOD = """
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{model_name="m"} 3.0
            # TYPE vllm:num_requests_waiting gauge
            vllm:num_requests_waiting{model_name="m"} 1.0
            """;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() throws Exception {
        release.countDown();
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
    }

    private FakeHttp server(FakeHttp.Behavior b) throws IOException {
        FakeHttp f = new FakeHttp(b);
        closing.add(f);
        return f;
    }

    private ModelServers module(InferenceSettings.Polling polling, TargetSettings... targets) {
        InferenceSettings s = new InferenceSettings(List.of(targets),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")), polling,
                new InferenceSettings.Attribution(false, Optional.empty()));
        ModelServers m = new ModelServers(s, List::of, Duration.ZERO);
        closing.add(m);
        return m;
    }

    private static InferenceSettings.Polling polling(long maxBytes, int maxLabel) {
        return new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofMillis(500), maxBytes, 100, maxLabel,
                false);
    }

    private TargetState poll(FakeHttp.Behavior b) throws IOException {
        return poll(ServerType.VLLM, b);
    }

    private TargetState poll(ServerType type, FakeHttp.Behavior b) throws IOException {
        FakeHttp f = server(b);
        ModelServers m = module(polling(1 << 20, 1024), target(type, "t", f.url()));
        return m.poller("t").orElseThrow().pollOnce();
    }

    static TargetSettings target(ServerType type, String name, String url) {
        URI u = URI.create(url);
        return new TargetSettings(name, type, u, TargetSettings.defaultMetricsUrl(type, u).map(x -> u.resolve("/metrics")),
                Duration.ofMillis(500), Optional.empty(), Map.of(), false, false);
    }

    private static byte[] gzip(byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(body);
        }
        return out.toByteArray();
    }

    private static void respond(OutputStream out, String headers, byte[] body) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n" + headers + "Content-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
    }

    /** Writes a chunked gzip body of {@code line} repeated, until the client goes away (or 10 GiB inflated). */
    private static void gzipBomb(OutputStream out, byte[] line) throws IOException {
        out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        OutputStream chunked = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len > 0) {
                    out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(b, off, len);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
            }
        };
        byte[] block = new byte[64 * 1024 / line.length * line.length];
        for (int i = 0; i < block.length; i++) {
            block[i] = line[i % line.length];
        }
        try (GZIPOutputStream z = new GZIPOutputStream(chunked, 8192)) {
            for (long inflated = 0; inflated < 10L << 30; inflated += block.length) {
                z.write(block);
            }
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void asksForGzipAndReadsItInflated() throws Exception {
        FakeHttp f = server((method, path, out) -> respond(out, "Content-Encoding: gzip\r\n",
                gzip(GOOD.getBytes(StandardCharsets.UTF_8))));
        ModelServers m = module(polling(1 << 20, 1024), target(ServerType.VLLM, "t", f.url()));
        assertTrue(m.poller("t").orElseThrow().pollOnce().up());
        assertTrue(f.lastHeaders.stream().anyMatch(h -> h.equalsIgnoreCase("Accept-Encoding: gzip")), f.lastHeaders.toString());
        assertTrue(Scrapes.scrape(m.collector())
                .contains("inference_requests_running{model=\"m\",server=\"vllm\",target=\"t\"} 3.0"));
    }

    @Test
    void theSizeLimitCountsInflatedBytes() throws Exception {
        // 1 MiB inflated from a few KiB sent: the limit is on what the parser would read
        byte[] line = "vllm:num_requests_running{model_name=\"m\"} 1\n".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[(1 << 20) / line.length * line.length + line.length];
        for (int i = 0; i < body.length; i++) {
            body[i] = line[i % line.length];
        }
        byte[] sent = gzip(body);
        assertTrue(sent.length < 1 << 16, "compressed to " + sent.length);
        assertEquals(Optional.of(Reason.TOO_LARGE), poll((method, path, out) ->
                respond(out, "Content-Encoding: gzip\r\n", sent)).lastError());
    }

    @Test
    void aGzipBombEndsAtTheLimit() throws Exception {
        byte[] line = "vllm:num_requests_running{model_name=\"m\"} 1\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(Optional.of(Reason.TOO_LARGE), poll((method, path, out) -> gzipBomb(out, line)).lastError());
    }

    @Test
    void gzipThatIsNotGzipIsAParseError() throws Exception {
        assertEquals(Optional.of(Reason.PARSE_ERROR), poll((method, path, out) ->
                respond(out, "Content-Encoding: gzip\r\n", GOOD.getBytes(StandardCharsets.UTF_8))).lastError());
    }

    @Test
    void anEncodingNotAskedForIsRefused() throws Exception {
        assertEquals(Optional.of(Reason.BAD_CONTENT_TYPE), poll((method, path, out) ->
                respond(out, "Content-Encoding: br\r\n", GOOD.getBytes(StandardCharsets.UTF_8))).lastError());
    }

    @Test
    void aLongLabelValueInTheTextFormatDownsTheTarget() throws Exception {
        String body = GOOD + "vllm:num_requests_running{model_name=\"" + "m".repeat(1025) + "\"} 1\n";
        assertEquals(Optional.of(Reason.LABEL_TOO_LONG), poll((method, path, out) ->
                FakeHttp.respond(out, 200, "text/plain", body)).lastError());
        String atTheLimit = GOOD.replace("model_name=\"m\"", "model_name=\"" + "m".repeat(1024) + "\"");
        assertTrue(poll((method, path, out) -> FakeHttp.respond(out, 200, "text/plain", atTheLimit)).up());
    }

    @Test
    void aTwoHundredKilobyteModelNameStopsBeforeTheLineIsHeld() throws Exception {
        // one line of 200 KB: longer than the line limit, refused as the label it is while it is still arriving
        String body = "vllm:num_requests_running{model_name=\"" + "m".repeat(200_000) + "\"} 1\n";
        assertEquals(Optional.of(Reason.LABEL_TOO_LONG), poll((method, path, out) ->
                FakeHttp.respond(out, 200, "text/plain", body)).lastError());
    }

    @Test
    void aLongModelNameFromJsonDownsTheTarget() throws Exception {
        String ps = "{\"models\":[{\"name\":\"" + "m".repeat(2000) + "\",\"size\":10,\"size_vram\":5}]}";
        assertEquals(Optional.of(Reason.LABEL_TOO_LONG), poll(ServerType.OLLAMA, (method, path, out) ->
                FakeHttp.respond(out, 200, "application/json", ps)).lastError());
    }

    @Test
    void jsonIsReadWithinTheSizeLimit() throws Exception {
        FakeHttp.Behavior endless = (method, path, out) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = ("{\"name\":\"" + "x".repeat(60) + "\",\"size\":1,\"size_vram\":1},").repeat(500)
                    .getBytes(StandardCharsets.ISO_8859_1);
            out.write("b\r\n{\"models\":[\r\n".getBytes(StandardCharsets.ISO_8859_1));
            for (int i = 0; i < 2000; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        };
        assertEquals(Optional.of(Reason.TOO_LARGE), poll(ServerType.OLLAMA, endless).lastError());
    }

    @Test
    void jsonOfManySmallTokensStopsAtTheTokenLimitWithinTheSizeLimit() throws Exception {
        // 12,000 models of 6 tokens each: 280 KB, inside this test's 1 MiB byte limit, but past the token limit
        String ps = "{\"models\":[" + "{\"name\":\"m\",\"size\":1},".repeat(12_000) + "{\"name\":\"m\"}]}";
        assertTrue(ps.length() < 1 << 20);
        assertEquals(Optional.of(Reason.TOO_LARGE), poll(ServerType.OLLAMA, (method, path, out) ->
                FakeHttp.respond(out, 200, "application/json", ps)).lastError());
    }

    @Test
    void jsonNestedTooDeepIsAParseError() throws Exception {
        String ps = "{\"models\":" + "[".repeat(100) + "]".repeat(100) + "}";
        assertEquals(Optional.of(Reason.PARSE_ERROR), poll(ServerType.OLLAMA, (method, path, out) ->
                FakeHttp.respond(out, 200, "application/json", ps)).lastError());
    }

    @Test
    void aTricklingBodyEndsAtTheDeadline() throws Exception {
        // the headers at once, then a byte now and then: never a complete body within the 500 ms deadline
        assertEquals(Optional.of(Reason.TIMEOUT), poll((method, path, out) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            for (byte b : GOOD.getBytes(StandardCharsets.UTF_8)) {
                out.write(("1\r\n" + (char) b + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (release.await(200, TimeUnit.MILLISECONDS)) {
                    return;
                }
            }
            release.await();
        }).lastError());
    }

    @Test
    void anErrorInAPollDownsTheTargetAndTheNextPollRuns() throws Exception {
        FakeHttp f = server((method, path, out) -> FakeHttp.respond(out, 200, "text/plain", GOOD));
        AtomicInteger polls = new AtomicInteger();
        ServerAdapter real = Adapters.forType(ServerType.VLLM);
        ServerAdapter failing = (fetcher, options) -> {
            if (polls.incrementAndGet() == 2) {
                throw new OutOfMemoryError("Java heap space");
            }
            return real.poll(fetcher, options);
        };
        TargetPoller p = new TargetPoller(target(ServerType.VLLM, "t", f.url()), failing, oneClient(),
                polling(1 << 20, 1024), new ScrapeTimeouts(), () -> {});
        assertTrue(p.pollOnce().up());
        TargetState down = p.pollOnce();
        assertEquals(Optional.of(Reason.INTERNAL_ERROR), down.lastError());
        assertEquals(Map.of(), down.points(), "no value of the last good poll stays");
        assertTrue(p.pollOnce().up());
        assertEquals(3, polls.get());
    }

    @Test
    void aLoopKeepsPollingWhenPublishingThrows() throws Exception {
        FakeHttp f = server((method, path, out) -> FakeHttp.respond(out, 200, "text/plain", GOOD));
        CountDownLatch thirdPoll = new CountDownLatch(3);
        InferenceSettings.Polling fast = new InferenceSettings.Polling(Duration.ofMillis(1), Duration.ofMillis(500),
                1 << 20, 100, 1024, false);
        Pollers pollers = new Pollers(oneClient(), fast, new ScrapeTimeouts(), () -> {
            thirdPoll.countDown();
            throw new StackOverflowError();
        });
        closing.add(pollers);
        pollers.add(target(ServerType.VLLM, "t", f.url()));
        pollers.start();
        assertTrue(thirdPoll.await(60, TimeUnit.SECONDS), "the loop went on after an Error");
        assertTrue(pollers.thread("t").orElseThrow().isAlive());
        assertEquals(List.of(), pollers.dead());
    }

    @Test
    void aDeadPollerIsDownAndNamedByReadiness() throws Exception {
        FakeHttp f = server((method, path, out) -> FakeHttp.respond(out, 200, "text/plain", GOOD));
        InferenceSettings.Polling slow = new InferenceSettings.Polling(Duration.ofHours(1), Duration.ofMillis(500),
                1 << 20, 100, 1024, false);
        CountDownLatch firstPoll = new CountDownLatch(1);
        Pollers pollers = new Pollers(oneClient(), slow, new ScrapeTimeouts(), firstPoll::countDown);
        closing.add(pollers);
        pollers.add(target(ServerType.VLLM, "good", f.url()));
        pollers.add(target(ServerType.VLLM, "t", f.url()));
        pollers.start();
        firstPoll.await();
        while (pollers.states().stream().anyMatch(s -> !s.up())) {
            Thread.sleep(10); // both first polls publish before the hour-long wait
        }

        // the thread ends without anyone stopping the target (a stray interrupt stands in for a thread that dies)
        Thread t = pollers.thread("t").orElseThrow();
        t.interrupt();
        t.join();

        assertEquals(List.of("t"), pollers.dead());
        TargetState dead = pollers.states().get(1);
        assertEquals("t", dead.target().name());
        assertFalse(dead.up(), "a dead poller's last values are not served as fresh");
        assertEquals(Optional.of(Reason.INTERNAL_ERROR), dead.lastError());
        assertEquals(Map.of(), dead.points());
        assertTrue(pollers.states().get(0).up(), "the other target is untouched");
        pollers.close();
        assertEquals(List.of(), pollers.dead(), "threads stopped by close are not dead");
    }

    @Test
    void readinessNamesTheTargetWhosePollerDied() throws Exception {
        FakeHttp f = server((method, path, out) -> FakeHttp.respond(out, 200, "text/plain", GOOD));
        InferenceSettings s = new InferenceSettings(List.of(target(ServerType.VLLM, "t", f.url())),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")),
                new InferenceSettings.Polling(Duration.ofHours(1), Duration.ofMillis(500), 1 << 20, 100, 1024, false),
                new InferenceSettings.Attribution(false, Optional.empty()));
        try (ModelServers m = new ModelServers(s, List::of, Duration.ZERO)) {
            m.pollers().start(); // as open does, with renders on the polling thread
            assertEquals(Optional.empty(), m.notReady());
            Thread t = m.pollers().thread("t").orElseThrow();
            t.interrupt();
            t.join();
            assertEquals(Optional.of("the poller of model server(s) t has stopped"), m.notReady());
            m.pollAll(); // a poll asked for by hand does not bring the loop back
            String scrape = Scrapes.scrape(m.collector());
            assertTrue(scrape.contains("inference_target_up{server=\"vllm\",target=\"t\"} 0.0"), scrape);
            assertTrue(scrape.contains(
                    "inference_target_last_error{reason=\"internal_error\",server=\"vllm\",target=\"t\"} 1.0"), scrape);
        }
    }

    /** One client for every poll, as the exporter's. */
    private static Supplier<HttpClient> oneClient() {
        HttpClient client = HttpClient.newHttpClient();
        return () -> client;
    }
}
