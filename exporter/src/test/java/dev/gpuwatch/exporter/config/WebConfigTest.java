package dev.gpuwatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebConfigTest {
    @TempDir
    Path dir;

    private static final String HASH = "$2y$10$X0.CkzbzK4nSSiX8Ay7fruzUNs0N2ZVz5DVpVh1MpZNXbmGuM2Gf.";

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("web.yml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void readsTheToolkitFormat() throws Exception {
        WebConfig c = WebConfig.load(write("""
                tls_server_config:
                  cert_file: server.crt
                  key_file: /etc/keys/server.key
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: ca.crt
                  min_version: TLS13
                  cipher_suites: [TLS_AES_128_GCM_SHA256]
                http_server_config:
                  http2: false
                basic_auth_users:
                  prometheus: "%s"
                """.formatted(HASH)));
        WebConfig.Tls tls = c.tls().orElseThrow();
        assertEquals(dir.resolve("server.crt"), tls.certFile());
        assertEquals(Path.of("/etc/keys/server.key"), tls.keyFile());
        assertEquals(WebConfig.ClientAuth.RequireAndVerifyClientCert, tls.clientAuth());
        assertEquals(Optional.of(dir.resolve("ca.crt")), tls.clientCaFile());
        assertEquals(WebConfig.TlsVersion.TLS13, tls.minVersion());
        assertEquals(List.of("TLS_AES_128_GCM_SHA256"), tls.cipherSuites());
        assertEquals(Map.of("prometheus", HASH), c.basicAuthUsers());
    }

    private String error(String yaml) throws IOException {
        Path file = write(yaml);
        return assertThrows(ConfigException.class, () -> WebConfig.load(file)).getMessage().replace(file.toString(), "web.yml");
    }

    @Test
    void errorsNameTheField() throws IOException {
        assertEquals("web.yml:1: tls_server_config.key_file: required when tls_server_config is set",
                error("tls_server_config:\n  cert_file: a.crt\n"));
        assertEquals("web.yml:4: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs client_ca_file",
                error("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: RequireAndVerifyClientCert\n"));
        assertEquals("web.yml:2: basic_auth_users.alice: expected a bcrypt hash like $2y$10$... (htpasswd -nBC 10 \"\" | tr -d ':\\n')",
                error("basic_auth_users:\n  alice: secret\n"));
        assertTrue(error("tls_server_config:\n  min_version: TLS14\n")
                .startsWith("web.yml:2: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, got \"TLS14\""));
        assertTrue(error("tls_config:\n  cert_file: a\n").startsWith("web.yml:1: tls_config: unknown key"));
    }
}
