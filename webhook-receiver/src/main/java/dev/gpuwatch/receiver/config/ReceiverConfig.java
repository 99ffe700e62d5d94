package dev.gpuwatch.receiver.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.gpuwatch.receiver.deliver.email.EmailSettings;
import dev.gpuwatch.receiver.deliver.log.LogSettings;
import dev.gpuwatch.receiver.deliver.pagerduty.PagerDutySettings;
import dev.gpuwatch.receiver.deliver.slack.SlackSettings;
import dev.gpuwatch.receiver.enrich.EnrichSettings;
import dev.gpuwatch.receiver.route.Matcher;
import dev.gpuwatch.receiver.route.RoutingTree;
import dev.gpuwatch.receiver.store.NotificationStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The receiver's YAML configuration. Every section is optional; what is left out takes the default shown in
 * {@code webhook-receiver/README.md}. Keys are snake_case as in Alertmanager, and an unknown key is an error.
 */
public record ReceiverConfig(
        @JsonProperty("ingest") Ingest ingest,
        @JsonProperty("storage") Storage storage,
        @JsonProperty("dispatch") Dispatch dispatch,
        @JsonProperty("route") RouteConfig route,
        @JsonProperty("receivers") List<ReceiverEntry> receivers,
        @JsonProperty("enrichment") EnrichSettings enrichment,
        @JsonProperty("templates_dir") String templatesDir) {

    public static final String DEFAULT_RECEIVER = "default";

    public ReceiverConfig {
        ingest = Objects.requireNonNullElseGet(ingest, () -> new Ingest(null, null, null));
        storage = Objects.requireNonNullElseGet(storage, () -> new Storage(null, null));
        dispatch = Objects.requireNonNullElseGet(dispatch, () -> new Dispatch(null, null, null, null, null, null));
        route = Objects.requireNonNullElseGet(route, () -> new RouteConfig(DEFAULT_RECEIVER, null, null, null));
        receivers = receivers == null
                ? List.of(new ReceiverEntry(DEFAULT_RECEIVER, null, null, null, List.of(new LogSettings(null))))
                : List.copyOf(receivers);
        enrichment = Objects.requireNonNullElseGet(enrichment, EnrichSettings::defaults);
        templatesDir = Objects.requireNonNullElse(templatesDir, "");
    }

    /** No config file: the log sink receives everything. */
    public static ReceiverConfig defaults() {
        return new ReceiverConfig(null, null, null, null, null, null, null);
    }

    public RoutingTree routingTree() {
        return new RoutingTree(route.toRoute());
    }

    public record Ingest(
            @JsonProperty("max_body_bytes") Long maxBodyBytes,
            @JsonProperty("queue_capacity") Integer queueCapacity,
            @JsonProperty("auth") Auth auth) {
        public Ingest {
            maxBodyBytes = Objects.requireNonNullElse(maxBodyBytes, 8L * 1024 * 1024);
            queueCapacity = Objects.requireNonNullElse(queueCapacity, 20_000);
            auth = Objects.requireNonNullElseGet(auth, () -> new Auth(null, null, null));
            if (maxBodyBytes < 1024) {
                throw new IllegalArgumentException("max_body_bytes must be at least 1024");
            }
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queue_capacity must be at least 1");
            }
        }
    }

    /**
     * How Alertmanager must authenticate: a bearer token ({@code http_config.authorization}) or basic auth
     * ({@code http_config.basic_auth}); none set means no authentication. Secrets come from a file or an
     * environment variable, never from this file.
     */
    public record Auth(
            @JsonProperty("bearer_token_file") String bearerTokenFile,
            @JsonProperty("bearer_token_env") String bearerTokenEnv,
            @JsonProperty("basic_auth") BasicAuth basicAuth) {
        public Auth {
            bearerTokenFile = Objects.requireNonNullElse(bearerTokenFile, "");
            bearerTokenEnv = Objects.requireNonNullElse(bearerTokenEnv, "");
        }

        public Optional<BasicAuth> basic() {
            return Optional.ofNullable(basicAuth);
        }

        public boolean hasBearer() {
            return !bearerTokenFile.isBlank() || !bearerTokenEnv.isBlank();
        }
    }

    public record BasicAuth(
            @JsonProperty("username") String username,
            @JsonProperty("password_file") String passwordFile,
            @JsonProperty("password_env") String passwordEnv) {
        public BasicAuth {
            if (username == null || username.isBlank()) {
                throw new IllegalArgumentException("username is required");
            }
            passwordFile = Objects.requireNonNullElse(passwordFile, "");
            passwordEnv = Objects.requireNonNullElse(passwordEnv, "");
        }
    }

    /**
     * @param retention delivered notifications older than this are deleted
     * @param dedupWindow a copy of a notification stored less than this ago is a duplicate (Alertmanager's
     *     retries, HA peers); a later one is a {@code repeat_interval} reminder and is delivered again
     */
    public record Storage(
            @JsonProperty("retention") @JsonDeserialize(using = Durations.Deserializer.class) Duration retention,
            @JsonProperty("dedup_window") @JsonDeserialize(using = Durations.Deserializer.class)
                    Duration dedupWindow) {
        public Storage {
            retention = Objects.requireNonNullElse(retention, Duration.ofDays(7));
            boolean defaultWindow = dedupWindow == null;
            dedupWindow = Objects.requireNonNullElse(dedupWindow, NotificationStore.DEFAULT_DEDUP_WINDOW);
            if (dedupWindow.isZero() || dedupWindow.isNegative()) {
                throw new IllegalArgumentException("dedup_window must be > 0: every retry and HA copy would be"
                        + " delivered again");
            }
            if (dedupWindow.compareTo(retention) > 0) {
                // the key a copy is compared with is deleted with its notification after the retention
                throw new IllegalArgumentException("dedup_window must not be longer than retention ("
                        + Durations.format(retention) + "), got " + (defaultWindow ? "the default " : "")
                        + Durations.format(dedupWindow));
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
            @JsonProperty("max_age") @JsonDeserialize(using = Durations.Deserializer.class) Duration maxAge,
            @JsonProperty("backoff_initial") @JsonDeserialize(using = Durations.Deserializer.class)
                    Duration backoffInitial,
            @JsonProperty("backoff_max") @JsonDeserialize(using = Durations.Deserializer.class) Duration backoffMax,
            @JsonProperty("rate_limits") Map<String, Double> rateLimits,
            @JsonProperty("digest_threshold") Integer digestThreshold,
            @JsonProperty("lease") @JsonDeserialize(using = Durations.Deserializer.class) Duration lease) {

        public static final Map<String, Double> DEFAULT_RATE_LIMITS =
                Map.of("slack", 1.0, "pagerduty", 2.0, "email", 5.0, "log", 0.0);

        public Dispatch {
            maxAge = Objects.requireNonNullElse(maxAge, Duration.ofHours(6));
            backoffInitial = Objects.requireNonNullElse(backoffInitial, Duration.ofSeconds(1));
            backoffMax = Objects.requireNonNullElse(backoffMax, Duration.ofMinutes(5));
            digestThreshold = Objects.requireNonNullElse(digestThreshold, 10);
            lease = Objects.requireNonNullElse(lease, Duration.ofMinutes(2));
            java.util.HashMap<String, Double> limits = new java.util.HashMap<>(DEFAULT_RATE_LIMITS);
            if (rateLimits != null) {
                for (var e : rateLimits.entrySet()) {
                    if (!DEFAULT_RATE_LIMITS.containsKey(e.getKey())) {
                        throw new IllegalArgumentException("rate_limits." + e.getKey()
                                + ": unknown integration (slack, pagerduty, email, log)");
                    }
                    if (e.getValue() == null || e.getValue() < 0) {
                        throw new IllegalArgumentException("rate_limits." + e.getKey() + " must be >= 0");
                    }
                    limits.put(e.getKey(), e.getValue());
                }
            }
            rateLimits = Map.copyOf(limits);
            if (maxAge.compareTo(Duration.ofHours(1)) < 0) {
                throw new IllegalArgumentException("max_age must be at least 1h: a target down for an hour"
                        + " must lose nothing");
            }
            if (backoffInitial.isZero() || backoffMax.compareTo(backoffInitial) < 0) {
                throw new IllegalArgumentException("backoff_initial must be > 0 and <= backoff_max");
            }
            if (digestThreshold < 2) {
                throw new IllegalArgumentException("digest_threshold must be at least 2");
            }
        }
    }

    /** A node of the routing tree, in Alertmanager's shape. */
    public record RouteConfig(
            @JsonProperty("receiver") String receiver,
            @JsonProperty("matchers") List<MatcherSpec> matchers,
            @JsonProperty("continue") Boolean continueMatching,
            @JsonProperty("routes") List<RouteConfig> routes) {
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
        @JsonCreator
        public static MatcherSpec parse(String text) {
            return new MatcherSpec(Matcher.parseAll(text));
        }
    }

    /**
     * One receiver, as in Alertmanager: a name and any number of configs of each integration; each config is
     * one channel, with the settings of its channel package (keys as in Alertmanager).
     */
    public record ReceiverEntry(
            @JsonProperty("name") String name,
            @JsonProperty("slack_configs") List<SlackSettings> slackConfigs,
            @JsonProperty("pagerduty_configs") List<PagerDutySettings> pagerdutyConfigs,
            @JsonProperty("email_configs") List<EmailSettings> emailConfigs,
            @JsonProperty("log_configs") List<LogSettings> logConfigs) {
        public ReceiverEntry {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("name is required");
            }
            if (name.contains("/")) {
                throw new IllegalArgumentException("name must not contain '/'");
            }
            slackConfigs = slackConfigs == null ? List.of() : List.copyOf(slackConfigs);
            pagerdutyConfigs = pagerdutyConfigs == null ? List.of() : List.copyOf(pagerdutyConfigs);
            emailConfigs = emailConfigs == null ? List.of() : List.copyOf(emailConfigs);
            logConfigs = logConfigs == null ? List.of() : List.copyOf(logConfigs);
        }
    }
}
