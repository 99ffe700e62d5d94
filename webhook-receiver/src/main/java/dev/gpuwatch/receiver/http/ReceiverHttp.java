package dev.gpuwatch.receiver.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.config.Durations;
import dev.gpuwatch.receiver.graph.StoredGraphs;
import dev.gpuwatch.receiver.inbox.Inbox;
import dev.gpuwatch.receiver.ingest.IngestService;
import dev.gpuwatch.receiver.interact.Interactions;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.runbook.Runbook;
import dev.gpuwatch.receiver.runbook.RunbookLibrary;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.web.BasicAuth;
import dev.gpuwatch.web.ServerTls;
import dev.gpuwatch.web.WebConfig;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiver's HTTP surface, all wired in one {@code Javalin.create}: the webhook, health, metrics, the
 * dead-letter API and the runbooks. Handlers are thin; the work is in {@link IngestService} and the store.
 *
 * <p>Status codes follow what Alertmanager does with them: 2xx once durable; 503 for "try later" (it retries
 * 5xx only); 4xx only for a payload that will never be accepted, since Alertmanager never retries a 4xx.
 */
public final class ReceiverHttp {

    private static final Logger LOG = LoggerFactory.getLogger(ReceiverHttp.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The two answers of the hot path, serialised once. */
    private static final String ACCEPTED = "{\"status\":\"accepted\"}";
    private static final String DUPLICATE = "{\"status\":\"duplicate\"}";
    /**
     * How long a request may send nothing once its headers are in: Alertmanager writes a body at once, right
     * after its headers, so a body idle this long is stalled, and the connection and its buffer are given back.
     * The connector's own (longer) idle timeout still governs headers and keep-alive connections.
     */
    static final Duration BODY_IDLE_TIMEOUT = Duration.ofSeconds(10);

    private ReceiverHttp() {}

    /**
     * @param stopped what has stopped for good (the store writer, the dispatch loop), if anything: /readyz names it
     * @param auth {@code ingest.auth}, for the API paths
     * @param maxBodyBytes larger bodies are refused with 413 while reading, before they are buffered
     * @param web {@code --web.config.file}: with TLS, the one connector on {@code host:port} is HTTPS; with
     *     {@code basic_auth_users}, every path needs one of them, as with exporter-toolkit
     * @param runbooks served at {@code /runbooks/} like /metrics: behind {@code basic_auth_users} when set, never
     *     behind {@code ingest.auth}, which guards the API
     * @param inbox the web inbox's pages, under {@link Inbox#PATH} behind {@code ingest.auth} like the API
     * @param interactions Slack's interaction requests at {@link Interactions#PATH}, when a Slack config has a
     *     signing secret. That path is outside both {@code ingest.auth} and {@code basic_auth_users}: Slack sends
     *     neither, and every request there is verified by its Slack signature instead.
     */
    public static Javalin create(IngestService ingest, NotificationStore store, Supplier<Optional<String>> stopped,
            ReceiverMetrics metrics, Authenticator auth, long maxBodyBytes, Duration maxAge, Clock clock, WebConfig web,
            String host, int port, RunbookLibrary runbooks, Inbox inbox, Optional<Interactions> interactions) {
        return Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.startup.showJavalinBanner = false;
            // Javalin copies every result through a fresh buffer of this size, by default Jetty's 32 KiB output
            // buffer: a 32 KiB array per 23-byte acknowledgement was 18% of the receiver's allocation at 6,000
            // notifications/s (JFR), and so of its GC pauses. Larger results (/metrics) just take more copies.
            config.http.responseBufferSize = 4096;
            config.jetty.modifyHttpConfiguration(http -> http.setIdleTimeout(BODY_IDLE_TIMEOUT.toMillis()));
            web.tls().ifPresent(tls -> httpsConnector(config, tls, host, port));
            web.basicAuth().ifPresent(users -> config.routes.before(ctx -> {
                if (signedBySlack(ctx, interactions)) {
                    return;
                }
                if (ctx.path().startsWith("/graphs/")) {
                    return;  // PagerDuty fetches these without credentials: the unguessable URL is the credential
                }
                if (users.verifiedUser(Optional.ofNullable(ctx.header("Authorization"))).isEmpty()) {
                    ctx.header("WWW-Authenticate", BasicAuth.CHALLENGE);
                    json(ctx, 401, error("authentication required", ""));
                    ctx.skipRemainingHandlers();
                }
            }));
            Handler apiAuth = ctx -> {
                if (signedBySlack(ctx, interactions)) {
                    return;
                }
                if (!auth.permits(Optional.ofNullable(ctx.header("Authorization")))) {
                    ctx.header("WWW-Authenticate", auth.challenge());
                    json(ctx, 401, error("authentication required", ""));
                    ctx.skipRemainingHandlers();
                }
            };
            config.routes.before("/api/*", apiAuth);
            // the inbox shows and replays what the API does, so it has the API's authentication and answers
            config.routes.before(Inbox.PATH, apiAuth);
            config.routes.before(Inbox.PATH + "/*", apiAuth);
            inbox.register(config.routes);
            // a quarter of the heap for bodies being read at once; at the default 8 MiB limit and a 256 MiB heap,
            // eight full bodies, or thousands of real (few KiB) ones
            BodyReader bodies = new BodyReader(maxBodyBytes, Runtime.getRuntime().maxMemory() / 4);
            config.routes.post("/api/v1/alerts", ctx -> receive(ctx, ingest, metrics, bodies, maxBodyBytes));
            interactions.ifPresent(handler -> config.routes.post(Interactions.PATH, ctx -> {
                Interactions.Answer answer = handler.handle(Optional.ofNullable(ctx.header("X-Slack-Request-Timestamp")),
                        Optional.ofNullable(ctx.header("X-Slack-Signature")), ctx.bodyAsBytes());
                ctx.status(answer.status()).contentType("text/plain; charset=utf-8").result(answer.body());
            }));
            config.routes.get("/healthz", ctx -> ctx.result("ok"));
            config.routes.get("/readyz", ctx -> {
                Optional<String> dead = stopped.get();
                if (dead.isPresent()) {
                    // not a passing state like a full disk: only a restart brings it back
                    ctx.status(503).result(dead.get() + "; restart the receiver");
                } else if (store.writable() || store.probeWritable()) {
                    ctx.result("ok");
                } else {
                    ctx.status(503).result("store not writable");
                }
            });
            config.routes.get("/metrics", ctx -> ctx.contentType(ReceiverMetrics.contentType()).result(metrics.scrape()));
            // one route for /runbooks and /runbooks/ (Javalin ignores a trailing slash)
            config.routes.get("/runbooks", ctx -> runbookIndex(ctx, runbooks));
            config.routes.get("/runbooks/{name}", ctx -> {
                Optional<Runbook> runbook = runbooks.runbook(ctx.pathParam("name"));
                if (runbook.isEmpty()) {
                    html(ctx, 404, "<!DOCTYPE html>\n<title>No such runbook</title>\n<p>No such runbook."
                            + " <a href=\"./\">All runbooks</a></p>\n");
                } else {
                    html(ctx, 200, runbook.get().page());
                }
            });
            config.routes.get("/graphs/{file}", ctx -> StoredGraphs.serve(store, ctx.pathParam("file")).ifPresentOrElse(
                    png -> ctx.contentType("image/png").header("Cache-Control", "private, max-age=86400").result(png),
                    () -> ctx.status(404).contentType("text/plain").result("no such graph")));
            config.routes.get("/api/v1/dead-letters", ctx -> json(ctx, 200, deadLetters(store)));
            config.routes.post("/api/v1/dead-letters/{id}/replay", ctx -> {
                long id;
                try {
                    id = Long.parseLong(ctx.pathParam("id"));
                } catch (NumberFormatException e) {
                    json(ctx, 400, error("id must be a number", "id"));
                    return;
                }
                if (store.replay(id, clock.instant(), clock.instant().plus(maxAge)).join()) {
                    json(ctx, 200, Map.of("replayed", id));
                } else {
                    json(ctx, 404, error("no dead letter with id " + id, "id"));
                }
            });
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed: {}", ctx.method(), ctx.path(), e.toString());
                json(ctx, 500, error("internal error", ""));
            });
        });
    }

    /** A request to the Slack interactions endpoint, which checks its own (Slack's) signature. */
    private static boolean signedBySlack(Context ctx, Optional<Interactions> interactions) {
        return interactions.isPresent() && ctx.method() == io.javalin.http.HandlerType.POST
                && ctx.path().equals(Interactions.PATH);
    }

    /**
     * Jetty set up with exactly the toolkit's protocols and cipher suites (its own default exclusions cleared), so
     * a web config negotiates here as on the exporter's JDK server.
     */
    private static void httpsConnector(JavalinConfig config, ServerTls tls, String host, int port) {
        config.jetty.addConnector((server, httpConfig) -> {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setSslContext(tls.context());
            ssl.setExcludeProtocols();
            ssl.setIncludeProtocols(tls.protocols().toArray(String[]::new));
            ssl.setExcludeCipherSuites();
            ssl.setIncludeCipherSuites(tls.cipherSuites().toArray(String[]::new));
            ssl.setUseCipherSuitesOrder(tls.serverCipherOrder());
            ssl.setNeedClientAuth(tls.needClientAuth());
            ssl.setWantClientAuth(tls.wantClientAuth());
            // no SNI host check: Go's server (and so every toolkit user) accepts any Host, e.g. an IP address
            // with insecure_skip_verify; Jetty would answer 400 when the Host is not in the certificate
            httpConfig.addCustomizer(new SecureRequestCustomizer(false));
            ServerConnector connector = new ServerConnector(server, ssl, new HttpConnectionFactory(httpConfig));
            connector.setHost(host);
            connector.setPort(port);
            LOG.info("TLS: {}", tls.summary());
            return connector;
        });
    }

    /**
     * The index's links are relative ({@code gpufelloffthebus}), so they work behind any external URL or proxy
     * prefix; they resolve under {@code /runbooks/} only, hence the redirect from {@code /runbooks}.
     */
    private static void runbookIndex(Context ctx, RunbookLibrary runbooks) {
        if (!ctx.req().getRequestURI().endsWith("/")) {
            ctx.status(301).header("Location", "runbooks/");
            return;
        }
        html(ctx, 200, runbooks.indexPage());
    }

    /** Pages hold no script, and say so to the browser too. */
    private static void html(Context ctx, int status, String page) {
        ctx.status(status).contentType("text/html; charset=utf-8")
                .header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
                .header("X-Content-Type-Options", "nosniff")
                .result(page);
    }

    private static void receive(Context ctx, IngestService ingest, ReceiverMetrics metrics, BodyReader bodies,
            long maxBodyBytes) {
        String contentType = Optional.ofNullable(ctx.header("Content-Type")).orElse("");
        String mediaType = contentType.split(";", 2)[0].strip();
        if (!mediaType.equalsIgnoreCase("application/json")) {
            metrics.notification("rejected");
            json(ctx, 415, error("Content-Type must be application/json, got \"" + contentType + "\"", ""));
            return;
        }
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBodyBytes) {
            metrics.notification("too_large");
            json(ctx, 413, error("body of " + declared + " bytes exceeds the limit of " + maxBodyBytes, ""));
            return;
        }
        BodyReader.Body body;
        try (InputStream in = ctx.req().getInputStream()) {
            body = bodies.read(in);
        } catch (IOException e) {
            // nothing says the payload is bad, and Alertmanager never retries a 4xx (only 5xx): try again later
            String reason = isTimeout(e) ? "no data for " + Durations.format(BODY_IDLE_TIMEOUT)
                    : "the connection ended";
            metrics.notification("unavailable");
            LOG.warn("request body not received in full remote={}: {}", ctx.ip(), reason);
            ctx.header("Retry-After", "5");
            json(ctx, 503, error("body not received in full: " + reason, ""));
            return;
        }
        switch (body) {
            case BodyReader.Body.TooLarge t -> {
                metrics.notification("too_large");
                json(ctx, 413, error("body exceeds the limit of " + maxBodyBytes + " bytes", ""));
            }
            case BodyReader.Body.OverBudget o -> {
                metrics.notification("unavailable");
                ctx.header("Retry-After", "5");
                json(ctx, 503, error("too many request bodies being read at once", ""));
            }
            case BodyReader.Body.Read read -> {
                try {
                    answer(ctx, ingest.ingest(read.bytes()));
                } finally {
                    bodies.release(read);
                }
            }
        }
    }

    private static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static void answer(Context ctx, IngestService.Outcome outcome) {
        switch (outcome) {
            case IngestService.Outcome.Accepted a -> ctx.status(200).contentType("application/json").result(ACCEPTED);
            case IngestService.Outcome.Duplicate d -> ctx.status(200).contentType("application/json").result(DUPLICATE);
            case IngestService.Outcome.Rejected r -> json(ctx, 400, error(r.error(), r.field()));
            case IngestService.Outcome.Unavailable u -> {
                ctx.header("Retry-After", "5");
                json(ctx, 503, error(u.reason(), ""));
            }
        }
    }

    private static List<Map<String, Object>> deadLetters(NotificationStore store) {
        return store.deadLetters(1000).stream().map(d -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", d.id());
            m.put("notificationId", d.notificationId());
            m.put("receiver", d.receiver());
            m.put("channel", d.channel());
            m.put("integration", d.integration());
            m.put("groupKey", d.groupKey());
            m.put("attempts", d.attempts());
            m.put("lastError", d.lastError());
            m.put("receivedAt", d.receivedAt().toString());
            m.put("deadAt", d.deadAt().toString());
            return m;
        }).toList();
    }

    static Map<String, Object> error(String message, String field) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        if (!field.isEmpty()) {
            m.put("field", field);
        }
        return m;
    }

    private static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("plain maps always serialise", e);
        }
    }
}
