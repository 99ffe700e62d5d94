package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile clients over real sockets against a receiver in a child JVM whose heap is bounded as
 * webhook-receiver/jvm.options gives it where memory matters (256 MiB): slow-loris headers, a declared length far
 * past what is sent, many large bodies at once, bodies that stall mid-way. Every answer must be a well-formed
 * HTTP response with the status that fits, the receiver must log no OutOfMemoryError, and a valid webhook must be
 * accepted after each attack. Every wait is bounded; nothing here asserts how fast the receiver is.
 */
class HostileClientTest {

    /** jvm.options' choice "where memory matters", the heap the issue exhausted with 60 connections. */
    private static final List<String> BOUNDED_HEAP = List.of("-XX:+UseParallelGC", "-Xms256m", "-Xmx256m", "-Xmn128m");
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 (\\d{3}) [^\r\n]*");

    @TempDir
    static Path dir;

    private static ChildReceiver receiver;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeAll
    static void start() throws IOException {
        Path config = dir.resolve("receiver.yml");
        Files.writeString(config, """
                receivers:
                  - name: default
                    log_configs: [{file: %s}]
                """.formatted(dir.resolve("deliveries.log")));
        receiver = ChildReceiver.start(BOUNDED_HEAP, config, dir.resolve("receiver.db"), dir.resolve("receiver.out"));
    }

    @AfterAll
    static void stop() {
        if (receiver != null) {
            receiver.close();
        }
    }

    /** After each attack: the receiver lives, logged no OutOfMemoryError, is ready, and takes a valid webhook. */
    @AfterEach
    void stillServes() throws Exception {
        clients.shutdownNow();
        assertTrue(receiver.isAlive(), "the receiver process lives");
        String output = receiver.output();
        assertFalse(output.contains("OutOfMemoryError"), output);
        assertEquals(200, Polling.status(HTTP, uri("/readyz")));
        var accepted = HTTP.send(HttpRequest.newBuilder(uri("/api/v1/alerts"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification("After" + System.nanoTime(),
                        "firing", 1)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, accepted.statusCode(), accepted.body());
        assertEquals("{\"status\":\"accepted\"}", accepted.body());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + receiver.port() + path);
    }

    @Test
    void slowLorisHeadersHoldNoMemoryAndDoNotStopOthers() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 100; i++) {
                Socket socket = connect();
                write(socket, "POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n");
                sockets.add(socket);
            }
            // a header line a byte at a time on every connection, while a real webhook comes in
            byte[] line = "X-Slow: loris\r\n".getBytes(StandardCharsets.US_ASCII);
            for (byte b : line) {
                for (Socket socket : sockets) {
                    socket.getOutputStream().write(b);
                    socket.getOutputStream().flush();
                }
                Thread.sleep(50);
            }
            var meanwhile = HTTP.send(HttpRequest.newBuilder(uri("/api/v1/alerts"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification("Meanwhile", "firing", 1)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, meanwhile.statusCode(), meanwhile.body());
            // each finishes its head with an empty body: a well-formed 400, as for any empty payload
            List<Future<Answer>> answers = new ArrayList<>();
            for (Socket socket : sockets) {
                answers.add(clients.submit(() -> {
                    write(socket, "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n");
                    return Answer.read(socket);
                }));
            }
            assertStatuses(answers, Set.of(400));
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    @Test
    void aDeclaredGigabyteWithFewBytesSentIs413AtOnce() throws Exception {
        List<Future<Answer>> answers = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            answers.add(clients.submit(() -> {
                try (Socket socket = connect()) {
                    write(socket, head(1_000_000_000L) + "{\"version\":\"4\"");
                    return Answer.read(socket);
                }
            }));
        }
        List<Answer> read = assertStatuses(answers, Set.of(413));
        assertEquals("{\"error\":\"body of 1000000000 bytes exceeds the limit of 8388608\"}", read.getFirst().body());
    }

    /**
     * The drill: 60 connections each declaring a body just under the limit, sending 8 KiB of it and then
     * nothing. Before bodies grew as they arrived, the declared 8 MB was allocated at once for each (out of
     * memory on this heap); a stalled body was then a 400, which Alertmanager never sends again.
     */
    @Test
    void bodiesThatStallMidWayAre503WithRetryAfterNot400() throws Exception {
        byte[] partial = new byte[8192];
        Arrays.fill(partial, (byte) ' ');
        List<Future<Answer>> answers = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            answers.add(clients.submit(() -> {
                try (Socket socket = connect()) {
                    write(socket, head(8_000_000));
                    socket.getOutputStream().write(partial);
                    socket.getOutputStream().flush();
                    return Answer.read(socket);
                }
            }));
        }
        for (Answer answer : assertStatuses(answers, Set.of(503))) {
            assertEquals("5", answer.headers().get("retry-after"), answer.toString());
            assertEquals("{\"error\":\"body not received in full: no data for 10s\"}", answer.body());
        }
    }

