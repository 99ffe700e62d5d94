package dev.gpuwatch.receiver;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader.Bound;
import dev.gpuwatch.config.ConfigSource;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.config.Channels;
import dev.gpuwatch.receiver.config.ReceiverConfig;
import dev.gpuwatch.receiver.deliver.secret.Secret;
import dev.gpuwatch.receiver.dispatch.ConfiguredChannel;
import dev.gpuwatch.receiver.dispatch.DispatchSettings;
import dev.gpuwatch.receiver.dispatch.Dispatcher;
import dev.gpuwatch.receiver.enrich.CatalogEnricher;
import dev.gpuwatch.receiver.enrich.Enricher;
import dev.gpuwatch.receiver.context.ContextCatalog;
import dev.gpuwatch.receiver.graph.LiveEnricher;
import dev.gpuwatch.receiver.graph.StoredGraphs;
import dev.gpuwatch.receiver.http.Authenticator;
import dev.gpuwatch.receiver.http.ReceiverHttp;
import dev.gpuwatch.receiver.inbox.Inbox;
import dev.gpuwatch.receiver.ingest.IngestService;
import dev.gpuwatch.receiver.interact.Buttons;
import dev.gpuwatch.receiver.interact.Interactions;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.runbook.RunbookLibrary;
import dev.gpuwatch.receiver.runbook.ServedRunbooks;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.PostgresSettings;
import dev.gpuwatch.receiver.store.PostgresStore;
import dev.gpuwatch.receiver.store.SqliteStore;
import dev.gpuwatch.web.ExternalUrl;
import dev.gpuwatch.web.WebConfig;
import io.javalin.Javalin;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running receiver: the store, the HTTP server, the dispatcher and the retention job, started in that order
 * (the HTTP server before the dispatcher: the default {@code --web.external-url} in the links it delivers holds
 * the port really bound), and stopped with the HTTP server first, so nothing new arrives, and the store last. {@link ReceiverMain} builds it from flags; tests build it directly.
 */
