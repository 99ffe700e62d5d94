package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.gpuwatch.testkit.pki.TestPki;
import dev.gpuwatch.web.WebConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvFileSource;

/**
 * --web.config.file end to end on the exporter's JDK server: TLS with the test CA's certificates (an EC key in SEC1
 * form), every client_auth_type, bcrypt basic auth, and a bad file stopping the start.
 */
class WebSecurityTest {
    @TempDir
    static Path dir;
    static TestPki pki;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(dir);
    }

    private static Path webConfig(String yaml) throws IOException {
        Path file = Files.createTempFile(dir, "web", ".yml");
        Files.writeString(file, yaml.replace("PKI", dir.toString()));
        return file;
    }

    private static Exporter start(String webYaml) throws Exception {
        return TestExporters.start(TestExporters.loopback(), WebConfig.load(webConfig(webYaml)),
                new TestGpus.FakeProbe(List.of(TestGpus.full(0))));
    }

    private static HttpResponse<String> get(HttpClient http, String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static final String SERVER_TLS = """
            tls_server_config:
              cert_file: PKI/server.crt
              key_file: PKI/server.key
            """;

    @Test
    void servesMetricsOverTlsWithTheConfiguredCertificate() throws Exception {
        try (Exporter exporter = start(SERVER_TLS)) {
            assertTrue(exporter.url().startsWith("https://127.0.0.1:"));
            HttpResponse<String> r = get(pki.client(Optional.empty()), "https://localhost:" + exporter.port() + "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("gpuwatch_exporter_build_info"));
            assertEquals("TLSv1.3", r.sslSession().orElseThrow().getProtocol());
            // plain HTTP on the TLS port gets no metrics (the server waits for a handshake that never comes)
            HttpRequest plain = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporter.port() + "/metrics"))
                    .timeout(Duration.ofSeconds(1)).build();
            assertThrows(IOException.class, () -> TestExporters.HTTP.send(plain, HttpResponse.BodyHandlers.ofString()));
        }
    }

    /** The same table as the toolkit's and the receiver's: the wiring passes want/need through unchanged. */
    @ParameterizedTest(name = "{0}")
    @CsvFileSource(resources = TestPki.CLIENT_AUTH_TYPES)
    void everyClientAuthType(String type, boolean none, boolean signed, boolean stranger) throws Exception {
        String ca = type.contains("Verify") ? "  client_ca_file: PKI/ca.crt\n" : "";
        try (Exporter exporter = start(SERVER_TLS + "  client_auth_type: " + type + "\n" + ca)) {
            String url = "https://localhost:" + exporter.port() + "/-/healthy";
            assertEquals(none, answers(pki.client(Optional.empty()), url), "without a certificate");
            assertEquals(signed, answers(pki.client(Optional.of("client")), url), "with a certificate the CA signed");
            assertEquals(stranger, answers(pki.client(Optional.of("stranger")), url), "with one nobody signed");
        }
    }

    private static boolean answers(HttpClient client, String url) throws Exception {
        try {
            return get(client, url).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void basicAuthWithBcryptHashes() throws Exception {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        String other = BCrypt.with(BCrypt.Version.VERSION_2B).hashToString(4, "hunter2".toCharArray());
        try (Exporter exporter = start("basic_auth_users:\n  alice: \"%s\"\n  bob: \"%s\"\n".formatted(hash, other))) {
            HttpResponse<String> missing = TestExporters.get(exporter, "/metrics");
            assertEquals(401, missing.statusCode());
            assertEquals(Optional.of("Basic realm=\"gpuwatch\", charset=\"UTF-8\""), missing.headers().firstValue("WWW-Authenticate"));
            assertEquals(401, TestExporters.get(exporter, "/metrics", "Authorization", basic("alice", "wrong")).statusCode());
            assertEquals(401, TestExporters.get(exporter, "/metrics", "Authorization", basic("mallory", "s3cret")).statusCode());
            assertEquals(401, TestExporters.get(exporter, "/metrics", "Authorization", basic("bob", "s3cret")).statusCode());
            for (int i = 0; i < 2; i++) { // the second time from the cache of verified pairs
                assertEquals(200, TestExporters.get(exporter, "/metrics", "Authorization", basic("alice", "s3cret")).statusCode());
            }
            assertEquals(200, TestExporters.get(exporter, "/-/healthy", "Authorization", basic("bob", "hunter2")).statusCode());
            assertEquals(401, TestExporters.get(exporter, "/", "Authorization", basic("alice", "s3cret!")).statusCode());
        }
    }

    @Test
    void tlsAndBasicAuthTogether() throws Exception {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        try (Exporter exporter = start(SERVER_TLS + "basic_auth_users:\n  prometheus: \"" + hash + "\"\n")) {
            String url = "https://localhost:" + exporter.port() + "/metrics";
            HttpClient client = pki.client(Optional.empty());
            assertEquals(401, get(client, url).statusCode());
            assertEquals(401, get(client, url, "Authorization", basic("prometheus", "wrong")).statusCode());
            assertEquals(200, get(client, url, "Authorization", basic("prometheus", "s3cret")).statusCode());
        }
    }

    /** Through the real main: the start stops before anything listens, with the receiver's message and exit code. */
    @Test
    void aKeyThatIsNotTheCertificatesStopsTheStart() throws Exception {
        Path web = webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/client.key
                """);
        StringWriter err = new StringWriter();
        int code = new ExporterMain(new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true)).run("--web.config.file=" + web, "--gpu.backend=simulated");
        assertEquals(2, code);
        assertEquals("gpuwatch-exporter: " + web + ":3: tls_server_config.key_file: " + pki.key("client")
                + " does not match the certificate in cert_file " + pki.cert("server"), err.toString().strip());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
