package dev.gpuwatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.pki.TestPki;
import dev.gpuwatch.testkit.pki.TestPki.KeyFormat;
import dev.gpuwatch.testkit.pki.TestPki.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvFileSource;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real handshakes against a server set up only from {@link ServerTls}: every key form, every
 * {@code client_auth_type}, min and max versions and cipher suites behave as in exporter-toolkit (Go).
 */
class ServerTlsTest {

    @TempDir
    static Path pkiDir;
    static TestPki pki;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(pkiDir);
    }

    private ServerTls tls(String yaml) throws Exception {
        Path file = dir.resolve("web.yml");
        Files.writeString(file, yaml.replace("PKI", pkiDir.toString()));
        return WebConfig.load(file).tls().orElseThrow();
    }

    private static final String SERVER = """
            tls_server_config:
              cert_file: PKI/server.crt
              key_file: PKI/server.key
            """;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"EC_P256, SEC1", "EC_P256, PKCS8", "RSA_2048, PKCS1", "RSA_2048, PKCS8", "ED25519, PKCS8"})
    void everyKeyFormServes(KeyType type, KeyFormat format) throws Exception {
        String name = "served-" + type + "-" + format;
        pki.server(name, type, format);
        try (Handshakes server = new Handshakes(tls("""
                tls_server_config:
                  cert_file: PKI/%s.crt
                  key_file: PKI/%s.key
                """.formatted(name, name)))) {
            assertEquals(Optional.of("TLSv1.3"), server.connect(pki.clientContext(Optional.empty())));
            assertEquals(Optional.of("TLSv1.2"), server.connect(pki.clientContext(Optional.empty()), "TLSv1.2"));
        }
    }

    /** Go's semantics: the two types without "Verify" take any certificate; the two "Require" ones need one. */
    @ParameterizedTest(name = "{0}")
    @CsvFileSource(resources = TestPki.CLIENT_AUTH_TYPES)
    void everyClientAuthType(String type, boolean none, boolean signed, boolean stranger) throws Exception {
        String ca = type.contains("Verify") ? "  client_ca_file: PKI/ca.crt\n" : "";
        ServerTls tls = tls(SERVER + "  client_auth_type: " + type + "\n" + ca);
        assertEquals(type.startsWith("Require"), tls.needClientAuth());
        assertEquals(!type.startsWith("Require") && !type.equals("NoClientCert"), tls.wantClientAuth());
        try (Handshakes server = new Handshakes(tls)) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                assertEquals(none, server.connect(pki.clientContext(Optional.empty()), protocol).isPresent(),
                        protocol + " without a certificate");
                assertEquals(signed, server.connect(pki.clientContext(Optional.of("client")), protocol).isPresent(),
                        protocol + " with a certificate the CA signed");
                assertEquals(stranger, server.connect(pki.clientContext(Optional.of("stranger")), protocol).isPresent(),
                        protocol + " with a certificate nobody signed");
            }
        }
    }

    @Test
    void minAndMaxVersionBoundWhatIsNegotiated() throws Exception {
        try (Handshakes server = new Handshakes(tls(SERVER + "  min_version: TLS13\n"))) {
            assertEquals(Optional.of("TLSv1.3"), server.connect(pki.clientContext(Optional.empty())));
            assertEquals(Optional.empty(), server.connect(pki.clientContext(Optional.empty()), "TLSv1.2"));
        }
        try (Handshakes server = new Handshakes(tls(SERVER + "  max_version: TLS12\n"))) {
            assertEquals(Optional.of("TLSv1.2"), server.connect(pki.clientContext(Optional.empty())));
            assertEquals(Optional.empty(), server.connect(pki.clientContext(Optional.empty()), "TLSv1.3"));
        }
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), tls(SERVER).protocols(), "the toolkit's defaults");
        assertEquals(List.of("TLSv1.3"), tls(SERVER + "  min_version: TLS13\n  max_version: TLS13\n").protocols());
    }

    @Test
    void cipherSuitesChooseAmongTls12SuitesAndTls13KeepsItsOwn() throws Exception {
        String only = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
        ServerTls tls = tls(SERVER + "  cipher_suites: [" + only + "]\n");
        assertEquals(only, tls.cipherSuites().getFirst());
        assertTrue(tls.cipherSuites().contains("TLS_AES_128_GCM_SHA256"), tls.cipherSuites().toString());
        assertFalse(tls.cipherSuites().contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
        try (Handshakes server = new Handshakes(tls)) {
            assertEquals(Optional.of(only), server.connectWithSuite(pki.clientContext(Optional.empty()), "TLSv1.2", only));
            assertEquals(Optional.empty(), server.connectWithSuite(pki.clientContext(Optional.empty()), "TLSv1.2",
                    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
            assertEquals(Optional.of("TLS_AES_128_GCM_SHA256"), server.connectWithSuite(
                    pki.clientContext(Optional.empty()), "TLSv1.3", "TLS_AES_128_GCM_SHA256"));
        }
        // with only TLS 1.2 allowed, the TLS 1.3 suites are not added
        assertEquals(List.of(only), tls(SERVER + "  cipher_suites: [" + only + "]\n  max_version: TLS12\n").cipherSuites());
    }

    @Test
    void parametersCarryEverySetting() throws Exception {
        SSLParameters p = tls(SERVER + """
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: PKI/ca.crt
                  min_version: TLS13
                """).parameters();
        assertEquals(List.of("TLSv1.3"), List.of(p.getProtocols()));
        assertTrue(p.getNeedClientAuth());
        assertTrue(p.getUseCipherSuitesOrder(), "prefer_server_cipher_suites defaults to true");
        assertFalse(tls(SERVER + "  prefer_server_cipher_suites: false\n").parameters().getUseCipherSuitesOrder());
        assertFalse(tls(SERVER).parameters().getNeedClientAuth());
        assertFalse(tls(SERVER).parameters().getWantClientAuth());
    }
}
