package dev.gpuwatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.testkit.pki.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The file's keys, their defaults, and every error naming its key and line, as both binaries report them. */
class WebConfigTest {

    @TempDir
    static Path pkiDir;
    static TestPki pki;

    @TempDir
    Path dir;

    private static final String HASH = "$2y$10$X0.CkzbzK4nSSiX8Ay7fruzUNs0N2ZVz5DVpVh1MpZNXbmGuM2Gf.";

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(pkiDir);
    }

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("web.yml");
        Files.writeString(file, yaml.replace("PKI", pkiDir.toString()));
        return file;
    }

    private WebConfigFile bind(String yaml) throws Exception {
        return WebConfig.bind(write(yaml)).value();
    }

    /** The message, with the file's path written as {@code web.yml}. */
    private String error(String yaml) throws IOException {
        Path file = write(yaml);
        String message = assertThrows(ConfigException.class, () -> WebConfig.load(file)).getMessage();
        assertTrue(message.startsWith(file + ":"), message);
        return "web.yml" + message.substring(file.toString().length());
    }

    @Test
    void readsTheToolkitFormat() throws Exception {
        WebConfigFile c = bind("""
                tls_server_config:
                  cert_file: server.crt
                  key_file: /etc/keys/server.key
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: ca.crt
                  min_version: TLS13
                  cipher_suites: [TLS_AES_128_GCM_SHA256]
                  prefer_server_cipher_suites: false
                http_server_config:
                  http2: false
                basic_auth_users:
                  prometheus: "%s"
                """.formatted(HASH));
        TlsServerConfig tls = c.tlsServerConfig().orElseThrow();
        assertEquals(Optional.of(dir.resolve("server.crt")), tls.certFile(), "relative to the web config file");
        assertEquals(Optional.of(Path.of("/etc/keys/server.key")), tls.keyFile());
        assertEquals(ClientAuthType.RequireAndVerifyClientCert, tls.clientAuthType());
        assertEquals(Optional.of(dir.resolve("ca.crt")), tls.clientCaFile());
        assertEquals(TlsVersion.TLS13, tls.minVersion());
        assertEquals(TlsVersion.TLS13, tls.maxVersion());
        assertEquals(List.of("TLS_AES_128_GCM_SHA256"), tls.cipherSuites());
        assertEquals(false, tls.serverOrder());
        assertEquals(Optional.of(false), c.httpServerConfig().orElseThrow().http2());
        assertEquals(Map.of("prometheus", HASH), c.basicAuthUsers());
    }

    @Test
    void defaultsAreTheToolkits() throws Exception {
        TlsServerConfig tls = bind("tls_server_config: {cert_file: a.crt, key_file: a.key}\n").tlsServerConfig().orElseThrow();
        assertEquals(ClientAuthType.NoClientCert, tls.clientAuthType());
        assertEquals(TlsVersion.TLS12, tls.minVersion());
        assertEquals(TlsVersion.TLS13, tls.maxVersion());
        assertEquals(List.of(), tls.cipherSuites());
        assertEquals(true, tls.serverOrder());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "tls_server_config:\n", "tls_server_config: {}\n", "http_server_config: {http2: true}\n",
            "basic_auth_users: {}\n"})
    void withoutACertificateItIsPlainHttpWithoutAuth(String yaml) throws Exception {
        WebConfig web = WebConfig.load(write(yaml));
        assertEquals(Optional.empty(), web.tls());
        assertEquals(Optional.empty(), web.basicAuth());
    }

    @Test
    void loadsTlsAndBasicAuth() throws Exception {
        WebConfig web = WebConfig.load(write("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                basic_auth_users:
                  prometheus: "%s"
                """.formatted(HASH)));
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), web.tls().orElseThrow().protocols());
        assertTrue(web.tls().orElseThrow().summary().startsWith("certificate CN=localhost valid until "),
                web.tls().orElseThrow().summary());
        assertTrue(web.basicAuth().isPresent());
    }

    @Test
    void relativePathsAreRelativeToTheWebConfigFile() throws Exception {
        Path file = pkiDir.resolve("relative-web.yml");
        Files.writeString(file, "tls_server_config: {cert_file: server.crt, key_file: server.key}\n");
        assertTrue(WebConfig.load(file).tls().isPresent());
    }

    @Test
    void settingsThatContradictEachOtherNameTheKeyAndItsLine() throws Exception {
        assertEquals("web.yml:1: tls_server_config.key_file: required when tls_server_config is not empty",
                error("tls_server_config:\n  cert_file: a.crt\n"));
        assertEquals("web.yml:1: tls_server_config.cert_file: required when tls_server_config is not empty",
                error("tls_server_config:\n  key_file: a.key\n"));
        assertEquals("web.yml:1: tls_server_config.cert_file: required when tls_server_config is not empty",
                error("tls_server_config:\n  min_version: TLS13\n"));
        assertEquals("web.yml:4: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs client_ca_file",
                error("""
                        tls_server_config:
                          cert_file: a.crt
                          key_file: a.key
                          client_auth_type: RequireAndVerifyClientCert
                        """));
        assertEquals("web.yml:4: tls_server_config.client_auth_type: VerifyClientCertIfGiven needs client_ca_file",
                error("""
                        tls_server_config:
                          cert_file: a.crt
                          key_file: a.key
                          client_auth_type: VerifyClientCertIfGiven
                        """));
        assertEquals("web.yml:4: tls_server_config.client_ca_file: set, but client_auth_type is NoClientCert; use"
                + " RequireAndVerifyClientCert (or VerifyClientCertIfGiven)", error("""
                tls_server_config:
                  cert_file: a.crt
                  key_file: a.key
                  client_ca_file: ca.crt
                """));
        assertEquals("web.yml:4: tls_server_config.max_version: TLS12 is lower than min_version TLS13", error("""
                tls_server_config:
                  cert_file: a.crt
                  key_file: a.key
                  max_version: TLS12
                  min_version: TLS13
                """));
    }

    @Test
    void badValuesNameTheKeyAndItsLine() throws Exception {
        assertEquals("web.yml:4: tls_server_config.client_auth_type: expected one of NoClientCert, RequestClientCert,"
                + " RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert, got \"RequireClientCert\"",
                error("""
                        tls_server_config:
                          cert_file: a.crt
                          key_file: a.key
                          client_auth_type: RequireClientCert
                        """));
        assertEquals("web.yml:2: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, got \"TLS14\"",
                error("tls_server_config:\n  min_version: TLS14\n"));
        assertEquals("web.yml:2: basic_auth_users.alice: expected a bcrypt hash like $2y$10$... (htpasswd -nBC 10 \"\""
                + " | tr -d ':\\n')", error("basic_auth_users:\n  alice: secret\n"));
        assertEquals("web.yml:3: basic_auth_users.bob: expected a bcrypt hash like $2y$10$... (htpasswd -nBC 10 \"\""
                + " | tr -d ':\\n')", error("basic_auth_users:\n  alice: \"%s\"\n  bob:\n".formatted(HASH)));
        assertEquals("web.yml:2: tls_server_config.prefer_server_cipher_suites: expected true or false",
                error("tls_server_config:\n  prefer_server_cipher_suites: maybe\n"));
        assertEquals("web.yml:2: http_server_config.http2: expected true or false",
                error("http_server_config:\n  http2: yes please\n"));
        assertEquals("web.yml:4: tls_server_config.min_versoin: unknown key (known keys: cert, cert_file, cipher_suites,"
                + " client_allowed_sans, client_auth_type, client_ca, client_ca_file, curve_preferences, key, key_file,"
                + " max_version, min_version, prefer_server_cipher_suites)", error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  min_versoin: TLS13
                """));
        assertEquals("web.yml:1: tls_config: unknown key (known keys: basic_auth_users, http_server_config, rate_limit,"
                + " tls_server_config)", error("tls_config:\n  cert_file: a\n"));
    }

    /** Toolkit keys gpuwatch does not implement: refused by name, since ignoring them would weaken security. */
    @Test
    void toolkitKeysThatAreNotImplementedAreRefusedByName() throws Exception {
        assertEquals("web.yml:2: tls_server_config.cert: inline certificates are not supported; use cert_file",
                error("tls_server_config:\n  cert: \"-----BEGIN CERTIFICATE-----\"\n"));
        assertEquals("web.yml:2: tls_server_config.key: inline keys are not supported; use key_file",
                error("tls_server_config:\n  key: secret\n"));
        assertEquals("web.yml:2: tls_server_config.client_ca: inline client CAs are not supported; use client_ca_file",
                error("tls_server_config:\n  client_ca: ca\n"));
        assertEquals("web.yml:2: tls_server_config.client_allowed_sans: not supported by gpuwatch",
                error("tls_server_config:\n  client_allowed_sans: [prometheus]\n"));
        assertEquals("web.yml:2: tls_server_config.curve_preferences: not supported by gpuwatch; the JVM's curves are used",
                error("tls_server_config:\n  curve_preferences: [X25519]\n"));
        assertEquals("web.yml:2: http_server_config.headers: not supported by gpuwatch",
                error("http_server_config:\n  headers: {X-Frame-Options: deny}\n"));
        assertEquals("web.yml:1: rate_limit: not supported by gpuwatch", error("rate_limit: {interval: 1s, burst: 10}\n"));
    }

    @Test
    void filesThatCannotBeUsedNameTheKeyAndItsLine() throws Exception {
        Path missing = pkiDir.resolve("missing.key");
        assertEquals("web.yml:3: tls_server_config.key_file: cannot read " + missing + " (NoSuchFileException)", error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/missing.key
                """));
        Files.writeString(dir.resolve("garbage.crt"), "not a certificate\n");
        assertEquals("web.yml:2: tls_server_config.cert_file: " + dir.resolve("garbage.crt")
                + " holds no PEM certificate (BEGIN CERTIFICATE)", error("""
                tls_server_config:
                  cert_file: %s
                  key_file: PKI/server.key
                """.formatted(dir.resolve("garbage.crt"))));
        assertEquals("web.yml:2: tls_server_config.cert_file: cannot read " + dir + " (IOException)", error("""
                tls_server_config:
                  cert_file: %s
                  key_file: PKI/server.key
                """.formatted(dir)));
        assertEquals("web.yml:3: tls_server_config.key_file: " + pkiDir.resolve("server.crt") + " holds no PEM private"
                + " key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.crt
                """));
        assertEquals("web.yml:5: tls_server_config.client_ca_file: " + dir.resolve("garbage.crt")
                + " holds no PEM certificate (BEGIN CERTIFICATE)", error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/server.key
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: %s
                """.formatted(dir.resolve("garbage.crt"))));
        assertEquals("web.yml: no such file", "web.yml" + assertThrows(ConfigException.class,
                () -> WebConfig.load(dir.resolve("absent.yml"))).getMessage()
                .substring(dir.resolve("absent.yml").toString().length()));
    }

    /** Both binaries print exactly this (after their name) for a key that is not the certificate's. */
    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() throws Exception {
        assertEquals("web.yml:3: tls_server_config.key_file: " + pki.key("client") + " does not match the certificate"
                + " in cert_file " + pki.cert("server"), error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/client.key
                """));
        pki.server("rsa", TestPki.KeyType.RSA_2048, TestPki.KeyFormat.PKCS1);
        assertEquals("web.yml:3: tls_server_config.key_file: " + pki.key("rsa") + " does not match the certificate"
                + " in cert_file " + pki.cert("server"), error("""
                tls_server_config:
                  cert_file: PKI/server.crt
                  key_file: PKI/rsa.key
                """), "an RSA key for an EC certificate");
    }

    @Test
    void cipherSuitesTheJvmDoesNotEnableAreRefused() throws Exception {
        assertEquals("web.yml:6: tls_server_config.cipher_suites[1]: unsupported cipher suite TLS_RSA_WITH_NULL_SHA256",
                error("""
                        tls_server_config:
                          cert_file: PKI/server.crt
                          key_file: PKI/server.key
                          cipher_suites:
                            - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                            - TLS_RSA_WITH_NULL_SHA256
                        """));
    }
}
