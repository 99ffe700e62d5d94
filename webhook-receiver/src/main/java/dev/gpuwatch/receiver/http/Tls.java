package dev.gpuwatch.receiver.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.javalin.config.JavalinConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS from {@code --web.config.file}, in the format of Prometheus' exporter-toolkit (the one Alertmanager,
 * Prometheus and the exporters read), so an existing file works unchanged:
 *
 * <pre>
 * tls_server_config:
 *   cert_file: server.crt          # PEM, the leaf first, then intermediates
 *   key_file: server.key           # PEM, PKCS#8 (BEGIN PRIVATE KEY)
 *   client_auth_type: RequireAndVerifyClientCert   # Go's names; default NoClientCert
 *   client_ca_file: ca.crt         # PEM, needed by VerifyClientCertIfGiven and RequireAndVerifyClientCert
 *   min_version: TLS12             # TLS10..TLS13; default TLS12
 *   max_version: TLS13
 *   cipher_suites: [...]           # IANA names; default the JVM's
 * </pre>
 *
 * Relative paths are relative to the web config file, as in the toolkit. A file without {@code tls_server_config}
 * (or with an empty one) serves plain HTTP, as in the toolkit. When TLS is set the receiver listens with TLS only.
 * Toolkit keys the receiver does not implement are refused by name rather than ignored, since ignoring a security
 * setting would silently weaken it.
 */
public final class Tls {

    private static final Logger LOG = LoggerFactory.getLogger(Tls.class);

    /** Adds the listening connector; {@link #NONE} leaves Javalin's plain HTTP connector. */
    @FunctionalInterface
    public interface Setup {
        void apply(JavalinConfig config, String host, int port);
    }

    public static final Setup NONE = (config, host, port) -> {};

    private static final String T = "tls_server_config";

    private static final Set<String> TOP_KEYS = Set.of(T, "http_server_config", "basic_auth_users");

    private static final Set<String> TLS_KEYS = Set.of("cert_file", "key_file", "client_auth_type", "client_ca_file",
            "min_version", "max_version", "cipher_suites", "prefer_server_cipher_suites");

    /** Toolkit keys that exist but are not implemented here, with what to do instead. */
    private static final Map<String, String> UNSUPPORTED = Map.of(
            "basic_auth_users", "not supported by the receiver; set ingest.auth in --config.file instead",
            T + ".cert", "inline certificates are not supported; use cert_file",
            T + ".key", "inline keys are not supported; use key_file",
            T + ".client_allowed_sans", "not supported by the receiver",
            T + ".curve_preferences", "not supported by the receiver; the JVM's curves are used",
            "http_server_config.headers", "not supported by the receiver");

    /** TLS versions by their toolkit names. */
    enum Version {
        TLS10("TLSv1"), TLS11("TLSv1.1"), TLS12("TLSv1.2"), TLS13("TLSv1.3");

        final String javaName;

        Version(String javaName) {
            this.javaName = javaName;
        }
    }

    /** Go's tls.ClientAuthType, as the toolkit spells them. */
    enum ClientAuth {
        NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert;

        boolean verifies() {
            return this == VerifyClientCertIfGiven || this == RequireAndVerifyClientCert;
        }

        boolean requires() {
            return this == RequireAnyClientCert || this == RequireAndVerifyClientCert;
        }
    }

    /** The checked {@code tls_server_config}: a ready context plus what Jetty applies per connection. */
    record Settings(SSLContext context, List<String> protocols, List<String> cipherSuites, ClientAuth clientAuth,
            X509Certificate leaf) {}

    private Tls() {}

    /**
     * @throws IllegalArgumentException whose message names the file, the line and the key (e.g.
     *     {@code tls_server_config.key_file}) when the config or the files it names are unusable
     */
    public static Setup fromWebConfig(Path file) {
        return read(file).<Setup>map(Tls::setup).orElse(NONE);
    }

