package dev.gpuwatch.receiver.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse("r.yml", yaml)).getMessage();
    }

    private static ReceiverConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse("r.yml", yaml).value();
    }

    @Test
    void emptyFileMeansDefaults() throws Exception {
        ReceiverConfig config = parse("");
        assertEquals(List.of("default"), config.routingTree().receivers(Map.of(), Map.of()));
        assertEquals(1, config.receivers().getFirst().logConfigs().size());
        assertEquals(Duration.ofHours(6), config.dispatch().maxAge());
        assertEquals(1.0, config.dispatch().rateLimits().get("slack"));
        assertEquals(8L * 1024 * 1024, config.ingest().maxBodyBytes().bytes());
        assertEquals(Duration.ofDays(7), config.storage().retention());
        assertEquals(Duration.ofMinutes(5), config.storage().dedupWindow());
    }

    @Test
    void dedupWindowIsReadNextToRetention() throws Exception {
        ReceiverConfig config = parse("""
                storage:
                  retention: 2d
                  dedup_window: 90s
                """);
        assertEquals(Duration.ofSeconds(90), config.storage().dedupWindow());
        assertEquals(Duration.ofDays(2), config.storage().retention());
        assertEquals(Duration.ofDays(2), parse("storage: {retention: 2d, dedup_window: 2d}\n")
                .storage().dedupWindow(), "as long as the retention is allowed");
    }

    @Test
    void postgresIsTheSharedStoreWhenSetAndSqliteOtherwise() throws Exception {
        assertEquals(java.util.Optional.empty(), parse("").storage().shared());
        var pg = parse("""
                storage:
                  postgres:
                    url: jdbc:postgresql://127.0.0.1:5432/gpuwatch
                    user: gpuwatch
                    password_file: /run/secrets/pg
                """).storage().shared().orElseThrow();
        assertEquals(new dev.gpuwatch.receiver.store.PostgresSettings("jdbc:postgresql://127.0.0.1:5432/gpuwatch",
                "gpuwatch", "/run/secrets/pg", "", 8), pg);
        assertEquals(3, parse("storage: {postgres: {url: 'jdbc:postgresql://db/g', user: u, password_env: PG,"
                + " pool_size: 3}}\n").storage().shared().orElseThrow().poolSize());
    }

    @Test
    void postgresSettingsAreCheckedNamingTheKey() {
        assertEquals("r.yml:3: storage.postgres.url: must start with jdbc:postgresql:"
                + " (jdbc:postgresql://host:5432/gpuwatch)", error("""
                storage:
                  postgres:
                    url: postgres://db/gpuwatch
                    user: u
                    password_env: PG
                """));
        assertEquals("r.yml:3: storage.postgres.url: must not carry a password; set password_file or password_env",
                error("""
                storage:
                  postgres:
                    url: jdbc:postgresql://db/gpuwatch?user=u&password=hunter2
                    user: u
                    password_env: PG
                """));
        assertEquals("r.yml:2: storage.postgres: set exactly one of password_file and password_env", error("""
                storage:
                  postgres:
                    url: jdbc:postgresql://db/gpuwatch
                    user: u
                """));
        assertEquals("r.yml:6: storage.postgres.pool_size: must be at least 2 (one connection commits"
                + " notifications, one serves deliveries), got 1", error("""
                storage:
                  postgres:
                    url: jdbc:postgresql://db/gpuwatch
                    user: u
                    password_env: PG
                    pool_size: 1
                """));
    }

    @Test
    void dedupWindowOutsideZeroToRetentionIsRefusedNamingTheKey() {
        assertEquals("r.yml:3: storage.dedup_window: must be longer than 0s: every retry and HA copy would be"
                + " delivered again", error("""
                storage:
                  retention: 7d
                  dedup_window: 0s
                """));
        assertEquals("r.yml:2: storage.dedup_window: must not be longer than retention (1w), got 1w1d", error("""
                storage:
                  dedup_window: 8d
                """));
        // only the retention is set: the default window is too long for it, and the error points at retention
        assertEquals("r.yml:2: storage.retention: must not be shorter than dedup_window (the default 5m), got 1m",
                error("""
                storage:
                  retention: 1m
                """));
        assertEquals("r.yml:3: storage.dedup_window: expected a duration like 30s, 1m30s, 500ms or 1d, got \"-5m\"",
                error("""
                storage:
                  retention: 7d
                  dedup_window: -5m
                """));
    }

    @Test
    void durationsFormatAsTheyParse() {
        for (String text : List.of("1w", "5m", "1h30m", "90ms", "1d1h1m1s1ms")) {
            assertEquals(text, Durations.format(Durations.parse(text).orElseThrow()));
        }
        assertEquals("1w", Durations.format(Durations.parse("7d").orElseThrow()), "as Prometheus writes 7d");
        assertEquals("0s", Durations.format(Duration.ZERO));
    }

    /** Prometheus's grammar: each unit once, largest first; {@code 30s5m} and {@code 1s1s} are not durations. */
    @Test
    void durationsArePrometheusDurations() throws Exception {
        assertEquals("r.yml:3: dispatch.max_age: expected a duration like 30s, 1m30s, 500ms or 1d, got \"30s5m\"",
                error("""
                dispatch:
                  lease: 2m
                  max_age: 30s5m
                """));
        assertEquals("r.yml:2: storage.retention: expected a duration like 30s, 1m30s, 500ms or 1d, got \"1s1s\"",
                error("""
                storage:
                  retention: 1s1s
                """));
        assertEquals(Duration.ofDays(1), parse("storage: {retention: 1d}\n").storage().retention());
        assertEquals(Duration.ofMinutes(90), parse("dispatch: {max_age: 1h30m}\n").dispatch().maxAge());
    }

    @Test
    void byteSizesTakeUnitsAndPlainNumbers() throws Exception {
        assertEquals(512 * 1024, parse("ingest: {max_body_bytes: 512KB}\n").ingest().maxBodyBytes().bytes());
        assertEquals(16L << 20, parse("ingest: {max_body_bytes: 16MiB}\n").ingest().maxBodyBytes().bytes());
        assertEquals(8388608, parse("ingest: {max_body_bytes: 8388608}\n").ingest().maxBodyBytes().bytes(),
                "a plain number of bytes, as files written before sizes had units");
        assertEquals("r.yml:2: ingest.max_body_bytes: expected a size like 8MiB, 512KB or 1048576, got \"lots\"",
                error("""
                ingest:
                  max_body_bytes: lots
                """));
    }

    @Test
    void optionalChannelKeysMayBeLeftOut() throws Exception {
        ReceiverConfig config = parse("""
                route:
                  receiver: mail
                receivers:
                  - name: mail
                    email_configs:
                      - smarthost: smtp.example:587
                        from: gpuwatch@alerts.example
                        to: [oncall@team.example]
                """);
        var email = config.receivers().getFirst().emailConfigs().getFirst();
        assertEquals(false, email.tlsInsecureSkipVerify());
        assertEquals("starttls", email.tls());
    }

    @Test
    void unknownKeyNamesKeyPathAndLine() {
        assertEquals("r.yml:4: receivers[0].log_configs[0].fiel: unknown key (known keys: file)", error("""
                receivers:
                  - name: default
                    log_configs:
                      - fiel: /tmp/x
                  - name: other
                route: {receiver: default}
                """));
    }

    @Test
    void badValuesNameTheirField() {
        assertEquals("r.yml:2: dispatch.max_age: expected a duration like 30s, 1m30s, 500ms or 1d, got \"soon\"",
                error("""
                dispatch:
                  max_age: soon
                """));
        assertEquals("r.yml:2: dispatch.max_age: must be at least 1h: a target down for an hour must lose nothing",
                error("""
                dispatch:
                  max_age: 30m
                """));
        assertEquals("r.yml:4: route.routes[0].matchers[0]: invalid matcher \"severity\": expected one of"
                + " =, !=, =~, !~ after severity", error("""
                route:
                  receiver: default
                  routes:
                    - matchers: [severity]
                """));
    }

    @Test
    void routeToAnUndefinedReceiverIsRefused() {
        assertEquals("r.yml:4: route.routes[0].receiver: receiver \"pager\" is not defined in receivers",
                error("""
                route:
                  receiver: default
                  routes:
                    - receiver: pager
                receivers:
                  - name: default
                """));
    }

    @Test
    void duplicateReceiverIsRefused() {
        assertEquals("r.yml:2: receivers[1].name: duplicate receiver a", error("""
                route: {receiver: a}
                receivers: [{name: a}, {name: a}]
                """));
    }

    /**
     * A value a record rejects in its constructor is seen by Jackson only when the whole section ends, one line
     * past it; the error names the line of the key itself, with its full path, the key being data of the refusal.
     */
    @Test
    void valuesRejectedWithTheirSectionNameTheLineOfTheKey() {
        assertEquals("r.yml:4: dispatch.max_age: must be at least 1h: a target down for an hour must lose nothing",
                error("""
                storage:
                  retention: 7d
                dispatch:
                  max_age: 30m
                  backoff_initial: 1s
                  lease: 2m
                route: {receiver: default}
                """));
        assertEquals("r.yml:1: dispatch.max_age: must be at least 1h: a target down for an hour must lose nothing",
                error("dispatch: {lease: 2m, max_age: 30m}\n"));
        assertEquals("r.yml:5: dispatch.rate_limits.sms: unknown integration (slack, pagerduty, email, log)",
                error("""
                        dispatch:
                          rate_limits:
                            slack: 1
                            email: 5
                            sms: 2
                          lease: 2m
                        """));
        assertEquals("r.yml:3: dispatch.digest_threshold: must be at least 2", error("""
                dispatch:
                  lease: 2m
                  digest_threshold: 1
                  backoff_max: 5m
                """));
        // only backoff_max is set: the error is at it, and names the default it contradicts
        assertEquals("r.yml:3: dispatch.backoff_max: must not be shorter than backoff_initial (the default 1s), got"
                + " 100ms", error("""
                dispatch:
                  lease: 2m
                  backoff_max: 100ms
                """));
        assertEquals("r.yml:2: ingest.max_body_bytes: must be at least 1KiB, got 10B", error("""
                ingest:
                  max_body_bytes: 10
                  queue_capacity: 5
                """));
    }

    @Test
    void channelSettingsRejectedInTheirConstructorNameTheLineOfTheKey() {
        assertEquals("r.yml:6: receivers[0].slack_configs[0].api_url: must be an http(s) URL, got ftp://slack",
                error("""
                        receivers:
                          - name: default
                            slack_configs:
                              - bot_token_env: SLACK_TOKEN
                                channel: C0123
                                api_url: ftp://slack
                                title: hi
                        """));
        // no key to point at: the line of the entry that lacks it
        assertEquals("r.yml:3: receivers[1].name: required", error("""
                receivers:
                  - name: default
                  - log_configs: [{}]
                    slack_configs: []
                """));
    }

    /** Secrets and templates are read when the receiver starts; their errors name the key and line all the same. */
    @Test
    void whatIsCheckedAtStartNamesTheKeyAndLine(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing-key");
        var pager = ConfigLoader.parse("r.yml", """
                route: {receiver: pager}
                receivers:
                  - name: pager
                    pagerduty_configs:
                      - routing_key_file: %s
                """.formatted(missing));
        assertEquals("r.yml:5: receivers[0].pagerduty_configs[0].routing_key_file: cannot read " + missing
                + " (NoSuchFileException)", assertThrows(ConfigException.class, () -> Channels.build(pager)).getMessage());
        var slack = ConfigLoader.parse("r.yml", """
                receivers:
                  - name: default
                    slack_configs:
                      - bot_token_env: GPUWATCH_TEST_UNSET_VARIABLE
                        channel: C0123
                """);
        assertEquals("r.yml:4: receivers[0].slack_configs[0].bot_token_env: environment variable"
                + " GPUWATCH_TEST_UNSET_VARIABLE is not set or empty",
                assertThrows(ConfigException.class, () -> Channels.build(slack)).getMessage());
        var templates = ConfigLoader.parse("r.yml", "\ntemplates_dir: " + dir.resolve("none") + "\n");
        assertEquals("r.yml:2: templates_dir: templates: cannot read " + dir.resolve("none") + " ("
                + dir.resolve("none") + ")", assertThrows(ConfigException.class, () -> Channels.build(templates))
                .getMessage());
    }

    @Test
    void basicAuthNeedsExactlyOnePasswordSource() {
        assertEquals("r.yml:3: ingest.auth.basic_auth: set exactly one of password_file and password_env", error("""
                ingest:
                  auth:
                    basic_auth: {username: am}
                """));
    }
}