public final class Receiver implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Receiver.class);

    private final NotificationStore store;
    private final Dispatcher dispatcher;
    private final Javalin http;
    private final Housekeeping housekeeping;
    private final ExternalUrl externalUrl;
    private final Optional<Interactions> interactions;

    private Receiver(NotificationStore store, Dispatcher dispatcher, Javalin http, Housekeeping housekeeping,
            ExternalUrl externalUrl, Optional<Interactions> interactions) {
        this.interactions = interactions;
        this.store = store;
        this.dispatcher = dispatcher;
        this.http = http;
        this.housekeeping = housekeeping;
        this.externalUrl = externalUrl;
    }

    /**
     * What a receiver is started with beyond its config file; {@code web} is {@code --web.config.file},
     * {@code externalUrl} {@code --web.external-url} (empty: derived from the address it listens on).
     */
    public record Options(Path storagePath, String host, int port, OptionalLong maxPageCount,
            WebConfig web, Optional<Enricher> enricher, Clock clock,
            Optional<DispatchSettings> dispatchOverride, Optional<ExternalUrl> externalUrl) {
        public static Options of(Path storagePath, String host, int port) {
            return new Options(storagePath, host, port, OptionalLong.empty(), WebConfig.none(), Optional.empty(),
                    Clock.systemUTC(), Optional.empty(), Optional.empty());
        }

        public Options withWeb(WebConfig web) {
            return new Options(storagePath, host, port, maxPageCount, web, enricher, clock, dispatchOverride,
                    externalUrl);
        }

        public Options withExternalUrl(ExternalUrl url) {
            return new Options(storagePath, host, port, maxPageCount, web, enricher, clock, dispatchOverride,
                    Optional.of(url));
        }
    }

    /**
     * @param bound the configuration with its source, so that what is checked only now (secret files, the
     *     runbook catalog, templates) is reported at the key and line that names it
     * @throws ConfigException when a secret, the catalog or a template cannot be used
     */
    public static Receiver start(Bound<ReceiverConfig> bound, Options options) throws ConfigException, SQLException {
        ReceiverConfig config = bound.value();
        // the buttons of interactive Slack configs ask the store, which opens after every config check
        AtomicReference<NotificationStore> opened = new AtomicReference<>();
        List<ConfiguredChannel> channels = Channels.build(bound, new Buttons(
                !config.enrichment().alertmanagerUrl().isEmpty(), () -> Optional.ofNullable(opened.get())));
        Authenticator auth = authenticator(config.ingest().auth(), bound.source());
        if (auth.required() && options.web().basicAuth().isPresent()) {
            // one Authorization header cannot carry both; checking either would silently drop the other
            throw bound.source().error("ingest.auth", "set together with basic_auth_users in --web.config.file;"
                    + " both check the Authorization header, so keep one");
        }
        ReceiverConfig.Dispatch d = config.dispatch();
        DispatchSettings settings = options.dispatchOverride().orElseGet(() -> new DispatchSettings(d.maxAge(),
                d.backoffInitial(), d.backoffMax(), d.rateLimits(), d.digestThreshold(), d.lease()));
        // the runbooks of this jar, linked at --web.external-url; its default needs the port really bound, which is
        // known before any delivery: the HTTP server starts before the dispatcher
        RunbookLibrary runbooks = RunbookLibrary.bundled();
        AtomicReference<ExternalUrl> external = new AtomicReference<>(options.externalUrl().orElse(null));
        ServedRunbooks served = new ServedRunbooks(runbooks, () -> external.get().url());
        // alerts without a runbook are counted when delivered (a retry enriches again), not here
        Enricher enricher = CatalogEnricher.create(config.enrichment(), served, alertname -> {});
        ContextCatalog contextCatalog = config.enrichment().contextFile().isEmpty()
                ? ContextCatalog.defaults()
                : ContextCatalog.load(Path.of(config.enrichment().contextFile()));
        NotificationStore store = openStore(config, options, bound.source());
        opened.set(store);
        try {
            ReceiverMetrics metrics = new ReceiverMetrics(new PrometheusRegistry(), store);
            // graph and live context from enrichment.prometheus_url, added at delivery under its deadline
            Enricher live = LiveEnricher.wrap(options.enricher().orElse(enricher), config.enrichment().prometheusUrl(),
                    config.enrichment().prometheusTimeout(), contextCatalog, graphsLinkedBy(channels, store,
                    () -> external.get().url(), options.clock()), metrics, options.clock());
            Dispatcher dispatcher = new Dispatcher(store, channels, live,
                    settings, metrics, options.clock(), new SecureRandom());
            IngestService ingest = new IngestService(config.routingTree(), Channels.targets(config, channels), store,
                    settings.maxAge(), options.clock(), metrics);
            Housekeeping housekeeping = new Housekeeping(store, config.storage().retention(), options.clock(),
                    Duration.ofSeconds(5));
            // what has stopped for good, the store's writer first: /readyz names the first it finds
            Supplier<Optional<String>> stopped = () -> store.stopped().or(dispatcher::stopped)
                    .or(housekeeping::stopped);
            Optional<Interactions> interactions = Interactions.create(channels, store,
                    config.enrichment().alertmanagerUrl(), () -> external.get().url(), metrics, options.clock());
            Javalin http = ReceiverHttp.create(ingest, store, stopped, metrics, auth,
                    config.ingest().maxBodyBytes().bytes(), settings.maxAge(), options.clock(), options.web(),
                    options.host(), options.port(), runbooks, new Inbox(store, config.routingTree(),
                            Channels.targets(config, channels), options.clock(), settings.maxAge(),
                            config.enrichment().alertmanagerUrl()), interactions);
            http.start(options.host(), options.port());
            try {
                external.compareAndSet(null, ExternalUrl.derived(Optional.of(options.host()), http.port(),
                        options.web().tls().isPresent()));
                dispatcher.start();
                housekeeping.start();
                interactions.ifPresent(Interactions::start);
            } catch (RuntimeException e) {
                http.stop();
                interactions.ifPresent(Interactions::close);
                throw e;
            }
            return new Receiver(store, dispatcher, http, housekeeping, external.get(), interactions);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * The PostgreSQL store of {@code storage.postgres} when it is set, else the SQLite file of
     * {@code --storage.path}.
     *
     * @throws ConfigException when the password file or variable cannot be read (never naming the password)
     * @throws SQLException when the database cannot be reached or migrated
     */
    private static NotificationStore openStore(ReceiverConfig config, Options options, ConfigSource source)
            throws ConfigException, SQLException {
        ReceiverConfig.Storage storage = config.storage();
        if (storage.shared().isEmpty()) {
            return SqliteStore.open(options.storagePath(), config.ingest().queueCapacity(), options.maxPageCount(),
                    storage.dedupWindow());
        }
        PostgresSettings pg = storage.shared().get();
        String password;
        try {
            password = Secret.resolve("storage.postgres.password_file", pg.passwordFile(),
                    "storage.postgres.password_env", pg.passwordEnv());
        } catch (InvalidValue e) {
            throw source.error(e.key().isEmpty() ? "storage.postgres" : e.key(), e.problem());
        }
        return PostgresStore.open(pg.url(), pg.user(), password, pg.poolSize(), config.ingest().queueCapacity(),
                storage.dedupWindow());
    }

    /** What the store is, for the start's log line and errors: the PostgreSQL URL or the SQLite file. */
    public static String storeName(ReceiverConfig config, Path storagePath) {
        return config.storage().shared().map(PostgresSettings::url)
                .orElseGet(() -> storagePath.toAbsolutePath().toString());
    }

    private static Authenticator authenticator(ReceiverConfig.Auth auth, ConfigSource source) throws ConfigException {
        try {
            Optional<String> bearer = auth.hasBearer()
                    ? Optional.of(Secret.resolve("ingest.auth.bearer_token_file", auth.bearerTokenFile(),
                            "ingest.auth.bearer_token_env", auth.bearerTokenEnv()))
                    : Optional.empty();
            Optional<String> user = auth.basic().map(ReceiverConfig.BasicAuth::username);
            Optional<String> password = auth.basic().map(b -> Secret.resolve("ingest.auth.basic_auth.password_file",
                    b.passwordFile(), "ingest.auth.basic_auth.password_env", b.passwordEnv()));
            return Authenticator.of(bearer, user, password);
        } catch (InvalidValue e) {
            throw source.error(e.key().isEmpty() ? "ingest.auth" : e.key(), e.problem());
        }
    }

    /**
     * Graphs are kept in the store and served at {@code /graphs/} only for a PagerDuty channel, whose
     * {@code images} link there; Slack and email carry the PNG itself.
     */
    private static LiveEnricher.Publisher graphsLinkedBy(List<ConfiguredChannel> channels, NotificationStore store,
            Supplier<String> externalUrl, Clock clock) {
        return channels.stream().anyMatch(c -> c.channel().integration().equals("pagerduty"))
                ? new StoredGraphs(store, new SecureRandom(), externalUrl, clock)
                : LiveEnricher.Publisher.none();
    }

    public int port() {
        return http.port();
    }

    /** {@code --web.external-url}, or the address it listens on: the base of the links it hands out. */
    public ExternalUrl externalUrl() {
        return externalUrl;
    }

    public NotificationStore store() {
        return store;
    }

    @Override
    public void close() {
        http.stop();
        interactions.ifPresent(Interactions::close);
        housekeeping.stop();
        dispatcher.close();
        store.close();
    }
}
