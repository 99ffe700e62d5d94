package dev.gpuwatch.exporter.web;

import dev.gpuwatch.config.ListenAddress;
import dev.gpuwatch.exporter.sampling.Health;
import dev.gpuwatch.exporter.scrape.MetricsEndpoint;
import dev.gpuwatch.web.BasicAuth;
import dev.gpuwatch.web.ServerTls;
import dev.gpuwatch.web.WebConfig;
import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The exporter's HTTP server (the JDK's, set up as client_java's {@code HTTPServer} does it): {@link MetricsEndpoint}
 * serves {@code /metrics} (Prometheus text, OpenMetrics or protobuf by Accept header, gzip when asked), writing the
 * model-server series from text rendered once per poll; {@link Endpoints} serves the rest. TLS and basic auth from
 * {@code --web.config.file} (read by the shared web toolkit) apply to every path, as with exporter-toolkit.
 */
public final class WebServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("exporter.web");

    static {
        // The JDK server writes headers and body separately; with Nagle's algorithm on, the client's delayed ACK
        // holds the body back ~40 ms. Read once when the JDK server's configuration class loads.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        // As client_java's HTTPServer: a client that stalls mid-request or mid-response cannot hold a thread forever.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", "60");
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
            System.setProperty("sun.net.httpserver.maxRspTime", "600");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final boolean tls;

    private WebServer(HttpServer server, ExecutorService executor, boolean tls) {
        this.server = server;
        this.executor = executor;
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
            throws IOException {
        HttpHandler other = ScenarioEndpoint.inFrontOf(scenario,
                new Endpoints(health, new Endpoints.Landing(version, backend, notes)));
        InetSocketAddress bind = address.host().map(h -> new InetSocketAddress(h, address.port()))
                .orElseGet(() -> new InetSocketAddress(address.port()));
        HttpServer server;
        if (web.tls().isPresent()) {
            ServerTls tls = web.tls().get();
            HttpsServer https = HttpsServer.create(bind, 3);
            https.setHttpsConfigurator(new HttpsConfigurator(tls.context()) {
                @Override
                public void configure(HttpsParameters params) {
                    params.setSSLParameters(tls.parameters());
                }
            });
            LOG.info("TLS: " + tls.summary());
            server = https;
        } else {
            server = HttpServer.create(bind, 3);
        }
        Optional<Authenticator> auth = web.basicAuth().map(BasicAuthenticator::new);
        for (var context : List.of(server.createContext("/", other),
                server.createContext("/metrics", new MetricsEndpoint(PrometheusProperties.get(), registry)))) {
            auth.ifPresent(context::setAuthenticator);
        }
        ExecutorService executor = executor();
        server.setExecutor(executor);
        server.start();
        return new WebServer(server, executor, web.tls().isPresent());
    }

    /**
     * client_java's HTTPServer pool: one to ten daemon threads; when all ten are busy the accepting thread waits
     * for one instead of failing the request.
     */
    private static ExecutorService executor() {
        AtomicInteger n = new AtomicInteger();
        RejectedExecutionHandler wait = (task, pool) -> {
            try {
                pool.getQueue().put(task);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        return new ThreadPoolExecutor(1, 10, 120, TimeUnit.SECONDS, new SynchronousQueue<>(true),
                r -> Thread.ofPlatform().daemon().name("gpuwatch-http-" + n.incrementAndGet()).unstarted(r), wait);
    }

    /** {@code basic_auth_users}: the toolkit's check on the request's Authorization header, 401 otherwise. */
    private static final class BasicAuthenticator extends Authenticator {
        private final BasicAuth users;

        BasicAuthenticator(BasicAuth users) {
            this.users = users;
        }

        @Override
        public Result authenticate(HttpExchange exchange) {
            Optional<String> user = users.verifiedUser(
                    Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")));
            if (user.isPresent()) {
                return new Success(new HttpPrincipal(user.get(), BasicAuth.REALM));
            }
            exchange.getResponseHeaders().set("WWW-Authenticate", BasicAuth.CHALLENGE);
            return new Retry(401);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The URL a person should open, e.g. {@code http://localhost:9445/}. */
    public String url(ListenAddress address) {
        String host = address.host().map(h -> h.contains(":") ? "[" + h + "]" : h).orElse("localhost");
        return (tls ? "https" : "http") + "://" + host + ":" + port() + "/";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdown();
    }
}
