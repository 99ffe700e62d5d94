package dev.gpuwatch.exporter.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The key forms openssl writes (PKCS#8, PKCS#1 RSA, SEC1 EC) all load and match their certificates. */
class PemTest {
    @TempDir
    Path dir;

    private void openssl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "openssl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "pkcs8-rsa, PRIVATE KEY, RSA, SHA256withRSA",
            "pkcs1-rsa, RSA PRIVATE KEY, RSA, SHA256withRSA",
            "sec1-ec, EC PRIVATE KEY, EC, SHA256withECDSA"})
    void keyFormsLoad(String form, String pemType, String algorithm, String signature) throws Exception {
        switch (form) {
            case "pkcs8-rsa" -> openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "k.pem");
            case "pkcs1-rsa" -> openssl("genrsa", "-traditional", "-out", "k.pem", "2048");
            default -> openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem");
        }
        openssl("req", "-x509", "-key", "k.pem", "-out", "c.pem", "-subj", "/CN=localhost", "-days", "1");
        assertTrue(java.nio.file.Files.readString(dir.resolve("k.pem")).contains("-----BEGIN " + pemType + "-----"));

        PrivateKey key = Pem.privateKey(dir.resolve("k.pem"));
        X509Certificate cert = Pem.certificates(dir.resolve("c.pem")).getFirst();
        assertEquals(algorithm, key.getAlgorithm());
        Signature s = Signature.getInstance(signature);
        s.initSign(key);
        s.update(new byte[] {1, 2, 3});
        byte[] signed = s.sign();
        s.initVerify(cert.getPublicKey());
        s.update(new byte[] {1, 2, 3});
        assertTrue(s.verify(signed), "the key belongs to the certificate");
    }

    @Test
    void aChainKeepsEveryCertificate() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-subj", "/CN=a", "-days", "1");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "b.key", "-out", "b.pem", "-subj", "/CN=b", "-days", "1");
        java.nio.file.Files.writeString(dir.resolve("chain.pem"),
                java.nio.file.Files.readString(dir.resolve("a.pem")) + java.nio.file.Files.readString(dir.resolve("b.pem")));
        assertEquals(2, Pem.certificates(dir.resolve("chain.pem")).size());
    }
}
