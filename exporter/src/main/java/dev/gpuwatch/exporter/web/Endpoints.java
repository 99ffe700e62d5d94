package dev.gpuwatch.exporter.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.gpuwatch.exporter.sampling.Health;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Everything but {@code /metrics}: the landing page at {@code /}, liveness at {@code /-/healthy}, readiness at
 * {@code /-/ready}, 404 for the rest. Registered as the server's default handler, so it sees every other path.
 */
final class Endpoints implements HttpHandler {

    /** What the landing page says about this exporter; lines are plain text, escaped here. */
    record Landing(String version, String backend, List<String> notes) {}

    private final Health health;
    private final Landing landing;

    Endpoints(Health health, Landing landing) {
        this.health = health;
        this.landing = landing;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            in.transferTo(OutputStream.nullOutputStream());
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case "/" -> send(exchange, 200, "text/html; charset=utf-8", page());
                case "/-/healthy" -> verdict(exchange, health.live());
                case "/-/ready" -> verdict(exchange, health.ready());
                default -> send(exchange, 404, "text/plain; charset=utf-8", "not found; see / for the endpoints\n");
            }
        }
    }

    private static void verdict(HttpExchange exchange, Health.Verdict v) throws IOException {
        send(exchange, v.ok() ? 200 : 503, "text/plain; charset=utf-8", v.message());
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private String page() {
        StringBuilder notes = new StringBuilder();
        for (String note : landing.notes()) {
            notes.append("<p>").append(escape(note)).append("</p>\n");
        }
        return """
                <!DOCTYPE html>
                <html lang="en">
                <head><meta charset="utf-8"><title>gpuwatch exporter</title></head>
                <body>
                <h1>gpuwatch exporter</h1>
                <p>Version %s. GPU backend: <b>%s</b>.</p>
                %s<ul>
                <li><a href="metrics">/metrics</a>: metrics (Prometheus text, or OpenMetrics by Accept header)</li>
                <li><a href="-/healthy">/-/healthy</a>: liveness (%s)</li>
                <li><a href="-/ready">/-/ready</a>: readiness (%s)</li>
                </ul>
                </body>
                </html>
                """.formatted(escape(landing.version()), escape(landing.backend()), notes,
                        health.live().ok() ? "healthy" : "unhealthy", health.ready().ok() ? "ready" : "not ready");
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
