package dev.gpuwatch.receiver.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.gpuwatch.config.ByteSize;
import dev.gpuwatch.config.Durations;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.deliver.email.EmailSettings;
import dev.gpuwatch.receiver.deliver.log.LogSettings;
import dev.gpuwatch.receiver.deliver.pagerduty.PagerDutySettings;
import dev.gpuwatch.receiver.deliver.slack.SlackSettings;
import dev.gpuwatch.receiver.enrich.EnrichSettings;
import dev.gpuwatch.receiver.route.Matcher;
import dev.gpuwatch.receiver.route.RoutingTree;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.PostgresSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The receiver's YAML configuration, bound by {@link ConfigLoader}. Every section is optional; what is left out
 * takes the default set in these constructors (and shown in {@code webhook-receiver/README.md}). Keys are
 * snake_case as in Alertmanager, and an unknown key is an error. A constructor refuses a value with
 * {@link InvalidValue} naming the key relative to its record; the loader adds the path, file and line.
 */
public record ReceiverConfig(
        Ingest ingest,
        Storage storage,
        Dispatch dispatch,
        RouteConfig route,
        List<ReceiverEntry> receivers,
        EnrichSettings enrichment,
        String templatesDir) {

    public static final String DEFAULT_RECEIVER = "default";

    public ReceiverConfig {
        ingest = Objects.requireNonNullElseGet(ingest, () -> new Ingest(null, null, null));
        storage = Objects.requireNonNullElseGet(storage, () -> new Storage(null, null, null));
        dispatch = Objects.requireNonNullElseGet(dispatch, () -> new Dispatch(null, null, null, null, null, null));
        route = Objects.requireNonNullElseGet(route, () -> new RouteConfig(DEFAULT_RECEIVER, null, null, null));
        receivers = receivers == null
                ? List.of(new ReceiverEntry(DEFAULT_RECEIVER, null, null, null, List.of(new LogSettings(null))))
                : List.copyOf(receivers);
        enrichment = Objects.requireNonNullElseGet(enrichment, EnrichSettings::defaults);
        templatesDir = Objects.requireNonNullElse(templatesDir, "");
        if (route.receiver() == null || route.receiver().isBlank()) {
            throw InvalidValue.at("route.receiver", "the root route needs a receiver");
        }
    }

    /** No config file: the log sink receives everything. */
    public static ReceiverConfig defaults() {
        return new ReceiverConfig(null, null, null, null, null, null, null);
    }

    public RoutingTree routingTree() {
        return new RoutingTree(route.toRoute());
    }

    /**
     * @param maxBodyBytes larger bodies are refused with 413; a size ({@code 8MiB}) or a number of bytes
     */
    public record Ingest(ByteSize maxBodyBytes, Integer queueCapacity, Auth auth) {

        static final ByteSize MIN_BODY = ByteSize.ofBytes(1024);

        public Ingest {
            maxBodyBytes = Objects.requireNonNullElse(maxBodyBytes, ByteSize.ofMebibytes(8));
            queueCapacity = Objects.requireNonNullElse(queueCapacity, 20_000);
            auth = Objects.requireNonNullElseGet(auth, () -> new Auth(null, null, null));
            if (maxBodyBytes.compareTo(MIN_BODY) < 0) {
                throw InvalidValue.at("max_body_bytes", "must be at least " + MIN_BODY + ", got " + maxBodyBytes);
            }
            if (queueCapacity < 1) {
                throw InvalidValue.at("queue_capacity", "must be at least 1");
            }
        }
    }

    /**
     * How Alertmanager must authenticate: a bearer token ({@code http_config.authorization}) or basic auth
     * ({@code http_config.basic_auth}); none set means no authentication. Secrets come from a file or an
     * environment variable, never from this file.
     */
    public record Auth(String bearerTokenFile, String bearerTokenEnv, BasicAuth basicAuth) {
        public Auth {
            bearerTokenFile = Objects.requireNonNullElse(bearerTokenFile, "");
            bearerTokenEnv = Objects.requireNonNullElse(bearerTokenEnv, "");
            if (!bearerTokenFile.isBlank() && !bearerTokenEnv.isBlank()) {
                throw InvalidValue.here("set bearer_token_file or bearer_token_env, not both");
            }
        }

        public Optional<BasicAuth> basic() {
            return Optional.ofNullable(basicAuth);
        }

        public boolean hasBearer() {
            return !bearerTokenFile.isBlank() || !bearerTokenEnv.isBlank();
        }
    }

    public record BasicAuth(String username, String passwordFile, String passwordEnv) {
        public BasicAuth {
            if (username == null || username.isBlank()) {
                throw InvalidValue.at("username", "required");
            }
            passwordFile = Objects.requireNonNullElse(passwordFile, "");
            passwordEnv = Objects.requireNonNullElse(passwordEnv, "");
            if (passwordFile.isBlank() == passwordEnv.isBlank()) {
                throw InvalidValue.here("set exactly one of password_file and password_env");
            }
        }
    }

    /**
     * @param retention delivered notifications older than this are deleted
     * @param dedupWindow a copy of a notification stored less than this ago is a duplicate (Alertmanager's
     *     retries, HA peers); a later one is a {@code repeat_interval} reminder and is delivered again
     * @param postgres the PostgreSQL store several replicas share; absent: the SQLite file of
     *     {@code --storage.path}
     */
    public record Storage(Duration retention, Duration dedupWindow, PostgresSettings postgres) {

        public Optional<PostgresSettings> shared() {
            return Optional.ofNullable(postgres);
        }

        public Storage {
            retention = Objects.requireNonNullElse(retention, Duration.ofDays(7));
            boolean defaultWindow = dedupWindow == null;
            dedupWindow = Objects.requireNonNullElse(dedupWindow, NotificationStore.DEFAULT_DEDUP_WINDOW);
            if (dedupWindow.isZero()) {
                throw InvalidValue.at("dedup_window", "must be longer than 0s: every retry and HA copy would be"
                        + " delivered again");
            }
            // the key a copy is compared with is deleted with its notification after the retention
            if (dedupWindow.compareTo(retention) > 0 && defaultWindow) {
                throw InvalidValue.at("retention", "must not be shorter than dedup_window (the default "
                        + Durations.format(dedupWindow) + "), got " + Durations.format(retention));
            }
            if (dedupWindow.compareTo(retention) > 0) {
                throw InvalidValue.at("dedup_window", "must not be longer than retention ("
                        + Durations.format(retention) + "), got " + Durations.format(dedupWindow));
            }
        }
    }

    /**
     * @param maxAge a delivery still failing this long after receipt goes to the dead letters; at least 1h so
     *     that an hour-long outage of a target loses nothing
     * @param rateLimits messages per second per channel, by integration; 0 means unlimited
     * @param digestThreshold more deliveries than this due at once on one channel are folded into one digest
     */
    public record Dispatch(
            Duration maxAge,
            Duration backoffInitial,
            Duration backoffMax,
            Map<String, Double> rateLimits,
            Integer digestThreshold,
            Duration lease) {

        public static final Map<String, Double> DEFAULT_RATE_LIMITS =
                Map.of("slack", 1.0, "pagerduty", 2.0, "email", 5.0, "log", 0.0);

        public Dispatch {
            maxAge = Objects.requireNonNullElse(maxAge, Duration.ofHours(6));
            boolean initialGiven = backoffInitial != null;
            backoffInitial = Objects.requireNonNullElse(backoffInitial, Duration.ofSeconds(1));
            backoffMax = Objects.requireNonNullElse(backoffMax, Duration.ofMinutes(5));
            digestThreshold = Objects.requireNonNullElse(digestThreshold, 10);
            lease = Objects.requireNonNullElse(lease, Duration.ofMinutes(2));
            Map<String, Double> limits = new HashMap<>(DEFAULT_RATE_LIMITS);
            if (rateLimits != null) {
                for (var e : rateLimits.entrySet()) {
                    String key = "rate_limits." + e.getKey();
                    if (!DEFAULT_RATE_LIMITS.containsKey(e.getKey())) {
                        throw InvalidValue.at(key, "unknown integration (slack, pagerduty, email, log)");
                    }
                    if (e.getValue() == null || e.getValue() < 0) {
                        throw InvalidValue.at(key, "must be 0 (unlimited) or more messages per second");
                    }
                    limits.put(e.getKey(), e.getValue());
                }
            }
            rateLimits = Map.copyOf(limits);
            if (maxAge.compareTo(Duration.ofHours(1)) < 0) {
                throw InvalidValue.at("max_age", "must be at least 1h: a target down for an hour must lose nothing");
            }
            if (backoffInitial.isZero()) {
                throw InvalidValue.at("backoff_initial", "must be longer than 0s");
            }
            if (backoffMax.compareTo(backoffInitial) < 0) {
                throw initialGiven
                        ? InvalidValue.at("backoff_initial", "must not be longer than backoff_max ("
                                + Durations.format(backoffMax) + "), got " + Durations.format(backoffInitial))
                        : InvalidValue.at("backoff_max", "must not be shorter than backoff_initial (the default "
                                + Durations.format(backoffInitial) + "), got " + Durations.format(backoffMax));
            }
            if (digestThreshold < 2) {
                throw InvalidValue.at("digest_threshold", "must be at least 2");
            }
        }
    }

    /** A node of the routing tree, in Alertmanager's shape. */
    public record RouteConfig(
            String receiver,
            List<MatcherSpec> matchers,
            @JsonProperty("continue") Boolean continueMatching,
            List<RouteConfig> routes) {
        public RouteConfig {
            matchers = matchers == null ? List.of() : List.copyOf(matchers);
            continueMatching = Objects.requireNonNullElse(continueMatching, false);
            routes = routes == null ? List.of() : List.copyOf(routes);
        }

        RoutingTree.Route toRoute() {
            return new RoutingTree.Route(Optional.ofNullable(receiver).filter(r -> !r.isBlank()),
                    matchers.stream().flatMap(m -> m.matchers().stream()).toList(), continueMatching,
                    routes.stream().map(RouteConfig::toRoute).toList());
        }
    }

    /** One entry of {@code matchers:}, parsed when the config is read so a bad one names its line. */
    public record MatcherSpec(List<Matcher> matchers) {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public static MatcherSpec parse(String text) {
            try {
                return new MatcherSpec(Matcher.parseAll(text));
            } catch (IllegalArgumentException e) {
                throw InvalidValue.here(e.getMessage());
            }
        }
    }

    /**
     * One receiver, as in Alertmanager: a name and any number of configs of each integration; each config is
     * one channel, with the settings of its channel package (keys as in Alertmanager).
     */
    public record ReceiverEntry(
            String name,
            List<SlackSettings> slackConfigs,
            List<PagerDutySettings> pagerdutyConfigs,
            List<EmailSettings> emailConfigs,
            List<LogSettings> logConfigs) {
        public ReceiverEntry {
            if (name == null || name.isBlank()) {
                throw InvalidValue.at("name", "required");
            }
            if (name.contains("/")) {
                throw InvalidValue.at("name", "must not contain '/' (channels are keyed receiver/integration/index)");
            }
            slackConfigs = slackConfigs == null ? List.of() : List.copyOf(slackConfigs);
            pagerdutyConfigs = pagerdutyConfigs == null ? List.of() : List.copyOf(pagerdutyConfigs);
            emailConfigs = emailConfigs == null ? List.of() : List.copyOf(emailConfigs);
            logConfigs = logConfigs == null ? List.of() : List.copyOf(logConfigs);
        }
    }
}
