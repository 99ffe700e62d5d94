package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A slow, dead, garbage-returning, huge or HTML-error-page target makes only its own up 0; the scrape answers from
 * the cache and the other targets are unaffected. No timing assertions: order is forced with latches.
 */
class PollFaultsTest {
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
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private FakeHttp server(FakeHttp.Behavior b) throws IOException {
        FakeHttp f = new FakeHttp(b);
        closing.add(f);
        return f;
    }

    static TargetSettings vllm(String name, String url) {
        URI u = URI.create(url);
        return new TargetSettings(name, ServerType.VLLM, u, Optional.of(u.resolve("/metrics")),
                Duration.ofMillis(500), Optional.empty(), Map.of(), false, false);
    }

    private ModelServers module(long maxBytes, int maxSeries, TargetSettings... targets) {
        InferenceSettings s = new InferenceSettings(List.of(targets),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofMillis(500), maxBytes, maxSeries, false),
                new InferenceSettings.Attribution(false, Optional.empty()));
        ModelServers m = new ModelServers(s, List::of, Duration.ZERO);
        closing.add(m);
        return m;
    }

    private Reason pollFailure(FakeHttp.Behavior b) throws IOException {
        return pollFailure(b, Duration.ofMillis(500));
    }

    private Reason pollFailure(FakeHttp.Behavior b, Duration timeout) throws IOException {
        FakeHttp f = server(b);
        TargetSettings t = vllm("t", f.url());
        t = new TargetSettings(t.name(), t.type(), t.url(), t.metricsUrl(), timeout, t.authorization(), t.labels(),
                t.loraAdapters(), t.discovered());
        ModelServers m = module(1 << 20, 100, t);
        TargetState s = m.poller("t").orElseThrow().pollOnce();
        assertFalse(s.up());
        return s.lastError().orElseThrow();
    }

    @Test
    void slowTargetTimesOutAndNeverHoldsTheScrape() throws Exception {
        FakeHttp slow = server((method, path, out) -> release.await());
        FakeHttp good = server((method, path, out) -> FakeHttp.respond(out, 200, "text/plain; version=0.0.4", GOOD));
        ModelServers m = module(1 << 20, 100, vllm("good", good.url()), vllm("slow", slow.url()));
        m.poller("good").orElseThrow().pollOnce();
        Thread poll = Thread.ofVirtual().start(() -> m.poller("slow").orElseThrow().pollOnce());
        slow.requestArrived.await();

        // the slow poll is in flight and its server has not answered: the scrape still completes from the cache
        String scrape = Scrapes.scrape(m.collector());
        assertTrue(poll.isAlive() || m.poller("slow").orElseThrow().state().lastError().isPresent());
        assertTrue(scrape.contains("inference_requests_running{model=\"m\",server=\"vllm\",target=\"good\"} 3.0"), scrape);
        assertTrue(scrape.contains("inference_target_up{server=\"vllm\",target=\"good\"} 1.0"), scrape);
        poll.join();
        assertEquals(Optional.of(Reason.TIMEOUT), m.poller("slow").orElseThrow().state().lastError());
        assertTrue(Scrapes.scrape(m.collector()).contains(
                "inference_target_last_error{reason=\"timeout\",server=\"vllm\",target=\"slow\"} 1.0"));
    }

    @Test
    void connectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ModelServers m = module(1 << 20, 100, vllm("t", "http://127.0.0.1:" + port));
        assertEquals(Optional.of(Reason.CONNECTION_REFUSED), m.poller("t").orElseThrow().pollOnce().lastError());
    }

    @Test
    void serverError() throws Exception {
        assertEquals(Reason.HTTP_STATUS, pollFailure((method, path, out) ->
                FakeHttp.respond(out, 500, "text/plain", "internal error\n")));
    }

    @Test
    void htmlErrorPage() throws Exception {
        assertEquals(Reason.BAD_CONTENT_TYPE, pollFailure((method, path, out) ->
                FakeHttp.respond(out, 200, "text/html; charset=utf-8", "<html><body>502 Bad Gateway</body></html>\n")));
        assertEquals(Reason.PARSE_ERROR, pollFailure((method, path, out) ->
                FakeHttp.respond(out, 200, "text/plain", "<html><body>oops</body></html>\n")));
    }

    @Test
    void truncatedBody() throws Exception {
        // the HTTP body ends before its Content-Length
        assertEquals(Reason.CONNECTION_ERROR, pollFailure((method, path, out) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nvllm:num_requests_"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            throw new IOException("server gone");
        }));
        // a complete HTTP answer whose exposition stops mid-line
        assertEquals(Reason.PARSE_ERROR, pollFailure((method, path, out) ->
                FakeHttp.respond(out, 200, "text/plain", GOOD + "vllm:num_requests_waiting{model_na")));
    }

    @Test
    void fiftyMegabyteBodyStopsAtTheLimit() throws Exception {
        FakeHttp.Behavior chunked = (method, path, out) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] line = "vllm:num_requests_running{model_name=\"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\"} 1\n"
                    .getBytes(StandardCharsets.ISO_8859_1);
            // whole lines in every chunk: the body parses as far as it goes, so only its size can stop it
            byte[] chunk = new byte[64 * 1024 / line.length * line.length];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = line[i % line.length];
            }
            for (long sent = 0; sent < 50L << 20; sent += chunk.length) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        };
        // the body is parsed as it arrives, so the deadline covers parsing the first MiB: generous for a slow machine
        assertEquals(Reason.TOO_LARGE, pollFailure(chunked, Duration.ofSeconds(30)));
        FakeHttp.Behavior announced = (method, path, out) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + (50L << 20) + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(new byte[1 << 16]);
            release.await();
        };
        assertEquals(Reason.TOO_LARGE, pollFailure(announced));
    }

    @Test
    void tooManySeries() throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            b.append("vllm:num_requests_running{model_name=\"m").append(i).append("\"} 1\n");
        }
        assertEquals(Reason.TOO_MANY_SERIES, pollFailure((method, path, out) ->
                FakeHttp.respond(out, 200, "text/plain", b.toString())));
    }

    @Test
    void nanIsAbsentAndDuplicatesKeepTheFirst() throws Exception {
        FakeHttp f = server((method, path, out) -> FakeHttp.respond(out, 200, "text/plain", """
                vllm:num_requests_running{model_name="m"} NaN
                vllm:num_requests_waiting{model_name="m"} 4
                vllm:num_requests_waiting{model_name="m"} 9
                """));
        ModelServers m = module(1 << 20, 100, vllm("t", f.url()));
        assertTrue(m.poller("t").orElseThrow().pollOnce().up());
        String scrape = Scrapes.scrape(m.collector());
        assertFalse(scrape.contains("inference_requests_running"), scrape);
        assertTrue(scrape.contains("inference_requests_waiting{model=\"m\",server=\"vllm\",target=\"t\"} 4.0"), scrape);
    }

    @Test
    void serverRestartingMidPollIsDownThenUpAgain() throws Exception {
        FakeHttp dying = new FakeHttp((method, path, out) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n# TYPE vllm:num"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            throw new IOException("restarting");
        });
        int port = dying.port();
        ModelServers m = module(1 << 20, 100, vllm("t", dying.url()));
        TargetPoller p = m.poller("t").orElseThrow();
        assertEquals(Optional.of(Reason.CONNECTION_ERROR), p.pollOnce().lastError());
        dying.close();
        // While it is away the port refuses; a connection the kernel had already queued for the closing listener
        // is reset instead (seen on a loaded machine). Either is the server being away, and down.
        TargetState away = p.pollOnce();
        assertFalse(away.up());
        assertTrue(Set.of(Reason.CONNECTION_REFUSED, Reason.CONNECTION_ERROR).contains(away.lastError().orElseThrow()),
                away.lastError().toString());
        FakeHttp back = new FakeHttp(port, (method, path, out) -> FakeHttp.respond(out, 200, "text/plain", GOOD));
        closing.add(back);
        assertTrue(p.pollOnce().up());
        assertTrue(Scrapes.scrape(m.collector()).contains("inference_target_up{server=\"vllm\",target=\"t\"} 1.0"));
    }

    @Test
    void aFailedTargetServesNoStaleValues() throws Exception {
        boolean[] fail = {false};
        FakeHttp f = server((method, path, out) -> {
            if (fail[0]) {
                FakeHttp.respond(out, 503, "text/plain", "busy\n");
            } else {
                FakeHttp.respond(out, 200, "text/plain", GOOD);
            }
        });
        ModelServers m = module(1 << 20, 100, vllm("t", f.url()));
        m.pollAll();
        assertTrue(Scrapes.scrape(m.collector()).contains("inference_requests_running"));
        fail[0] = true;
        m.pollAll();
        String scrape = Scrapes.scrape(m.collector());
        assertFalse(scrape.contains("inference_requests_running"), scrape);
        assertTrue(scrape.contains("inference_target_up{server=\"vllm\",target=\"t\"} 0.0"), scrape);
        assertTrue(scrape.contains("inference_target_last_error{reason=\"http_status\",server=\"vllm\",target=\"t\"} 1.0"));
    }
}
