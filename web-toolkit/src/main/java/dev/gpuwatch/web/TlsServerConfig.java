package dev.gpuwatch.web;

import dev.gpuwatch.config.InvalidValue;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code tls_server_config}, checked on its own; the files it names are read by {@link ServerTls}. Absent, or with
 * no keys at all, it means plain HTTP, as in exporter-toolkit.
 */
record TlsServerConfig(Optional<Path> certFile, Optional<Path> keyFile, ClientAuthType clientAuthType,
        Optional<Path> clientCaFile, TlsVersion minVersion, TlsVersion maxVersion, List<String> cipherSuites,
        Optional<Boolean> preferServerCipherSuites,
        Optional<Object> cert, Optional<Object> key, Optional<Object> clientCa, Optional<Object> clientAllowedSans,
        Optional<Object> curvePreferences) {

    TlsServerConfig {
        WebConfigFile.refuse("cert", cert, "inline certificates are not supported; use cert_file");
        WebConfigFile.refuse("key", key, "inline keys are not supported; use key_file");
        WebConfigFile.refuse("client_ca", clientCa, "inline client CAs are not supported; use client_ca_file");
        WebConfigFile.refuse("client_allowed_sans", clientAllowedSans, "not supported by gpuwatch");
        WebConfigFile.refuse("curve_preferences", curvePreferences, "not supported by gpuwatch; the JVM's curves are used");
        boolean settings = clientAuthType != null || clientCaFile.isPresent() || minVersion != null
                || maxVersion != null || cipherSuites != null || preferServerCipherSuites.isPresent();
        if (certFile.isEmpty() && (keyFile.isPresent() || settings)) {
            throw InvalidValue.at("cert_file", "required when tls_server_config is not empty");
        }
        if (keyFile.isEmpty() && certFile.isPresent()) {
            throw InvalidValue.at("key_file", "required when tls_server_config is not empty");
        }
        clientAuthType = Objects.requireNonNullElse(clientAuthType, ClientAuthType.NoClientCert);
        if (clientCaFile.isPresent() && !clientAuthType.asks()) {
            // the toolkit refuses this too: CAs without a policy that uses them look like auth but are none
            throw InvalidValue.at("client_ca_file", "set, but client_auth_type is NoClientCert; use"
                    + " RequireAndVerifyClientCert (or VerifyClientCertIfGiven)");
        }
        if (clientCaFile.isEmpty() && clientAuthType.verifies()) {
            throw InvalidValue.at("client_auth_type", clientAuthType + " needs client_ca_file");
        }
        minVersion = Objects.requireNonNullElse(minVersion, TlsVersion.TLS12);
        maxVersion = Objects.requireNonNullElse(maxVersion, TlsVersion.TLS13);
        if (maxVersion.compareTo(minVersion) < 0) {
            throw InvalidValue.at("max_version", maxVersion + " is lower than min_version " + minVersion);
        }
        cipherSuites = cipherSuites == null ? List.of() : cipherSuites;
        for (int i = 0; i < cipherSuites.size(); i++) {
            if (cipherSuites.get(i) == null) {
                throw InvalidValue.at("cipher_suites[" + i + "]", "expected a cipher suite name");
            }
        }
        cipherSuites = List.copyOf(cipherSuites);
    }

    /** Whether TLS is on: the toolkit's "no certificate, no TLS". */
    boolean enabled() {
        return certFile.isPresent();
    }

    /** The server's order of cipher suites wins, the toolkit's default. */
    boolean serverOrder() {
        return preferServerCipherSuites.orElse(true);
    }
}
