package dev.gpuwatch.testkit.pki;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptor;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemHeader;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A throwaway PKI made in-process (no keytool, no openssl): a CA, certificates it signs and their keys, written as
 * the PEM files a {@code --web.config.file} names, and JDK clients that trust only this CA.
 *
 * <p>{@link #create} makes {@code ca}, {@code server} (for {@code localhost} and {@code 127.0.0.1}, an EC P-256 key
 * in SEC1 form as {@code openssl ecparam -genkey} writes it), {@code client} (signed by the CA, for client
 * authentication) and {@code stranger} (a self-signed client certificate the CA never signed). {@link #server}
 * adds more server certificates with other key types and PEM forms. Certificates are valid from an hour ago for
 * three days. Files are {@code NAME.crt} and {@code NAME.key} in the folder given.
 */
public final class TestPki {

    /** The key pairs a certificate can hold. */
    public enum KeyType { EC_P256, RSA_2048, ED25519 }

    /** The PEM forms a private key is written in, each as openssl writes it. */
    public enum KeyFormat {
        /** {@code BEGIN PRIVATE KEY}, any key type. */
        PKCS8,
        /** {@code BEGIN RSA PRIVATE KEY}, RSA only ({@code openssl genrsa -traditional}). */
        PKCS1,
        /** {@code BEGIN EC PRIVATE KEY}, EC only ({@code openssl ecparam -genkey -noout}). */
        SEC1,
        /** {@code BEGIN ENCRYPTED PRIVATE KEY} (password {@link #PASSWORD}). */
        ENCRYPTED_PKCS8,
        /** PKCS#1 or SEC1 with {@code Proc-Type: 4,ENCRYPTED} headers, as {@code openssl genrsa -aes128} writes. */
        ENCRYPTED_TRADITIONAL
    }

    /** The password of the encrypted key forms. */
    public static final String PASSWORD = "changeit";

    private static final SecureRandom RANDOM = new SecureRandom();
    /** Only for writing encrypted keys in tests: the JDK's ciphers have no OpenSSL PEM names. Never registered. */
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private record Held(KeyPair keys, X509Certificate certificate) {}

    private final Path dir;
    private final Map<String, Held> held = new LinkedHashMap<>();

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /**
     * The classpath resource with what each {@code client_auth_type} accepts (without a certificate, with one the CA
     * signed, with one nobody signed), for {@code @CsvFileSource}: the toolkit and both servers test the same table.
     */
    public static final String CLIENT_AUTH_TYPES = "/dev/gpuwatch/testkit/pki/client-auth-types.csv";

    /** Makes {@code ca}, {@code server}, {@code client} and {@code stranger} in {@code dir}. */
    public static TestPki create(Path dir) {
        TestPki pki = new TestPki(dir);
        KeyPair caKeys = generate(KeyType.EC_P256);
        Held ca = new Held(caKeys, pki.sign("gpuwatch test CA", caKeys, Optional.empty(), Role.CA));
        pki.keep("ca", ca, KeyFormat.PKCS8);
        pki.server("server", KeyType.EC_P256, KeyFormat.SEC1);
        KeyPair clientKeys = generate(KeyType.EC_P256);
        pki.keep("client", new Held(clientKeys, pki.sign("alertmanager", clientKeys, Optional.of(ca), Role.CLIENT)),
                KeyFormat.PKCS8);
        KeyPair strangerKeys = generate(KeyType.EC_P256);
        pki.keep("stranger", new Held(strangerKeys, pki.sign("stranger", strangerKeys, Optional.empty(), Role.CLIENT)),
                KeyFormat.PKCS8);
        return pki;
    }

    /** Issues {@code NAME.crt} for {@code localhost} and {@code 127.0.0.1}, signed by the CA, and writes its key. */
    public void server(String name, KeyType type, KeyFormat format) {
        KeyPair keys = generate(type);
        keep(name, new Held(keys, sign("localhost", keys, Optional.of(held.get("ca")), Role.SERVER)), format);
    }

    public Path caCert() {
        return cert("ca");
    }

    public Path cert(String name) {
        return dir.resolve(name + ".crt");
    }

    public Path key(String name) {
        return dir.resolve(name + ".key");
    }

    public X509Certificate certificate(String name) {
        return known(name).certificate();
    }

    /** A client context trusting only the CA, presenting {@code clientCert}'s certificate if given. */
    public SSLContext clientContext(Optional<String> clientCert) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", certificate("ca"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManager[] keyManagers = null;
            if (clientCert.isPresent()) {
                String name = clientCert.get();
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry(name, known(name).keys().getPrivate(), PASSWORD.toCharArray(),
                        new X509Certificate[] {certificate(name)});
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, PASSWORD.toCharArray());
                keyManagers = new KeyManager[] {new AlwaysPresent((X509ExtendedKeyManager) kmf.getKeyManagers()[0], name)};
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a client context", e);
        }
    }

    /** A JDK client trusting only the CA, presenting {@code clientCert}'s certificate if given. */
    public HttpClient client(Optional<String> clientCert) {
        return HttpClient.newBuilder().sslContext(clientContext(clientCert)).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    private Held known(String name) {
        Held h = held.get(name);
        if (h == null) {
            throw new IllegalArgumentException("no certificate " + name + " in this PKI; known: " + held.keySet());
        }
        return h;
    }

    private void keep(String name, Held h, KeyFormat format) {
        held.put(name, h);
        write(cert(name), pem(h.certificate()));
        write(key(name), pem(h.keys(), format));
    }

    private enum Role { CA, SERVER, CLIENT }

    private X509Certificate sign(String commonName, KeyPair subject, Optional<Held> issuer, Role role) {
        X500Name name = new X500Name("CN=" + commonName);
        X500Name issuerName = issuer.map(i -> X500Name.getInstance(
                i.certificate().getSubjectX500Principal().getEncoded())).orElse(name);
        PrivateKey signingKey = issuer.map(i -> i.keys().getPrivate()).orElse(subject.getPrivate());
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
                    new BigInteger(64, RANDOM).add(BigInteger.ONE), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(3))), name, subject.getPublic())
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(subject.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(
                            issuer.map(i -> i.keys().getPublic()).orElse(subject.getPublic())))
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(role == Role.CA));
            switch (role) {
                case CA -> builder.addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
                case SERVER -> builder
                        .addExtension(Extension.keyUsage, true, leafUsage(subject))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                        .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                                new GeneralName(GeneralName.dNSName, "localhost"),
                                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
                case CLIENT -> builder
                        .addExtension(Extension.keyUsage, true, leafUsage(subject))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
                        .addExtension(Extension.subjectAlternativeName, false,
                                new GeneralNames(new GeneralName(GeneralName.dNSName, commonName)));
            }
            ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm(signingKey)).build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot sign a certificate for " + commonName, e);
        }
    }

    /** RSA key exchange without (EC)DHE encrypts to the key; EC and EdDSA keys only sign. */
    private static KeyUsage leafUsage(KeyPair keys) {
        return keys.getPublic().getAlgorithm().equals("RSA")
                ? new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
                : new KeyUsage(KeyUsage.digitalSignature);
    }

    private static String signatureAlgorithm(PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519 (the JDK may say EdDSA)
        };
    }

    private static KeyPair generate(KeyType type) {
        try {
            return switch (type) {
                case EC_P256 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
                    yield g.generateKeyPair();
                }
                case RSA_2048 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                    g.initialize(2048, RANDOM);
                    yield g.generateKeyPair();
                }
                case ED25519 -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + type + " key", e);
        }
    }

    private static String pem(X509Certificate certificate) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(certificate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static String pem(KeyPair keys, KeyFormat format) {
        String algorithm = keys.getPrivate().getAlgorithm();
        boolean traditional = format == KeyFormat.PKCS1 || format == KeyFormat.SEC1
                || format == KeyFormat.ENCRYPTED_TRADITIONAL;
        if ((format == KeyFormat.PKCS1 && !algorithm.equals("RSA")) || (format == KeyFormat.SEC1 && !algorithm.equals("EC"))
                || (traditional && !List.of("RSA", "EC").contains(algorithm))) {
            throw new IllegalArgumentException(format + " cannot hold a " + algorithm + " key");
        }
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            switch (format) {
                case PKCS8 -> writer.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
                case ENCRYPTED_PKCS8 -> writer.writeObject(new JcaPKCS8Generator(keys.getPrivate(),
                        new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC).setProvider(BC)
                                .setPassword(PASSWORD.toCharArray()).build()));
                case PKCS1, SEC1 -> writer.writeObject(traditional(keys));
                case ENCRYPTED_TRADITIONAL -> {
                    PemObject plain = traditional(keys);
                    PEMEncryptor encryptor = new JcePEMEncryptorBuilder("AES-128-CBC").setProvider(BC)
                            .build(PASSWORD.toCharArray());
                    writer.writeObject(new PemObject(plain.getType(), List.of(
                            new PemHeader("Proc-Type", "4,ENCRYPTED"),
                            new PemHeader("DEK-Info", encryptor.getAlgorithm() + ","
                                    + HexFormat.of().withUpperCase().formatHex(encryptor.getIV()))),
                            encryptor.encrypt(plain.getContent())));
                }
            }
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot write a " + format + " key", e);
        }
        return out.toString();
    }

    /**
     * PKCS#1 {@code RSAPrivateKey}, or SEC1 {@code ECPrivateKey} with its curve and public key as openssl writes
     * it (the JDK's PKCS#8 encoding keeps the curve outside the inner key, where SEC1 has none).
     */
    private static PemObject traditional(KeyPair keys) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        if (keys.getPrivate().getAlgorithm().equals("RSA")) {
            return new PemObject("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded());
        }
        ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
        ECPrivateKey sec1 = new ECPrivateKey(((java.security.interfaces.ECPrivateKey) keys.getPrivate()).getParams()
                .getOrder().bitLength(), inner.getKey(),
                SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData(),
                info.getPrivateKeyAlgorithm().getParameters());
        return new PemObject("EC PRIVATE KEY", sec1.getEncoded());
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
}
