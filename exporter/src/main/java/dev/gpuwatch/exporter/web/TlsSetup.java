package dev.gpuwatch.exporter.web;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.config.WebConfig;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Turns {@code tls_server_config} into an {@link HttpsConfigurator} for the JDK server. */
final class TlsSetup {
    private TlsSetup() {}

    /**
     * Where problems found only when the certificate and key are read are said to be: the web config file's own name
     * does not reach here, so the flag that names it stands for it.
     */
    private static final String WEB_CONFIG = "--web.config.file";

    static HttpsConfigurator configurator(WebConfig.Tls tls) throws ConfigException {
        SSLContext context;
        try {
            List<X509Certificate> chain = Pem.certificates(tls.certFile());
            PrivateKey key = Pem.privateKey(tls.keyFile());
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", key, new char[0], chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
            TrustManager[] trust = null;
            if (tls.clientAuth() != WebConfig.ClientAuth.NoClientCert) {
                trust = tls.clientAuth().verifies() ? clientCas(tls) : new TrustManager[] {new AnyClientCertificate()};
            }
            context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), trust, null);
        } catch (IOException | GeneralSecurityException e) {
            throw ConfigException.inFile(WEB_CONFIG, 0, "tls_server_config", e.getMessage());
        }
        SSLParameters defaults = context.getSupportedSSLParameters();
        List<String> protocols = new ArrayList<>();
        for (WebConfig.TlsVersion v : WebConfig.TlsVersion.values()) {
            if (v.compareTo(tls.minVersion()) >= 0 && tls.maxVersion().map(max -> v.compareTo(max) <= 0).orElse(true)
                    && Arrays.asList(defaults.getProtocols()).contains(v.javaName())) {
                protocols.add(v.javaName());
            }
        }
        if (protocols.isEmpty()) {
            throw ConfigException.inFile(WEB_CONFIG, 0, "tls_server_config.min_version",
                    "no TLS version in range is supported by this JVM");
        }
        Set<String> supportedSuites = Set.of(defaults.getCipherSuites());
        for (String suite : tls.cipherSuites()) {
            if (!supportedSuites.contains(suite)) {
                throw ConfigException.inFile(WEB_CONFIG, 0, "tls_server_config.cipher_suites",
                        "unsupported cipher suite " + suite);
            }
        }
        String[] protocolArray = protocols.toArray(String[]::new);
        return new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = getSSLContext().getDefaultSSLParameters();
                p.setProtocols(protocolArray);
                if (!tls.cipherSuites().isEmpty()) {
                    p.setCipherSuites(tls.cipherSuites().toArray(String[]::new));
                }
                if (tls.clientAuth().requires()) {
                    p.setNeedClientAuth(true);
                } else if (tls.clientAuth() != WebConfig.ClientAuth.NoClientCert) {
                    p.setWantClientAuth(true);
                }
                params.setSSLParameters(p);
            }
        };
    }

    private static TrustManager[] clientCas(WebConfig.Tls tls) throws IOException, GeneralSecurityException {
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        int i = 0;
        for (X509Certificate ca : Pem.certificates(tls.clientCaFile().orElseThrow())) {
            cas.setCertificateEntry("ca" + i++, ca);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        return tmf.getTrustManagers();
    }

    /** RequestClientCert / RequireAnyClientCert: a client certificate is asked for but not verified, as in Go. */
    private static final class AnyClientCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server certificates are not checked here");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
