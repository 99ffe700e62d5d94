package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.ReceiverMain;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.pki.TestPki;
import dev.gpuwatch.web.WebConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvFileSource;

/**
 * {@code --web.config.file} for real on the receiver's Jetty: the testkit's certificates (the server's key EC in
 * SEC1 form), JDK HttpClients that trust only the test CA, every client_auth_type, bcrypt basic auth, and a bad
 * file stopping the real main. What the file may hold and each error is tested once, in web-toolkit.
 */
class TlsTest {

    @TempDir
    static Path pkiDir;
    static TestPki pki;

    @TempDir
    Path dir;

    private Receiver receiver;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(pkiDir);
    }

    @AfterEach
    void stop() {
        if (receiver != null) {
            receiver.close();
        }
    }

    private Path webConfig(String yaml) throws IOException {
        Path file = dir.resolve("web.yml");
        Files.writeString(file, yaml.replace("PKI", pkiDir.toString()));
        return file;
    }

    private void start(Path webConfig) throws Exception {
        start(webConfig, "");
    }

    private void start(Path webConfig, String ingest) throws Exception {
        var config = ConfigLoader.parse("r.yml", ingest + """
                receivers:
                  - name: default
                    log_configs: [{file: %s}]
                """.formatted(dir.resolve("deliveries.log")));
        receiver = Receiver.start(config, Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0)
                .withWeb(WebConfig.load(webConfig)));
    }

    private HttpResponse<String> post(HttpClient client, String scheme, String host, String group, String... headers)
            throws Exception {
        URI uri = URI.create(scheme + "://" + host + ":" + receiver.port() + "/api/v1/alerts");
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification(group, "firing", 1)));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<String> awaitDeliveries(int count) throws Exception {
        Path log = dir.resolve("deliveries.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readAllLines(log).size() >= count) {
                break;
            }
            Thread.sleep(20);
        }
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private static final String SERVER_TLS = """
            tls_server_config:
              cert_file: PKI/server.crt
              key_file: PKI/server.key
            """;

    @Test
    void notificationOverHttpsIsAcceptedStoredAndDelivered() throws Exception {
        start(webConfig(SERVER_TLS));
        HttpClient client = pki.client(Optional.empty());

        var accepted = post(client, "https", "localhost", "GpuHot");
        assertEquals(200, accepted.statusCode(), accepted.body());
        assertEquals("{\"status\":\"accepted\"}", accepted.body());
        assertEquals("TLSv1.3", accepted.sslSession().orElseThrow().getProtocol());
        // the same notification again: the store already holds it
        assertEquals("{\"status\":\"duplicate\"}", post(client, "https", "127.0.0.1", "GpuHot").body());
        List<String> delivered = awaitDeliveries(1);
        assertEquals(1, delivered.size(), delivered.toString());
        assertTrue(delivered.getFirst().contains("GpuHot firing"), delivered.getFirst());
    }

    @Test
    void plainHttpToTheTlsPortIsRefusedAndStoresNothing() throws Exception {
        start(webConfig(SERVER_TLS));
        // Jetty reads "POST /api..." as a broken TLS record and closes the connection without an answer
        assertThrows(IOException.class, () -> post(HttpClient.newHttpClient(), "http", "127.0.0.1", "Plain"));

        // the TLS port still works, and only the HTTPS notification was ever stored
        assertEquals(200, post(pki.client(Optional.empty()), "https", "localhost", "Tls").statusCode());
        List<String> delivered = awaitDeliveries(1);
        assertEquals(1, delivered.size(), delivered.toString());
        assertTrue(delivered.getFirst().contains("Tls firing"), delivered.getFirst());
    }

    /** The same table as the toolkit's and the exporter's: the Jetty wiring passes want/need through unchanged. */
    @ParameterizedTest(name = "{0}")
    @CsvFileSource(resources = TestPki.CLIENT_AUTH_TYPES)
    void everyClientAuthType(String type, boolean none, boolean signed, boolean stranger) throws Exception {
        String ca = type.contains("Verify") ? "  client_ca_file: PKI/ca.crt\n" : "";
        start(webConfig(SERVER_TLS + "  client_auth_type: " + type + "\n" + ca));
        assertEquals(none, accepted(pki.client(Optional.empty()), "NoCert"), "without a certificate");
        assertEquals(signed, accepted(pki.client(Optional.of("client")), "Signed"), "with a certificate the CA signed");
        assertEquals(stranger, accepted(pki.client(Optional.of("stranger")), "Stranger"), "with one nobody signed");
    }

    private boolean accepted(HttpClient client, String group) throws Exception {
        try {
            return post(client, "https", "localhost", group).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void relativePathsAreRelativeToTheWebConfigFile() throws Exception {
        Path file = pkiDir.resolve("relative-web.yml");
        Files.writeString(file, "tls_server_config: {cert_file: server.crt, key_file: server.key}\n");
        start(file);
        assertEquals(200, post(pki.client(Optional.empty()), "https", "localhost", "Relative").statusCode());
    }

    @Test
    void noTlsServerConfigServesPlainHttpAsTheToolkitDoes() throws Exception {
        start(webConfig("tls_server_config: {}\n"));
        assertEquals(200, post(HttpClient.newHttpClient(), "http", "127.0.0.1", "Plain").statusCode());
    }

    /** basic_auth_users guards every path, as on the exporter, with the same challenge. */
    @Test
    void basicAuthWithBcryptHashesOverTls() throws Exception {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        start(webConfig(SERVER_TLS + "basic_auth_users:\n  alertmanager: \"" + hash + "\"\n"));
        HttpClient client = pki.client(Optional.empty());
        HttpResponse<String> none = post(client, "https", "localhost", "NoAuth");
        assertEquals(401, none.statusCode());
        assertEquals(Optional.of("Basic realm=\"gpuwatch\", charset=\"UTF-8\""), none.headers().firstValue("WWW-Authenticate"));
        assertEquals(401, post(client, "https", "localhost", "Wrong", "Authorization", basic("alertmanager", "wrong"))
                .statusCode());
        assertEquals(401, post(client, "https", "localhost", "Unknown", "Authorization", basic("mallory", "s3cret"))
                .statusCode());
        assertEquals(200, post(client, "https", "localhost", "Right", "Authorization", basic("alertmanager", "s3cret"))
                .statusCode());
        URI healthz = URI.create("https://localhost:" + receiver.port() + "/healthz");
        assertEquals(401, client.send(HttpRequest.newBuilder(healthz).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode(), "every path, as with exporter-toolkit");
        assertEquals(200, client.send(HttpRequest.newBuilder(healthz).header("Authorization", basic("alertmanager", "s3cret"))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        // the runbooks too, and their links say https
        URI runbook = URI.create(receiver.externalUrl().url() + "/runbooks/gpufelloffthebus");
        assertEquals("https", runbook.getScheme());
        URI reachable = URI.create("https://localhost:" + receiver.port() + runbook.getPath());
        assertEquals(401, client.send(HttpRequest.newBuilder(reachable).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode());
        assertEquals(200, client.send(HttpRequest.newBuilder(reachable).header("Authorization", basic("alertmanager", "s3cret"))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        List<String> delivered = awaitDeliveries(1);
        assertEquals(1, delivered.size(), delivered.toString());
        assertTrue(delivered.getFirst().contains("Right firing"), delivered.getFirst());
    }

    @Test
    void basicAuthUsersAndIngestAuthAreAlternatives() throws Exception {
        Files.writeString(dir.resolve("token"), "s3cret-token\n");
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        Path web = webConfig("basic_auth_users:\n  alertmanager: \"" + hash + "\"\n");
        ConfigException e = assertThrows(ConfigException.class, () -> start(web, """
                ingest:
                  auth:
                    bearer_token_file: %s
                """.formatted(dir.resolve("token"))));
        assertEquals("r.yml:2: ingest.auth: set together with basic_auth_users in --web.config.file; both check the"
                + " Authorization header, so keep one", e.getMessage());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** The flag through the real main in a child JVM: a bad file stops the start with exit code 2 and the key. */
    @Test
    void receiverMainExitsWithTwoAndNamesTheKey() throws Exception {
        Path web = webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/missing.key
                """);
        assertEquals("gpuwatch-receiver: " + web + ":3: tls_server_config.key_file: cannot read "
                + pkiDir.resolve("missing.key") + " (NoSuchFileException)", refusedStart(web));
    }

    /** The exporter prints the same line after its own name (WebSecurityTest). */
    @Test
    void aKeyThatIsNotTheCertificatesStopsTheStart() throws Exception {
        Path web = webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/client.key
                """);
        assertEquals("gpuwatch-receiver: " + web + ":3: tls_server_config.key_file: " + pki.key("client")
                + " does not match the certificate in cert_file " + pki.cert("server"), refusedStart(web));
    }

    private String refusedStart(Path web) throws Exception {
        ChildProcess.Finished p = ChildProcess.run(Command.java("receiver", List.of(), ReceiverMain.class.getName(),
                List.of("--web.listen-address=127.0.0.1:0", "--storage.path=" + dir.resolve("child.db"),
                        "--web.config.file=" + web)), Duration.ofSeconds(60));
        assertEquals(2, p.exitCode(), p.output());
        assertTrue(Files.notExists(dir.resolve("child.db")), "nothing is created when the start is refused");
        return p.output().strip();
    }
}
