package dev.gpuwatch.web;

/**
 * {@code client_auth_type}: Go's {@code tls.ClientAuthType}, spelled as exporter-toolkit spells it. As in Go, the two
 * types without "Verify" ask for a certificate but accept any, signed by anyone.
 */
enum ClientAuthType {
    NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert;

    /** Whether a client's certificate is checked against {@code client_ca_file}. */
    boolean verifies() {
        return this == VerifyClientCertIfGiven || this == RequireAndVerifyClientCert;
    }

    /** Whether a client without a certificate is refused. */
    boolean requires() {
        return this == RequireAnyClientCert || this == RequireAndVerifyClientCert;
    }

    /** Whether a certificate is asked for at all. */
    boolean asks() {
        return this != NoClientCert;
    }
}
