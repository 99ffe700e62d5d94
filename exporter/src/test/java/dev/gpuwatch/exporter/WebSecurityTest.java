package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.config.WebConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --web.config.file end to end: TLS with a self-signed certificate made here, client certificates, basic auth. */
class WebSecurityTest {
    @TempDir
    static Path dir;
    static KeyStore server;
    static KeyStore client;

    @BeforeAll
    static void makeCertificates() throws Exception {
        server = selfSigned("server", "CN=localhost", "san=ip:127.0.0.1,dns:localhost");
        client = selfSigned("client", "CN=prometheus", "san=dns:prometheus");
        writePem(server, "server");
        writePem(client, "client");
    }

    /** keytool -genkeypair into a PKCS12 file, loaded back. */
    private static KeyStore selfSigned(String alias, String dname, String san) throws Exception {
        Path store = dir.resolve(alias + ".p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", dname, "-ext", san, "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        return ks;
    }

    private static void writePem(KeyStore ks, String alias) throws Exception {
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Certificate cert = ks.getCertificate(alias);
        Files.writeString(dir.resolve(alias + ".crt"),
                "-----BEGIN CERTIFICATE-----\n" + b64.encodeToString(cert.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        byte[] key = ks.getKey(alias, "changeit".toCharArray()).getEncoded(); // PKCS#8
        Files.writeString(dir.resolve(alias + ".key"),
                "-----BEGIN PRIVATE KEY-----\n" + b64.encodeToString(key) + "\n-----END PRIVATE KEY-----\n");
    }

    private static HttpClient client(boolean presentClientCert) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", server.getCertificate("server"));
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(client, "changeit".toCharArray());
        ctx.init(presentClientCert ? kmf.getKeyManagers() : null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static Path webConfig(String yaml) throws IOException {
        Path file = Files.createTempFile(dir, "web", ".yml");
        Files.writeString(file, yaml);
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

    @Test
    void servesMetricsOverTlsWithTheConfiguredCertificate() throws Exception {
        try (Exporter exporter = start("""
                tls_server_config:
                  cert_file: %s
                  key_file: %s
                """.formatted(dir.resolve("server.crt"), dir.resolve("server.key")))) {
            assertTrue(exporter.url().startsWith("https://127.0.0.1:"));
            HttpResponse<String> r = get(client(false), "https://127.0.0.1:" + exporter.port() + "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("gpuwatch_exporter_build_info"));
            assertTrue(r.sslSession().orElseThrow().getProtocol().matches("TLSv1\\.[23]"));
            // plain HTTP on the TLS port gets no metrics (the server waits for a handshake that never comes)
            HttpRequest plain = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporter.port() + "/metrics"))
                    .timeout(Duration.ofSeconds(1)).build();
            assertThrows(IOException.class, () -> TestExporters.HTTP.send(plain, HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void requireAndVerifyClientCertRefusesClientsWithoutOne() throws Exception {
        try (Exporter exporter = start("""
                tls_server_config:
                  cert_file: %s
                  key_file: %s
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: %s
                  min_version: TLS12
                """.formatted(dir.resolve("server.crt"), dir.resolve("server.key"), dir.resolve("client.crt")))) {
            String url = "https://127.0.0.1:" + exporter.port() + "/metrics";
            assertEquals(200, get(client(true), url).statusCode());
            assertThrows(IOException.class, () -> get(client(false), url));
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
    void unreadableKeyOrCertificateIsAConfigError() throws Exception {
        Path bad = dir.resolve("bad.key");
        Files.writeString(bad, "not a key\n");
        WebConfig web = WebConfig.load(webConfig("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                .formatted(dir.resolve("server.crt"), bad)));
        ConfigException e = assertThrows(ConfigException.class,
                () -> TestExporters.start(TestExporters.loopback(), web, new TestGpus.FakeProbe(List.of())));
        assertTrue(e.getMessage().startsWith("--web.config.file: tls_server_config: " + bad + ": no PEM private key block"),
                e.getMessage());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

}
