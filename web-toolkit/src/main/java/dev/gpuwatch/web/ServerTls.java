package dev.gpuwatch.web;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigSource;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A checked {@code tls_server_config}: the server's {@link SSLContext} and what every connection is set up with
 * (protocols, cipher suites, client certificates). Both servers apply exactly these, the exporter's JDK
 * {@code HttpsServer} through {@link #parameters()}, the receiver's Jetty connector through the same values, so
 * one file negotiates the same way on both.
 */
public final class ServerTls {

    private static final String AT = "tls_server_config.";
    private static final char[] NO_PASSWORD = new char[0];

    private final SSLContext context;
    private final List<String> protocols;
    private final List<String> cipherSuites;
    private final ClientAuthType clientAuth;
    private final boolean serverCipherOrder;
    private final X509Certificate leaf;

    private ServerTls(SSLContext context, List<String> protocols, List<String> cipherSuites,
            ClientAuthType clientAuth, boolean serverCipherOrder, X509Certificate leaf) {
        this.context = context;
        this.protocols = protocols;
        this.cipherSuites = cipherSuites;
        this.clientAuth = clientAuth;
        this.serverCipherOrder = serverCipherOrder;
        this.leaf = leaf;
    }

    /** Reads the certificate, key and client CAs {@code tls} names; every problem names its key and line. */
    static ServerTls load(TlsServerConfig tls, ConfigSource source) throws ConfigException {
        Path certFile = tls.certFile().orElseThrow();
        Path keyFile = tls.keyFile().orElseThrow();
        List<X509Certificate> chain = read(() -> Pem.certificates(certFile), source, "cert_file");
        PrivateKey key = read(() -> Pem.privateKey(keyFile), source, "key_file");
        if (!Pem.belongTogether(key, chain.getFirst())) {
            throw source.error(AT + "key_file", keyFile + " does not match the certificate in cert_file " + certFile);
        }
        Optional<List<X509Certificate>> clientCas = Optional.empty();
        if (tls.clientCaFile().isPresent()) {
            clientCas = Optional.of(read(() -> Pem.certificates(tls.clientCaFile().get()), source, "client_ca_file"));
        }
        SSLContext context;
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", key, NO_PASSWORD, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, NO_PASSWORD);
            context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), trust(tls.clientAuthType(), clientCas), null);
        } catch (IOException | GeneralSecurityException e) {
            throw source.error("tls_server_config", "unusable certificate or key: " + e.getMessage());
        }
        List<String> protocols = protocols(tls, context.getSupportedSSLParameters(), source);
        return new ServerTls(context, protocols, cipherSuites(tls, protocols, context.getDefaultSSLParameters(), source),
                tls.clientAuthType(), tls.serverOrder(), chain.getFirst());
    }

    private static List<String> protocols(TlsServerConfig tls, SSLParameters supported, ConfigSource source)
            throws ConfigException {
        List<String> protocols = new ArrayList<>();
        for (TlsVersion v : TlsVersion.values()) {
            if (v.compareTo(tls.minVersion()) >= 0 && v.compareTo(tls.maxVersion()) <= 0
                    && Arrays.asList(supported.getProtocols()).contains(v.javaName())) {
                protocols.add(v.javaName());
            }
        }
        if (protocols.isEmpty()) {
            throw source.error(AT + "min_version", "no TLS version from " + tls.minVersion() + " to "
                    + tls.maxVersion() + " is supported by this JVM");
        }
        return List.copyOf(protocols);
    }

    /**
     * The JVM's enabled suites, or those of {@code cipher_suites} in their order. As in Go, {@code cipher_suites}
     * chooses among the suites of TLS 1.2 and below; TLS 1.3 keeps the JVM's own (its names have no {@code _WITH_}).
     */
    private static List<String> cipherSuites(TlsServerConfig tls, List<String> protocols, SSLParameters defaults,
            ConfigSource source) throws ConfigException {
        List<String> enabled = List.of(defaults.getCipherSuites());
        if (tls.cipherSuites().isEmpty()) {
            return enabled;
        }
        List<String> suites = new ArrayList<>();
        for (int i = 0; i < tls.cipherSuites().size(); i++) {
            String suite = tls.cipherSuites().get(i);
            if (!enabled.contains(suite)) {
                throw source.error(AT + "cipher_suites[" + i + "]", "unsupported cipher suite " + suite);
            }
            suites.add(suite);
        }
        if (protocols.contains(TlsVersion.TLS13.javaName())) {
            enabled.stream().filter(s -> !s.contains("_WITH_") && !suites.contains(s)).forEach(suites::add);
        }
        return List.copyOf(suites);
    }

    private static TrustManager[] trust(ClientAuthType clientAuth, Optional<List<X509Certificate>> clientCas)
            throws GeneralSecurityException, IOException {
        if (!clientAuth.asks()) {
            return null; // SSLContext.init's "the default": no client certificate is ever asked for
        }
        if (!clientAuth.verifies()) {
            return new TrustManager[] {new AnyClientCertificate(clientCas.orElse(List.of()))};
        }
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        int i = 0;
        for (X509Certificate ca : clientCas.orElseThrow()) {
            cas.setCertificateEntry("ca" + i++, ca);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        return tmf.getTrustManagers();
    }

    private interface PemRead<T> {
        T read() throws Pem.Unusable;
    }

    private static <T> T read(PemRead<T> read, ConfigSource source, String key) throws ConfigException {
        try {
            return read.read();
        } catch (Pem.Unusable e) {
            throw source.error(AT + key, e.getMessage());
        }
    }

    public SSLContext context() {
        return context;
    }

    /** A fresh copy of what each connection uses: protocols, cipher suites and their order, client certificates. */
    public SSLParameters parameters() {
        SSLParameters p = context.getDefaultSSLParameters();
        p.setProtocols(protocols.toArray(String[]::new));
        p.setCipherSuites(cipherSuites.toArray(String[]::new));
        p.setUseCipherSuitesOrder(serverCipherOrder);
        if (needClientAuth()) {
            p.setNeedClientAuth(true);
        } else if (wantClientAuth()) {
            p.setWantClientAuth(true);
        }
        return p;
    }

    /** JSSE names, e.g. {@code [TLSv1.2, TLSv1.3]}. */
    public List<String> protocols() {
        return protocols;
    }

    /** Every suite a connection may use, in the server's order of preference. */
    public List<String> cipherSuites() {
        return cipherSuites;
    }

    /** Whether the server's order of {@link #cipherSuites()} wins over the client's. */
    public boolean serverCipherOrder() {
        return serverCipherOrder;
    }

    /** A client without a certificate is refused. */
    public boolean needClientAuth() {
        return clientAuth.requires();
    }

    /** A certificate is asked for, and a client without one still gets in. */
    public boolean wantClientAuth() {
        return clientAuth.asks() && !clientAuth.requires();
    }

    /** One line for the start log: certificate, expiry, protocols and client certificates. */
    public String summary() {
        return "certificate " + leaf.getSubjectX500Principal().getName() + " valid until "
                + leaf.getNotAfter().toInstant() + ", protocols " + protocols + ", client certificates " + clientAuth;
    }

    /**
     * RequestClientCert and RequireAnyClientCert: a certificate is asked for but not verified, as in Go. The
     * client CAs, when given, are still named in the request, as Go names them.
     */
    private static final class AnyClientCertificate implements X509TrustManager {
        private final X509Certificate[] issuers;

        AnyClientCertificate(List<X509Certificate> issuers) {
            this.issuers = issuers.toArray(X509Certificate[]::new);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a server's trust manager checks no server certificates");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return issuers.clone();
        }
    }
}