    @Test
    void manyLargeBodiesAtOnceAreTakenOrRefusedWith503WithinTheHeap() throws Exception {
        // 40 bodies of 6 MB at once are 240 MB, about the whole heap: those past the readers' budget (a quarter of
        // the heap) are told to come back later
        byte[] body = padded(6_000_000);
        List<Future<Answer>> answers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            answers.add(clients.submit(() -> {
                try (Socket socket = connect()) {
                    Future<?> sending = clients.submit(() -> {
                        socket.getOutputStream().write(head(body.length).getBytes(StandardCharsets.US_ASCII));
                        socket.getOutputStream().write(body);
                        socket.getOutputStream().flush();
                        return null;
                    });
                    Answer answer = Answer.read(socket);
                    sending.cancel(true);
                    return answer;
                }
            }));
        }
        List<Answer> read = assertStatuses(answers, Set.of(200, 503));
        Map<Integer, Long> byStatus = new TreeMap<>();
        read.forEach(a -> byStatus.merge(a.status(), 1L, Long::sum));
        System.out.println("HostileClientTest: 40 concurrent 6 MB bodies answered " + byStatus);
        assertTrue(byStatus.getOrDefault(200, 0L) >= 1, "some are taken: " + byStatus);
        for (Answer answer : read) {
            if (answer.status() == 503) {
                assertEquals("{\"error\":\"too many request bodies being read at once\"}", answer.body());
                assertEquals("5", answer.headers().get("retry-after"));
            } else {
                // the padding makes every copy the same notification: the first is accepted, the rest duplicates
                assertTrue(Set.of("{\"status\":\"accepted\"}", "{\"status\":\"duplicate\"}").contains(answer.body()),
                        answer.toString());
            }
        }
    }

    /** Every answer is a well-formed HTTP response whose status is one of {@code allowed}. */
    private static List<Answer> assertStatuses(List<Future<Answer>> answers, Set<Integer> allowed) throws Exception {
        List<Answer> read = new ArrayList<>();
        for (Future<Answer> f : answers) {
            Answer answer = f.get();
            assertTrue(allowed.contains(answer.status()), answer.toString());
            read.add(answer);
        }
        return read;
    }

    private static Socket connect() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), receiver.port());
        // longer than the receiver's 10 s body idle timeout: a stalled body is answered, not this side's timeout
        socket.setSoTimeout((int) Duration.ofSeconds(40).toMillis());
        return socket;
    }

    private static void write(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String head(long contentLength) {
        return "POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + contentLength + "\r\n\r\n";
    }

    /** One valid notification padded with trailing spaces (allowed after the JSON value) to {@code length} bytes. */
    private static byte[] padded(int length) {
        byte[] json = Payloads.bytes(Payloads.notification("Large", "firing", 1));
        byte[] body = Arrays.copyOf(json, length);
        Arrays.fill(body, json.length, length, (byte) ' ');
        return body;
    }

    /** One response read off a socket: its status line, headers (names lower case) and a body of Content-Length. */
    private record Answer(int status, Map<String, String> headers, String body) {

        /**
         * Reads exactly one response and checks that it is well formed: a status line, headers, and a body of
         * the length its Content-Length gives. Fails on anything else, including a connection closed before it.
         */
        static Answer read(Socket socket) throws IOException {
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("connection closed before a whole response head: " + head);
                }
                head.write(b);
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            Matcher status = STATUS_LINE.matcher(lines[0]);
            assertTrue(status.matches(), "status line: " + lines[0]);
            Map<String, String> headers = new TreeMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                assertTrue(colon > 0, "header line: " + lines[i]);
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).strip());
            }
            String length = headers.get("content-length");
            assertTrue(length != null, "a Content-Length: " + headers);
            byte[] body = in.readNBytes(Integer.parseInt(length));
            assertEquals(Integer.parseInt(length), body.length, "the whole body of " + lines[0]);
            return new Answer(Integer.parseInt(status.group(1)), headers, new String(body, StandardCharsets.UTF_8));
        }
    }
}
