package dev.gpuwatch.receiver.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.javalin.config.JavalinConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * HTTPS from {@code --web.config.file} in Prometheus' web-config shape ({@code tls_server_config: cert_file,
 * key_file}, PEM; the key in PKCS#8). When set, the receiver listens with TLS only.
 */
public final class Tls {

    /** Adds the listening connector; {@link #NONE} leaves Javalin's plain HTTP connector. */
    @FunctionalInterface
    public interface Setup {
        void apply(JavalinConfig config, String host, int port);
    }

    public static final Setup NONE = (config, host, port) -> {};

    private static final char[] STORE_PASSWORD = "in-memory".toCharArray();

    private Tls() {}

    record WebConfig(@JsonProperty("tls_server_config") TlsServerConfig tlsServerConfig) {}

    record TlsServerConfig(@JsonProperty("cert_file") String certFile, @JsonProperty("key_file") String keyFile) {}

    /** @throws IllegalArgumentException naming the file and key when the config or its PEM files are unusable */
    public static Setup fromWebConfig(Path file) {
        WebConfig web;
        try {
            web = new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .readValue(file.toFile(), WebConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("--web.config.file " + file + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (web == null || web.tlsServerConfig() == null) {
            return NONE;
        }
        TlsServerConfig tls = web.tlsServerConfig();
        if (tls.certFile() == null || tls.keyFile() == null) {
            throw new IllegalArgumentException("--web.config.file " + file + ": tls_server_config needs cert_file and key_file");
        }
        Path base = file.toAbsolutePath().getParent();
        KeyStore keyStore = keyStore(base.resolve(tls.certFile()), base.resolve(tls.keyFile()));
        return (config, host, port) -> config.jetty.addConnector((server, httpConfig) -> {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStore(keyStore);
            ssl.setKeyStorePassword(new String(STORE_PASSWORD));
            httpConfig.addCustomizer(new SecureRequestCustomizer());
            ServerConnector connector = new ServerConnector(server, ssl, new HttpConnectionFactory(httpConfig));
            connector.setHost(host);
            connector.setPort(port);
            return connector;
        });
    }

    static KeyStore keyStore(Path certFile, Path keyFile) {
        try {
            Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(certFile)));
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("cert_file " + certFile + " holds no certificate");
            }
            String pem = Files.readString(keyFile);
            if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
                throw new IllegalArgumentException("key_file " + keyFile + " must be a PKCS#8 PEM key (BEGIN PRIVATE KEY);"
                        + " convert with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem");
            }
            byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
            PrivateKey key = privateKey(der);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("receiver", key, STORE_PASSWORD, chain.toArray(Certificate[]::new));
            return store;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read TLS files: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("unusable TLS certificate or key: " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }
}
