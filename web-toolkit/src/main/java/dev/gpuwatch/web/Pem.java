package dev.gpuwatch.web;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads the PEM files a web config names, with Bouncy Castle's parser: certificate chains, and private keys in the
 * three forms openssl and Go write: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) and SEC1
 * ({@code EC PRIVATE KEY}). Keys become JDK keys through the JDK's own providers; Bouncy Castle only parses.
 * Encrypted keys are refused, as by exporter-toolkit (Go's {@code tls.X509KeyPair}).
 */
final class Pem {

    /** A file that cannot be used, and why, in words that name the file. */
    static final class Unusable extends Exception {
        Unusable(String problem) {
            super(problem, null, false, false);
        }
    }

    private static final String KEY_FORMS = "PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY";

    private Pem() {}

    /** Every certificate in {@code file}, in order: the leaf first, then intermediates. */
    static List<X509Certificate> certificates(Path file) throws Unusable {
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object o : objects(file)) {
            if (o instanceof X509CertificateHolder holder) {
                try {
                    certificates.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw new Unusable(file + " holds a certificate the JVM cannot read (" + e.getMessage() + ")");
                }
            }
        }
        if (certificates.isEmpty()) {
            throw new Unusable(file + " holds no PEM certificate (BEGIN CERTIFICATE)");
        }
        return List.copyOf(certificates);
    }

    /** The first private key in {@code file}; other blocks (openssl's {@code EC PARAMETERS}) are skipped. */
    static PrivateKey privateKey(Path file) throws Unusable {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        for (Object o : objects(file)) {
            try {
                switch (o) {
                    case PrivateKeyInfo pkcs8 -> {
                        return converter.getPrivateKey(pkcs8);
                    }
                    case PEMKeyPair traditional -> {
                        return converter.getKeyPair(traditional).getPrivate();
                    }
                    case PKCS8EncryptedPrivateKeyInfo _ -> throw encrypted(file);
                    case PEMEncryptedKeyPair _ -> throw encrypted(file);
                    default -> { }
                }
            } catch (IOException e) { // PEMException: a key of an algorithm the JVM has no key factory for
                throw new Unusable(file + " holds a private key the JVM cannot use (" + e.getMessage() + ")");
            }
        }
        throw new Unusable(file + " holds no PEM private key (" + KEY_FORMS + ")");
    }

    private static Unusable encrypted(Path file) {
        return new Unusable(file + " holds an encrypted private key, which is not supported (nor by"
                + " exporter-toolkit); decrypt it with: openssl pkey -in " + file + " -out key.pem");
    }

    private static List<Object> objects(Path file) throws Unusable {
        String text;
        try {
            // Latin-1 maps every byte, so a binary (DER) file reaches the parser and is reported as no PEM
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new Unusable("cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                objects.add(o);
            }
        } catch (IOException | RuntimeException e) { // Bouncy Castle throws both for a block it cannot decode
            throw new Unusable(file + " holds a PEM block that is not a valid certificate or key");
        }
        return objects;
    }

    /**
     * Whether {@code key} is the private half of {@code certificate}'s public key, checked as Go's
     * {@code tls.X509KeyPair} checks it: a signature made with the key must verify with the certificate.
     */
    static boolean belongTogether(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // EdDSA, Ed25519, Ed448: the key names its curve
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(probe);
            return verify.verify(signature);
        } catch (GeneralSecurityException e) { // e.g. an RSA key against an EC certificate
            return false;
        }
    }
}
