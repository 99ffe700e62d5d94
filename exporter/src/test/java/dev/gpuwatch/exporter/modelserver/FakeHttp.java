package dev.gpuwatch.exporter.modelserver;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A raw-socket HTTP/1.1 server on 127.0.0.1 for fault tests: each connection's request line goes to a
 * {@link Behavior} that writes whatever bytes it likes (or nothing, or half an answer) and may block.
 */
final class FakeHttp implements AutoCloseable {
    interface Behavior {
        void answer(String method, String path, OutputStream out) throws IOException, InterruptedException;
    }

    private final ServerSocket socket;
    final CountDownLatch requestArrived = new CountDownLatch(1);
    /** The header lines of the last request, as sent. */
    volatile List<String> lastHeaders = List.of();

    FakeHttp(Behavior behavior) throws IOException {
        this(0, behavior);
    }

    FakeHttp(int port, Behavior behavior) throws IOException {
        socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        Thread.ofVirtual().start(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    Thread.ofVirtual().start(() -> serve(s, behavior));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    int port() {
        return socket.getLocalPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    private void serve(Socket s, Behavior behavior) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            while (true) {
                String requestLine = in.readLine();
                if (requestLine == null) {
                    return;
                }
                int length = 0;
                String h;
                List<String> headers = new ArrayList<>();
                while ((h = in.readLine()) != null && !h.isEmpty()) {
                    headers.add(h);
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).strip());
                    }
                }
                for (int i = 0; i < length; i++) {
                    in.read();
                }
                lastHeaders = List.copyOf(headers);
                String[] parts = requestLine.split(" ");
                requestArrived.countDown();
                behavior.answer(parts[0], parts[1], s.getOutputStream());
                s.getOutputStream().flush();
            }
        } catch (IOException | InterruptedException e) {
            // the client went away (as the exporter does past a limit), or the test ended
        }
    }

    /** A complete answer. */
    static void respond(OutputStream out, int status, String contentType, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: " + contentType + "\r\nContent-Length: " + b.length
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
