package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A throwaway PKI made with the JDK's own keytool (always there, unlike openssl): a CA, a server certificate for
 * localhost and 127.0.0.1, a client certificate signed by the CA, and a self-signed client the CA never signed.
 * Keys are written as PKCS#8 PEM from the keystore (keytool cannot export keys), as the receiver reads them.
 */
record TestPki(Path dir) {

    private static final String PASS = "changeit";

    Path caCert() {
        return dir.resolve("ca.crt");
    }

    Path cert(String name) {
        return dir.resolve(name + ".crt");
    }

    Path key(String name) {
        return dir.resolve(name + ".key");
    }

    static TestPki create(Path dir) throws Exception {
        TestPki pki = new TestPki(dir);
        pki.keytool("-genkeypair", "-alias", "ca", "-keystore", pki.store("ca"), "-dname", "CN=gpuwatch test CA",
                "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign");
        pki.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", pki.store("ca"), "-file", pki.caCert().toString());
        pki.signed("server", "CN=localhost", "san=dns:localhost,ip:127.0.0.1", "eku=serverAuth");
        pki.signed("client", "CN=alertmanager", "san=dns:alertmanager", "eku=clientAuth");
        // a stranger: a client certificate the CA never signed
        pki.keytool("-genkeypair", "-alias", "stranger", "-keystore", pki.store("stranger"), "-dname", "CN=stranger");
        pki.keytool("-exportcert", "-rfc", "-alias", "stranger", "-keystore", pki.store("stranger"),
                "-file", pki.cert("stranger").toString());
        pki.writeKey("stranger");
        return pki;
    }

    private void signed(String name, String dname, String san, String eku) throws Exception {
        keytool("-genkeypair", "-alias", name, "-keystore", store(name), "-dname", dname);
        Path csr = dir.resolve(name + ".csr");
        keytool("-certreq", "-alias", name, "-keystore", store(name), "-file", csr.toString());
        keytool("-gencert", "-rfc", "-alias", "ca", "-keystore", store("ca"), "-infile", csr.toString(),
                "-outfile", cert(name).toString(), "-ext", san, "-ext", eku, "-ext", "ku:c=digitalSignature");
        writeKey(name);
    }

    private String store(String name) {
        return dir.resolve(name + ".p12").toString();
    }

    private void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        // EC P-256 is quick to generate and what Go (Alertmanager) handles natively
        if (args[0].equals("-genkeypair")) {
            command.addAll(List.of("-keyalg", "EC", "-groupname", "secp256r1", "-validity", "3"));
        }
        if (args[0].equals("-gencert")) {
            command.addAll(List.of("-validity", "3"));
        }
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASS));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + "\n" + output);
    }

    private void writeKey(String name) throws Exception {
        byte[] pkcs8 = load(name).getKey(name, PASS.toCharArray()).getEncoded();
        Files.writeString(key(name), pem("PRIVATE KEY", pkcs8));
    }

    private KeyStore load(String name) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(store(name)))) {
            ks.load(in, PASS.toCharArray());
        }
        return ks;
    }

    static String pem(String type, byte[] der) {
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        return "-----BEGIN " + type + "-----\n" + b64.encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** A client trusting only the test CA, presenting {@code clientCert}'s certificate if given. */
    HttpClient client(Optional<String> clientCert) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", certificates(caCert()).getFirst());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (clientCert.isPresent()) {
            String name = clientCert.get();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            PrivateKey key = (PrivateKey) load(name).getKey(name, PASS.toCharArray());
            keys.setKeyEntry(name, key, PASS.toCharArray(), certificates(cert(name)).toArray(Certificate[]::new));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASS.toCharArray());
        }
        SSLContext context = SSLContext.getInstance("TLS");
        KeyManager[] keyManagers = kmf == null ? null
                : new KeyManager[] {new AlwaysPresent((X509ExtendedKeyManager) kmf.getKeyManagers()[0], clientCert.get())};
        context.init(keyManagers, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(context).build();
    }

    /**
     * Presents the certificate even when the server's list of accepted issuers does not name its issuer: the
     * JDK would otherwise quietly send none, and a test of the server's verification would test nothing.
     */
    private static final class AlwaysPresent extends X509ExtendedKeyManager {
        private final X509ExtendedKeyManager keys;
        private final String alias;

        AlwaysPresent(X509ExtendedKeyManager keys, String alias) {
            this.keys = keys;
            this.alias = alias;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return alias;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return alias;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {alias};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return keys.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return keys.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return keys.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return keys.getPrivateKey(alias);
        }
    }

    private static List<Certificate> certificates(Path pem) throws IOException, java.security.GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            return List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
    }
}
