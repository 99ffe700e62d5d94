package dev.gpuwatch.exporter.modelserver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Serves a fixture folder over HTTP on 127.0.0.1: {@code GET /metrics} is metrics.txt, {@code GET /a/b} is
 * GET_a_b.json, {@code POST /a} is POST_a.json; anything else is a 404.
 */
final class FixtureServer implements AutoCloseable {
    private final HttpServer server;

    FixtureServer(Path dir) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange -> answer(dir, exchange));
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void answer(Path dir, HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            Path file = path.equals("/metrics") ? dir.resolve("metrics.txt")
                    : dir.resolve(ex.getRequestMethod() + path.replace('/', '_') + ".json");
            if (!Files.exists(file)) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            byte[] body = Files.readAllBytes(file);
            ex.getResponseHeaders().set("Content-Type",
                    path.equals("/metrics") ? "text/plain; version=0.0.4; charset=utf-8" : "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
