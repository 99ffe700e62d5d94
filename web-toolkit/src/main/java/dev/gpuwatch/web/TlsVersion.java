package dev.gpuwatch.web;

/** TLS versions by exporter-toolkit's names ({@code min_version}, {@code max_version}), in order. */
enum TlsVersion {
    TLS10("TLSv1"), TLS11("TLSv1.1"), TLS12("TLSv1.2"), TLS13("TLSv1.3");

    private final String javaName;

    TlsVersion(String javaName) {
        this.javaName = javaName;
    }

    /** The JSSE protocol name. */
    String javaName() {
        return javaName;
    }
}
