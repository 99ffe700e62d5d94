import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.zip.GZIPOutputStream;

/**
 * Model servers that try to break the exporter, one per path, on one loopback port (run as a single-file
 * program by bench/hostile-soak.sh). Each path answers every request the same way, so a soak polls them all
 * for as long as it runs:
 *
 * <ul>
 *   <li>{@code /many}: 200,000 vLLM series (about 11 MB, with Content-Length).
 *   <li>{@code /huge}: 200 MB of the text format, chunked, without Content-Length.
 *   <li>{@code /gzip}: a valid vLLM body of about 8 MiB sent as 4 MiB of gzip with {@code Content-Encoding: gzip}
 *       (under the default 16 MiB limit once inflated: this one must be read, and be up).
 *   <li>{@code /bomb}: 256 MiB of newlines compressed to a few hundred KiB.
 *   <li>{@code /label}: a valid vLLM body whose {@code model_name} is 200 KB long.
 *   <li>{@code /trickle}: a valid start, then one byte every 100 ms, never ending.
 *   <li>{@code /api/ps}: an Ollama answer of 15 MB of tiny JSON tokens (under the byte limit; as a tree, several
 *       times the exporter's heap).
 * </ul>
 */
public final class HostileTargets {
    private static final String GOOD_TAIL = """
            # TYPE vllm:num_requests_waiting gauge
            vllm:num_requests_waiting{model_name="m"} 1.0
            """;

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        byte[] many = many();
        byte[] gzip = gzipOfValidBody();
        byte[] bomb = bomb();
        byte[] label = longLabel();
        byte[] json = manyJsonTokens();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/many", e -> send(e, many, false));
        server.createContext("/gzip", e -> send(e, gzip, true));
        server.createContext("/bomb", e -> send(e, bomb, true));
        server.createContext("/label", e -> send(e, label, false));
        server.createContext("/api/ps", e -> {
            e.getResponseHeaders().set("Content-Type", "application/json");
            send(e, json, false);
        });
        server.createContext("/huge", HostileTargets::huge);
        server.createContext("/trickle", HostileTargets::trickle);
        server.start();
        System.out.println("hostile targets on 127.0.0.1:" + port);
    }

    private static void send(HttpExchange e, byte[] body, boolean gzipped) throws IOException {
        logRequest(e);
        try (e) {
            if (!e.getResponseHeaders().containsKey("Content-Type")) {
                e.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
            }
            if (gzipped) {
                e.getResponseHeaders().set("Content-Encoding", "gzip");
            }
            e.sendResponseHeaders(200, body.length);
            e.getResponseBody().write(body);
        } catch (IOException gone) {
            // the exporter hung up at its limit, as it should
        }
    }

    private static void logRequest(HttpExchange e) {
        System.out.println("request " + e.getRequestURI().getPath()); // the soak counts these lines
    }

    private static void huge(HttpExchange e) throws IOException {
        logRequest(e);
        byte[] line = ("# " + "x".repeat(97) + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] block = new byte[line.length * 1000];
        for (int i = 0; i < 1000; i++) {
            System.arraycopy(line, 0, block, i * line.length, line.length);
        }
        try (e) {
            e.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
            e.sendResponseHeaders(200, 0); // chunked: no Content-Length to refuse up front
            OutputStream out = e.getResponseBody();
            for (long sent = 0; sent < 200_000_000L; sent += block.length) {
                out.write(block);
            }
        } catch (IOException gone) {
            // expected: the exporter stops reading at max_response_bytes
        }
    }

    private static void trickle(HttpExchange e) throws IOException {
        logRequest(e);
        try (e) {
            e.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
            e.sendResponseHeaders(200, 0);
            OutputStream out = e.getResponseBody();
            out.write("# TYPE vllm:num_requests_running gauge\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 100_000; i++) {
                Thread.sleep(100);
                out.write('#');
                out.flush();
            }
        } catch (IOException | InterruptedException gone) {
            // expected: the exporter gives up at its deadline
        }
    }

    private static byte[] many() {
        StringBuilder b = new StringBuilder(12 << 20).append("# TYPE vllm:num_requests_running gauge\n");
        for (int i = 0; i < 200_000; i++) {
            b.append("vllm:num_requests_running{model_name=\"m\",replica=\"").append(i).append("\"} 1.0\n");
        }
        return b.append(GOOD_TAIL).toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] gzipOfValidBody() throws IOException {
        // Hex of random bytes compresses about 2:1, so 4 MiB of gzip inflates to about 8 MiB.
        Random random = new Random(42);
        byte[] raw = new byte[48];
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(5 << 20);
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 3.0\n"
                    .getBytes(StandardCharsets.US_ASCII));
            while (bytes.size() < 4 << 20) {
                random.nextBytes(raw);
                gz.write(("# " + HexFormat.of().formatHex(raw) + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            gz.write(GOOD_TAIL.getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    private static byte[] bomb() throws IOException {
        byte[] newlines = new byte[1 << 20];
        Arrays.fill(newlines, (byte) '\n');
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            for (int i = 0; i < 256; i++) {
                gz.write(newlines);
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] manyJsonTokens() {
        StringBuilder b = new StringBuilder(16 << 20).append("{\"models\":[");
        while (b.length() < 15_000_000) {
            b.append("{\"name\":\"m\",\"size\":1,\"size_vram\":1},");
        }
        return b.append("{\"name\":\"m\"}]}").toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] longLabel() {
        String name = "m".repeat(200_000);
        return ("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"" + name
                + "\"} 3.0\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"" + name
                + "\"} 1.0\n").getBytes(StandardCharsets.US_ASCII);
    }
}