    static Optional<Settings> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--web.config.file " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("--web.config.file " + file + ": cannot read ("
                    + e.getClass().getSimpleName() + ")");
        }
        Errors errors = new Errors(file, KeyLines.of(text));
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(text);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            throw new IllegalArgumentException("--web.config.file " + file + ": "
                    + (at == null ? "" : "line " + at.getLineNr() + ": ") + "invalid YAML: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return Optional.empty();
        }
        if (!root.isObject()) {
            throw errors.at("", "expected a mapping with tls_server_config");
        }
        keys(root, "", TOP_KEYS, errors);
        JsonNode http = root.path("http_server_config");
        if (!http.isMissingNode() && !http.isNull()) {
            keys(http, "http_server_config", Set.of("http2"), errors);
            // http2 is accepted for toolkit files; the connector speaks HTTP/1.1, which Alertmanager falls back to
            bool(http, "http_server_config", "http2", errors);
        }
        JsonNode tls = root.path(T);
        if (tls.isMissingNode() || tls.isNull() || (tls.isObject() && tls.isEmpty())) {
            return Optional.empty(); // the toolkit's "TLS disabled"
        }
        keys(tls, T, TLS_KEYS, errors);
        Base base = new Base(file.toAbsolutePath().getParent());
        Path certFile = base.resolve(text(tls, "cert_file", errors)
                .orElseThrow(() -> errors.at(T, "cert_file is required when tls_server_config is set")));
        Path keyFile = base.resolve(text(tls, "key_file", errors)
                .orElseThrow(() -> errors.at(T, "key_file is required when tls_server_config is set")));
        ClientAuth clientAuth = enumValue(tls, "client_auth_type", ClientAuth.class, errors)
                .orElse(ClientAuth.NoClientCert);
        Optional<Path> clientCa = text(tls, "client_ca_file", errors).map(base::resolve);
        if (clientCa.isPresent() && clientAuth == ClientAuth.NoClientCert) {
            // the toolkit refuses this too: CAs without a policy that uses them look like auth but are none
            throw errors.at(T + ".client_ca_file", "set, but client_auth_type is NoClientCert; use"
                    + " RequireAndVerifyClientCert (or VerifyClientCertIfGiven)");
        }
        if (clientCa.isEmpty() && clientAuth.verifies()) {
            throw errors.at(T + ".client_auth_type", clientAuth + " needs client_ca_file");
        }
        Version min = enumValue(tls, "min_version", Version.class, errors).orElse(Version.TLS12);
        Version max = enumValue(tls, "max_version", Version.class, errors).orElse(Version.TLS13);
        if (max.compareTo(min) < 0) {
            throw errors.at(T + ".max_version", max + " is lower than min_version " + min);
        }
        bool(tls, T, "prefer_server_cipher_suites", errors); // ignored by Go since 1.18, accepted for old files
        List<String> suites = strings(tls, "cipher_suites", errors);

        List<X509Certificate> chain = certificates(certFile, T + ".cert_file", errors);
        PrivateKey key = privateKey(keyFile, errors);
        if (!matches(key, chain.getFirst())) {
            throw errors.at(T + ".key_file", keyFile + " does not match the certificate in cert_file " + certFile);
        }
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("receiver", key, new char[0], chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
            TrustManager[] trust = null;
            if (clientAuth.verifies()) {
                trust = clientCas(clientCa.orElseThrow(), errors);
            } else if (clientAuth != ClientAuth.NoClientCert) {
                trust = new TrustManager[] {new AnyClientCertificate()};
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), trust, null);
            SSLParameters supported = context.getSupportedSSLParameters();
            List<String> protocols = new ArrayList<>();
            for (Version v : Version.values()) {
                if (v.compareTo(min) >= 0 && v.compareTo(max) <= 0
                        && Arrays.asList(supported.getProtocols()).contains(v.javaName)) {
                    protocols.add(v.javaName);
                }
            }
            if (protocols.isEmpty()) {
                throw errors.at(T + ".min_version", "no TLS version from " + min + " to " + max + " is supported by this JVM");
            }
            Set<String> supportedSuites = Set.of(supported.getCipherSuites());
            for (String suite : suites) {
                if (!supportedSuites.contains(suite)) {
                    throw errors.at(T + ".cipher_suites", "unsupported cipher suite " + suite);
                }
            }
            return Optional.of(new Settings(context, protocols, suites, clientAuth, chain.getFirst()));
        } catch (IOException | GeneralSecurityException e) {
            throw errors.at(T, "unusable certificate or key: " + e.getMessage());
        }
    }

    private static Setup setup(Settings settings) {
        return (config, host, port) -> config.jetty.addConnector((server, httpConfig) -> {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setSslContext(settings.context());
            ssl.setIncludeProtocols(settings.protocols().toArray(String[]::new));
            if (!settings.cipherSuites().isEmpty()) {
                ssl.setIncludeCipherSuites(settings.cipherSuites().toArray(String[]::new));
            }
            if (settings.clientAuth().requires()) {
                ssl.setNeedClientAuth(true);
            } else if (settings.clientAuth() != ClientAuth.NoClientCert) {
                ssl.setWantClientAuth(true);
            }
            // no SNI host check: Go's server (and so every toolkit user) accepts any Host, e.g. an IP address
            // with insecure_skip_verify; Jetty would answer 400 when the Host is not in the certificate
            httpConfig.addCustomizer(new SecureRequestCustomizer(false));
            ServerConnector connector = new ServerConnector(server, ssl, new HttpConnectionFactory(httpConfig));
            connector.setHost(host);
            connector.setPort(port);
            LOG.info("TLS: certificate {} valid until {}, protocols {}, client certificates {}",
                    settings.leaf().getSubjectX500Principal().getName(), settings.leaf().getNotAfter().toInstant(),
                    settings.protocols(), settings.clientAuth());
            return connector;
        });
    }

    static List<X509Certificate> certificates(Path file, String key, Errors errors) {
        byte[] pem = readFile(file, key, errors);
        List<X509Certificate> certs = new ArrayList<>();
        try {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                certs.add((X509Certificate) c);
            }
        } catch (CertificateException e) {
            throw errors.at(key, file + " holds no valid PEM certificate (" + e.getMessage() + ")");
        }
        if (certs.isEmpty()) {
            throw errors.at(key, file + " holds no PEM certificate (BEGIN CERTIFICATE)");
        }
        return certs;
    }

    private static PrivateKey privateKey(Path file, Errors errors) {
        String key = T + ".key_file";
        String pem = new String(readFile(file, key, errors), StandardCharsets.US_ASCII);
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw errors.at(key, file + " must be a PKCS#8 PEM key (BEGIN PRIVATE KEY); convert with:"
                    + " openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        } catch (IllegalArgumentException e) {
            throw errors.at(key, file + ": the PEM block is not valid base64");
        }
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm: PKCS#8 names its algorithm, but KeyFactory wants it up front
            }
        }
        throw errors.at(key, file + " holds no RSA, EC or Ed25519 key");
    }

    private static byte[] readFile(Path file, String key, Errors errors) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw errors.at(key, "cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Like Go's tls.X509KeyPair: a key that does not belong to the certificate is refused at start. */
    private static boolean matches(PrivateKey key, X509Certificate cert) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            return verify.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static TrustManager[] clientCas(Path file, Errors errors) throws GeneralSecurityException, IOException {
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        int i = 0;
        for (X509Certificate ca : certificates(file, T + ".client_ca_file", errors)) {
            cas.setCertificateEntry("ca" + i++, ca);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        return tmf.getTrustManagers();
    }

    private static void keys(JsonNode node, String path, Set<String> known, Errors errors) {
        if (!node.isObject()) {
            throw errors.at(path, "expected a mapping");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            String full = path.isEmpty() ? name : path + "." + name;
            if (UNSUPPORTED.containsKey(full)) {
                throw errors.at(full, UNSUPPORTED.get(full));
            }
            if (!known.contains(name)) {
                throw errors.at(full, "unknown key; known: " + known.stream().sorted().toList());
            }
        }
    }

    private static Optional<String> text(JsonNode tls, String name, Errors errors) {
        JsonNode value = tls.path(name);
        if (value.isMissingNode() || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw errors.at(T + "." + name, "must be a string");
        }
        return Optional.of(value.asText()).filter(s -> !s.isBlank());
    }

    private static void bool(JsonNode parent, String path, String name, Errors errors) {
        JsonNode value = parent.path(name);
        if (!value.isMissingNode() && !value.isNull() && !value.isBoolean()) {
            throw errors.at(path + "." + name, "must be true or false");
        }
    }

    private static List<String> strings(JsonNode tls, String name, Errors errors) {
        JsonNode value = tls.path(name);
        if (value.isMissingNode() || value.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (value.isArray()) {
            for (JsonNode v : value) {
                if (v.isTextual()) {
                    out.add(v.asText());
                    continue;
                }
                throw errors.at(T + "." + name, "must be a list of strings");
            }
            return List.copyOf(out);
        }
        throw errors.at(T + "." + name, "must be a list of strings");
    }

    private static <E extends Enum<E>> Optional<E> enumValue(JsonNode tls, String name, Class<E> type, Errors errors) {
        Optional<String> text = text(tls, name, errors);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(text.get())) {
                return Optional.of(e);
            }
        }
        throw errors.at(T + "." + name, "must be one of " + Arrays.toString(type.getEnumConstants())
                + ", got " + text.get());
    }

    /** Errors as {@code --web.config.file FILE: line N: KEY: message}. */
    record Errors(Path file, KeyLines lines) {
        IllegalArgumentException at(String key, String message) {
            return new IllegalArgumentException("--web.config.file " + file + ": " + lines.prefix(key)
                    + (key.isEmpty() ? "" : key + ": ") + message);
        }
    }

    private record Base(Path dir) {
        Path resolve(String path) {
            return dir.resolve(path);
        }
    }

    /** RequestClientCert and RequireAnyClientCert: a certificate is asked for but not verified, as in Go. */
    private static final class AnyClientCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a server's trust manager checks no server certificates");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
