package dev.gpuwatch.exporter.web;

import dev.gpuwatch.exporter.config.ConfigException;
import dev.gpuwatch.exporter.config.ListenAddress;
import dev.gpuwatch.exporter.config.WebConfig;
import dev.gpuwatch.exporter.sampling.Health;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The exporter's HTTP server: client_java's {@link HTTPServer} serves {@code /metrics} (Prometheus text,
 * OpenMetrics or protobuf by Accept header, gzip when asked); {@link Endpoints} serves the rest. TLS and basic auth
 * from {@code --web.config.file} apply to every path, as with exporter-toolkit.
 */
public final class WebServer implements AutoCloseable {
    static {
        // The JDK server writes headers and body separately; with Nagle's algorithm on, the client's delayed ACK
        // holds the body back ~40 ms. Read once when the JDK server's configuration class loads.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HTTPServer server;
    private final boolean tls;

    private WebServer(HTTPServer server, boolean tls) {
        this.server = server;
        this.tls = tls;
    }

    /**
     * Starts serving {@code registry}.
     *
     * @param notes lines for the landing page (backend description, why there is no GPU, fallbacks)
     * @param scenario the simulated fleet's {@link ScenarioEndpoint#PATH}; empty for any other backend (404 there)
     */
    public static WebServer start(ListenAddress address, WebConfig web, PrometheusRegistry registry, Health health,
            String version, String backend, List<String> notes, Optional<ScenarioEndpoint> scenario)
            throws ConfigException, IOException {
        HTTPServer.Builder b = HTTPServer.builder(PrometheusProperties.get())
                .port(address.port())
                .registry(registry)
                .registerHealthHandler(false)
                .defaultHandler(ScenarioEndpoint.inFrontOf(scenario,
                        new Endpoints(health, new Endpoints.Landing(version, backend, notes))));
        address.host().ifPresent(b::hostname);
        if (web.tls().isPresent()) {
            b.httpsConfigurator(TlsSetup.configurator(web.tls().get()));
        }
        if (!web.basicAuthUsers().isEmpty()) {
            b.authenticator(new BcryptAuthenticator(web.basicAuthUsers()));
        }
        return new WebServer(b.buildAndStart(), web.tls().isPresent());
    }

    public int port() {
        return server.getPort();
    }

    /** The URL a person should open, e.g. {@code http://localhost:9445/}. */
    public String url(ListenAddress address) {
        String host = address.host().map(h -> h.contains(":") ? "[" + h + "]" : h).orElse("localhost");
        return (tls ? "https" : "http") + "://" + host + ":" + port() + "/";
    }

    @Override
    public void close() {
        server.close();
    }
}
