package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.ReceiverMain;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --web.config.file} for real: certificates made with keytool, the receiver serving HTTPS through Jetty,
 * JDK HttpClients that trust only the test CA, client certificates, and every bad config naming its key.
 */
class TlsTest {

    @TempDir
    static Path pkiDir;
    static TestPki pki;

    @TempDir
    Path dir;

    private Receiver receiver;

    @BeforeAll
    static void makeCertificates() throws Exception {
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
        var config = ConfigLoader.parse("r.yml", """
                receivers:
                  - name: default
                    log_configs: [{file: %s}]
                """.formatted(dir.resolve("deliveries.log")));
        var base = Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0);
        receiver = Receiver.start(config, new Receiver.Options(base.storagePath(), base.host(), 0, base.maxPageCount(),
                Tls.fromWebConfig(webConfig), base.enricher(), base.clock(), base.dispatchOverride()));
    }

    private HttpResponse<String> post(HttpClient client, String scheme, String host, String group) throws Exception {
        URI uri = URI.create(scheme + "://" + host + ":" + receiver.port() + "/api/v1/alerts");
        return client.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification(group, "firing", 1))).build(),
                HttpResponse.BodyHandlers.ofString());
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

    @Test
    void requireAndVerifyClientCertAcceptsOnlyClientsSignedByTheCa() throws Exception {
        start(webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: PKI/ca.crt
                  min_version: TLS12
                """));
        assertEquals(200, post(pki.client(Optional.of("client")), "https", "localhost", "Signed").statusCode());
        assertThrows(IOException.class, () -> post(pki.client(Optional.empty()), "https", "localhost", "NoCert"));
        assertThrows(IOException.class, () -> post(pki.client(Optional.of("stranger")), "https", "localhost", "Stranger"));
        List<String> delivered = awaitDeliveries(1);
        assertEquals(1, delivered.size(), delivered.toString());
        assertTrue(delivered.getFirst().contains("Signed firing"), delivered.getFirst());
    }

    @Test
    void verifyClientCertIfGivenLetsClientsWithoutOneIn() throws Exception {
        start(webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  client_auth_type: VerifyClientCertIfGiven
                  client_ca_file: PKI/ca.crt
                """));
        assertEquals(200, post(pki.client(Optional.empty()), "https", "localhost", "NoCert").statusCode());
        assertEquals(200, post(pki.client(Optional.of("client")), "https", "localhost", "Signed").statusCode());
        assertThrows(IOException.class, () -> post(pki.client(Optional.of("stranger")), "https", "localhost", "Stranger"));
    }

    @Test
    void requireAnyClientCertWantsACertificateButDoesNotVerifyItAsInGo() throws Exception {
        start(webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  client_auth_type: RequireAnyClientCert
                """));
        assertEquals(200, post(pki.client(Optional.of("stranger")), "https", "localhost", "Stranger").statusCode());
        assertThrows(IOException.class, () -> post(pki.client(Optional.empty()), "https", "localhost", "NoCert"));
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

    private String error(String yaml) throws IOException {
        Path file = webConfig(yaml);
        String message = assertThrows(IllegalArgumentException.class, () -> Tls.fromWebConfig(file)).getMessage();
        assertTrue(message.startsWith("--web.config.file " + file + ": "), message);
        return message.substring(("--web.config.file " + file + ": ").length());
    }

    @Test
    void badConfigsNameTheKeyAndItsLine() throws Exception {
        Path missing = pkiDir.resolve("missing.key");
        assertEquals("line 3: tls_server_config.key_file: cannot read " + missing + " (NoSuchFileException)", error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/missing.key
                """));
        Files.writeString(dir.resolve("garbage.crt"), "not a certificate\n");
        assertTrue(error("""
                tls_server_config:
                  cert_file: %s
                  key_file: PKI/server.key
                """.formatted(dir.resolve("garbage.crt"))).startsWith(
                        "line 2: tls_server_config.cert_file: " + dir.resolve("garbage.crt") + " holds no"));
        assertEquals("line 2: tls_server_config.cert_file: cannot read " + dir + " (IOException)", error("""
                tls_server_config:
                  cert_file: %s
                  key_file: PKI/server.key
                """.formatted(dir)));
        Files.writeString(dir.resolve("pkcs1.key"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        assertTrue(error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: %s
                """.formatted(dir.resolve("pkcs1.key"))).startsWith(
                        "line 3: tls_server_config.key_file: " + dir.resolve("pkcs1.key") + " must be a PKCS#8 PEM key"));
        assertEquals("line 3: tls_server_config.key_file: " + pkiDir.resolve("client.key") + " does not match the"
                + " certificate in cert_file " + pkiDir.resolve("server.crt"), error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/client.key
                """));
        assertEquals("line 1: tls_server_config: key_file is required when tls_server_config is set",
                error("tls_server_config: {cert_file: PKI/server.crt}\n"));
    }

    @Test
    void badSettingsNameTheKeyAndItsLine() throws Exception {
        assertEquals("line 4: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs client_ca_file",
                error("""
                        tls_server_config:
                          cert_file: PKI/server.crt
                          key_file: PKI/server.key
                          client_auth_type: RequireAndVerifyClientCert
                        """));
        assertTrue(error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  client_ca_file: PKI/ca.crt
                """).startsWith("line 4: tls_server_config.client_ca_file: set, but client_auth_type is NoClientCert"));
        assertEquals("line 4: tls_server_config.client_auth_type: must be one of [NoClientCert, RequestClientCert,"
                + " RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert], got RequireClientCert",
                error("""
                        tls_server_config:
                          cert_file: PKI/server.crt
                          key_file: PKI/server.key
                          client_auth_type: RequireClientCert
                        """));
        assertEquals("line 4: tls_server_config.max_version: TLS12 is lower than min_version TLS13", error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  max_version: TLS12
                  min_version: TLS13
                """));
        assertTrue(error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  certfile: PKI/server.key
                """).startsWith("line 3: tls_server_config.certfile: unknown key; known: ["));
        assertEquals("line 1: basic_auth_users: not supported by the receiver; set ingest.auth in --config.file"
                + " instead", error("basic_auth_users: {alertmanager: x}\n"));
    }

    /** The flag through the real main in a child JVM: a bad file stops the start with exit code 2 and the key. */
    @Test
    void receiverMainExitsWithTwoAndNamesTheKey() throws Exception {
        Path web = webConfig("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/missing.key
                """);
        ChildProcess.Finished p = ChildProcess.run(Command.java("receiver", List.of(), ReceiverMain.class.getName(),
                List.of("--web.listen-address=127.0.0.1:0", "--storage.path=" + dir.resolve("child.db"),
                        "--web.config.file=" + web)), Duration.ofSeconds(60));
        String output = p.output();
        assertEquals(2, p.exitCode(), output);
        assertEquals("gpuwatch-receiver: --web.config.file " + web + ": line 3: tls_server_config.key_file: cannot read "
                + pkiDir.resolve("missing.key") + " (NoSuchFileException)", output.strip());
        assertTrue(Files.notExists(dir.resolve("child.db")), "nothing is created when the start is refused");
    }
}
