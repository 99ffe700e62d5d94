package dev.gpuwatch.integration.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.pki.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One {@code --web.config.file} given to both binaries, each started by its real main in a JVM of its own: bcrypt
 * basic auth and TLS with an EC key in SEC1 form work the same on the exporter (JDK server) and the receiver
 * (Jetty), checked with a JDK client trusting only the test CA; and a key that is not the certificate's stops
 * both with the same line after the program's name.
 */
class OneWebConfigTest {

    private static final String EXPORTER = "dev.gpuwatch.exporter.ExporterMain";
    private static final String RECEIVER = "dev.gpuwatch.receiver.ReceiverMain";

    @TempDir
    Path dir;

    private record Binary(String name, String mainClass, List<String> args) {}

    private List<Binary> binaries(Path web, int exporterPort, int receiverPort) {
        return List.of(
                new Binary("gpuwatch-exporter", EXPORTER, List.of("--web.listen-address=127.0.0.1:" + exporterPort,
                        "--gpu.backend=simulated", "--web.config.file=" + web)),
                new Binary("gpuwatch-receiver", RECEIVER, List.of("--web.listen-address=127.0.0.1:" + receiverPort,
                        "--storage.path=" + dir.resolve("receiver.db"), "--web.config.file=" + web)));
    }

    @Test
    void basicAuthAndTlsWithASec1KeyBehaveTheSameOnBoth() throws Exception {
        TestPki pki = TestPki.create(Files.createDirectories(dir.resolve("pki")));
        assertTrue(Files.readString(pki.key("server")).startsWith("-----BEGIN EC PRIVATE KEY-----"));
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(10, "s3cret".toCharArray());
        Path web = Files.writeString(dir.resolve("web.yml"), """
                tls_server_config:
                  cert_file: pki/server.crt
                  key_file: pki/server.key
                basic_auth_users:
                  prometheus: "%s"
                """.formatted(hash));
        int exporterPort = freePort();
        int receiverPort = freePort();
        HttpClient client = pki.client(Optional.empty());
        List<ChildProcess> started = new ArrayList<>();
        try {
            for (Binary b : binaries(web, exporterPort, receiverPort)) {
                started.add(ChildProcess.start(Command.java(b.name(), List.of(), b.mainClass(), b.args()),
                        dir.resolve(b.name() + ".log")));
            }
            for (int i = 0; i < started.size(); i++) {
                ChildProcess process = started.get(i);
                String metrics = "https://localhost:" + (i == 0 ? exporterPort : receiverPort) + "/metrics";
                HttpResponse<String> right = awaitAnswer(process, client, metrics, basic("prometheus", "s3cret"));
                assertEquals(200, right.statusCode(), process.name());
                assertEquals("TLSv1.3", right.sslSession().orElseThrow().getProtocol(), process.name());
                HttpResponse<String> wrong = get(client, metrics, Optional.of(basic("prometheus", "wrong")));
                assertEquals(401, wrong.statusCode(), process.name());
                assertEquals(Optional.of("Basic realm=\"gpuwatch\", charset=\"UTF-8\""),
                        wrong.headers().firstValue("WWW-Authenticate"), process.name());
                assertEquals(401, get(client, metrics, Optional.empty()).statusCode(), process.name());
            }
        } finally {
            started.forEach(ChildProcess::close);
        }
    }

    @Test
    void aKeyThatIsNotTheCertificatesStopsBothWithTheSameMessage() throws Exception {
        TestPki pki = TestPki.create(Files.createDirectories(dir.resolve("pki")));
        Path web = Files.writeString(dir.resolve("web.yml"), """
                tls_server_config:
                  cert_file: pki/server.crt
                  key_file: pki/client.key
                """);
        String expected = web + ":3: tls_server_config.key_file: " + dir.resolve("pki/client.key")
                + " does not match the certificate in cert_file " + dir.resolve("pki/server.crt");
        for (Binary b : binaries(web, freePort(), freePort())) {
            ChildProcess.Finished result = ChildProcess.run(
                    Command.java(b.name(), List.of(), b.mainClass(), b.args()).in(dir), Duration.ofSeconds(60));
            assertEquals(2, result.exitCode(), b.name() + ": " + result.output());
            assertEquals(b.name() + ": " + expected, result.output().strip());
        }
    }

    /** Polls until the process answers over TLS (it is still starting until then). */
    private static HttpResponse<String> awaitAnswer(ChildProcess process, HttpClient client, String url,
            String authorization) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return get(client, url, Optional.of(authorization));
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError(process.name() + " did not answer " + url + ": " + e + "\n" + process.tail(30));
                }
                Thread.sleep(200);
            }
        }
    }

    private static HttpResponse<String> get(HttpClient client, String url, Optional<String> authorization)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        authorization.ifPresent(a -> request.header("Authorization", a));
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
