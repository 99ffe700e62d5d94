package dev.gpuwatch.exporter.config;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.ConfigSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@code --web.config.file}, in the format of Prometheus's exporter-toolkit: {@code tls_server_config} and
 * {@code basic_auth_users} (bcrypt hashes). Unknown keys are errors, as in the toolkit.
 */
public record WebConfig(Optional<Tls> tls, Map<String, String> basicAuthUsers) {

    public WebConfig {
        basicAuthUsers = Map.copyOf(basicAuthUsers);
    }

    public static WebConfig none() {
        return new WebConfig(Optional.empty(), Map.of());
    }

    /** TLS versions by their toolkit names. */
    public enum TlsVersion {
        TLS10("TLSv1"), TLS11("TLSv1.1"), TLS12("TLSv1.2"), TLS13("TLSv1.3");

        private final String javaName;

        TlsVersion(String javaName) {
            this.javaName = javaName;
        }

        public String javaName() {
            return javaName;
        }
    }

    /** Go's tls.ClientAuthType names, as the toolkit spells them. */
    public enum ClientAuth {
        NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert;

        /** Whether the client's certificate is checked against {@code client_ca_file}. */
        public boolean verifies() {
            return this == VerifyClientCertIfGiven || this == RequireAndVerifyClientCert;
        }

        /** Whether a client without a certificate is refused. */
        public boolean requires() {
            return this == RequireAnyClientCert || this == RequireAndVerifyClientCert;
        }
    }

    public record Tls(Path certFile, Path keyFile, ClientAuth clientAuth, Optional<Path> clientCaFile,
            TlsVersion minVersion, Optional<TlsVersion> maxVersion, List<String> cipherSuites) {
        public Tls {
            cipherSuites = List.copyOf(cipherSuites);
        }
    }

    private static final Pattern BCRYPT = Pattern.compile("^\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}$");
    private static final ConfigReader READER = ConfigReader.create();

    public static WebConfig load(Path path) throws ConfigException {
        ConfigReader.Bound<FileRoot> bound = READER.read(path, FileRoot.class);
        FileRoot root = bound.value();
        ConfigSource file = bound.source();
        Optional<Tls> tls = Optional.empty();
        if (root.tlsServerConfig() != null) {
            tls = Optional.of(tls(root.tlsServerConfig(), file, path));
        }
        Map<String, String> users = new TreeMap<>();
        if (root.basicAuthUsers() != null) {
            for (Map.Entry<String, String> e : root.basicAuthUsers().entrySet()) {
                String key = "basic_auth_users." + e.getKey();
                if (e.getValue() == null || !BCRYPT.matcher(e.getValue()).matches()) {
                    throw file.error(key, "expected a bcrypt hash like $2y$10$... (htpasswd -nBC 10 \"\" | tr -d ':\\n')");
                }
                users.put(e.getKey(), e.getValue());
            }
        }
        return new WebConfig(tls, users);
    }

    private static Tls tls(TlsSection t, ConfigSource file, Path path) throws ConfigException {
        String at = "tls_server_config.";
        if (t.certFile() == null || t.certFile().isBlank()) {
            throw file.error(at + "cert_file", "required when tls_server_config is set");
        }
        if (t.keyFile() == null || t.keyFile().isBlank()) {
            throw file.error(at + "key_file", "required when tls_server_config is set");
        }
        ClientAuth auth = t.clientAuthType() == null ? ClientAuth.NoClientCert : t.clientAuthType();
        Optional<Path> ca = Optional.ofNullable(t.clientCaFile()).filter(s -> !s.isBlank()).map(s -> resolve(path, s));
        if (ca.isPresent() && auth == ClientAuth.NoClientCert) {
            throw file.error(at + "client_ca_file", "client CAs are set without a client_auth_type that uses them");
        }
        if (ca.isEmpty() && auth.verifies()) {
            throw file.error(at + "client_auth_type", auth + " needs client_ca_file");
        }
        TlsVersion min = t.minVersion() == null ? TlsVersion.TLS12 : t.minVersion();
        Optional<TlsVersion> max = Optional.ofNullable(t.maxVersion());
        if (max.isPresent() && max.get().compareTo(min) < 0) {
            throw file.error(at + "max_version", "is lower than min_version " + min);
        }
        return new Tls(resolve(path, t.certFile()), resolve(path, t.keyFile()), auth, ca, min, max,
                t.cipherSuites() == null ? List.of() : t.cipherSuites());
    }

    /** A path written in the file is relative to the file's folder, as in Prometheus. */
    private static Path resolve(Path file, String written) {
        Path p = Path.of(written);
        Path dir = file.toAbsolutePath().getParent();
        return p.isAbsolute() || dir == null ? p : dir.resolve(p);
    }

    record FileRoot(TlsSection tlsServerConfig, HttpSection httpServerConfig, Map<String, String> basicAuthUsers) {}

    record TlsSection(String certFile, String keyFile, ClientAuth clientAuthType, String clientCaFile,
            TlsVersion minVersion, TlsVersion maxVersion, List<String> cipherSuites) {}

    /** Accepted for compatibility with toolkit files; the JDK server speaks HTTP/1.1 only, so {@code http2} has no effect. */
    record HttpSection(Boolean http2) {}
}
