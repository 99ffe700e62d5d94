package dev.gpuwatch.web;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded {@code --web.config.file} in Prometheus exporter-toolkit's format, the same for every gpuwatch server:
 * TLS ({@link #tls()}) and bcrypt basic auth ({@link #basicAuth()}). Everything is read and checked by
 * {@link #load}: a certificate, key or CA file that cannot be used, or a key that is not the certificate's, stops
 * the start with {@code web.yml:LINE: tls_server_config.key_file: ...}. The toolkit knows no HTTP server: each
 * server applies these to its own (the exporter's JDK server, the receiver's Jetty). web-toolkit/README.md lists
 * the keys.
 */
public final class WebConfig {

    private static final ConfigReader READER = ConfigReader.create();

    private final Optional<ServerTls> tls;
    private final Optional<BasicAuth> basicAuth;

    private WebConfig(Optional<ServerTls> tls, Optional<BasicAuth> basicAuth) {
        this.tls = tls;
        this.basicAuth = basicAuth;
    }

    /** No file: plain HTTP, no authentication. */
    public static WebConfig none() {
        return new WebConfig(Optional.empty(), Optional.empty());
    }

    /** Reads {@code file}; relative paths in it are relative to its folder, as in the toolkit. */
    public static WebConfig load(Path file) throws ConfigException {
        ConfigReader.Bound<WebConfigFile> bound = bind(file);
        WebConfigFile f = bound.value();
        Optional<ServerTls> tls = Optional.empty();
        if (f.tlsServerConfig().isPresent() && f.tlsServerConfig().get().enabled()) {
            tls = Optional.of(ServerTls.load(f.tlsServerConfig().get(), bound.source()));
        }
        Optional<BasicAuth> auth = f.basicAuthUsers().isEmpty() ? Optional.empty()
                : Optional.of(new BasicAuth(f.basicAuthUsers()));
        return new WebConfig(tls, auth);
    }

    /** The file's keys, checked one record at a time, before any file they name is read. */
    static ConfigReader.Bound<WebConfigFile> bind(Path file) throws ConfigException {
        return READER.read(file, WebConfigFile.class);
    }

    /** Present when the server must speak TLS only. */
    public Optional<ServerTls> tls() {
        return tls;
    }

    /** Present when every request needs one of {@code basic_auth_users}. */
    public Optional<BasicAuth> basicAuth() {
        return basicAuth;
    }
}
