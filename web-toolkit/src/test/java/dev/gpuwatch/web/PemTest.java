package dev.gpuwatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.pki.TestPki;
import dev.gpuwatch.testkit.pki.TestPki.KeyFormat;
import dev.gpuwatch.testkit.pki.TestPki.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The key forms openssl and Go write all load and match their certificates; what cannot be used says why. */
class PemTest {

    @TempDir
    static Path dir;
    static TestPki pki;

    @BeforeAll
    static void makeCertificates() {
        pki = TestPki.create(dir);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "EC_P256, SEC1, EC PRIVATE KEY, EC",
            "EC_P256, PKCS8, PRIVATE KEY, EC",
            "RSA_2048, PKCS1, RSA PRIVATE KEY, RSA",
            "RSA_2048, PKCS8, PRIVATE KEY, RSA",
            "ED25519, PKCS8, PRIVATE KEY, EdDSA"})
    void keyFormsLoadAndMatchTheirCertificate(KeyType type, KeyFormat format, String pemType, String algorithm)
            throws Exception {
        String name = type + "-" + format;
        pki.server(name, type, format);
        assertTrue(Files.readString(pki.key(name)).startsWith("-----BEGIN " + pemType + "-----\n"));
        PrivateKey key = Pem.privateKey(pki.key(name));
        assertEquals(algorithm, key.getAlgorithm());
        assertTrue(Pem.belongTogether(key, Pem.certificates(pki.cert(name)).getFirst()));
        assertFalse(Pem.belongTogether(key, Pem.certificates(pki.cert("server")).getFirst()));
    }

    @Test
    void opensslsEcParametersBlockBeforeTheKeyIsSkipped() throws Exception {
        // `openssl ecparam -name prime256v1 -genkey` (without -noout) writes the curve first
        Path file = dir.resolve("with-params.key");
        Files.writeString(file, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                + Files.readString(pki.key("server")));
        assertTrue(Pem.belongTogether(Pem.privateKey(file), pki.certificate("server")));
    }

    @Test
    void aChainKeepsEveryCertificateInOrder() throws Exception {
        Path chain = dir.resolve("chain.pem");
        Files.writeString(chain, Files.readString(pki.cert("server")) + Files.readString(pki.caCert()));
        var certificates = Pem.certificates(chain);
        assertEquals(2, certificates.size());
        assertEquals(pki.certificate("server"), certificates.get(0));
        assertEquals(pki.certificate("ca"), certificates.get(1));
    }

    @ParameterizedTest
    @CsvSource({"EC_P256, ENCRYPTED_PKCS8", "RSA_2048, ENCRYPTED_TRADITIONAL", "EC_P256, ENCRYPTED_TRADITIONAL"})
    void encryptedKeysAreRefusedAsByTheToolkit(KeyType type, KeyFormat format) {
        String name = "encrypted-" + type + "-" + format;
        pki.server(name, type, format);
        Path key = pki.key(name);
        assertEquals(key + " holds an encrypted private key, which is not supported (nor by exporter-toolkit);"
                + " decrypt it with: openssl pkey -in " + key + " -out key.pem",
                assertThrows(Pem.Unusable.class, () -> Pem.privateKey(key)).getMessage());
    }

    @Test
    void aBlockThatDoesNotDecodeIsReported() throws Exception {
        Path file = dir.resolve("broken.key");
        Files.writeString(file, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        assertEquals(file + " holds a PEM block that is not a valid certificate or key",
                assertThrows(Pem.Unusable.class, () -> Pem.privateKey(file)).getMessage());
        Path cert = dir.resolve("broken.crt");
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertEquals(cert + " holds a PEM block that is not a valid certificate or key",
                assertThrows(Pem.Unusable.class, () -> Pem.certificates(cert)).getMessage());
    }

    @Test
    void derIsNotPem() throws Exception {
        Path der = dir.resolve("server.der");
        Files.write(der, pki.certificate("server").getEncoded());
        assertEquals(der + " holds no PEM certificate (BEGIN CERTIFICATE)",
                assertThrows(Pem.Unusable.class, () -> Pem.certificates(der)).getMessage());
    }
}
