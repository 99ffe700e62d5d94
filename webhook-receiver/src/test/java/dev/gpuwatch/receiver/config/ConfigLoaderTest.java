package dev.gpuwatch.receiver.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse("r.yml", yaml)).getMessage();
    }

    @Test
    void emptyFileMeansDefaults() throws Exception {
        ReceiverConfig config = ConfigLoader.parse("r.yml", "");
        assertEquals(List.of("default"), config.routingTree().receivers(Map.of(), Map.of()));
        assertEquals(1, config.receivers().getFirst().logConfigs().size());
        assertEquals(Duration.ofHours(6), config.dispatch().maxAge());
        assertEquals(1.0, config.dispatch().rateLimits().get("slack"));
        assertEquals(8L * 1024 * 1024, config.ingest().maxBodyBytes());
        assertEquals(Duration.ofDays(7), config.storage().retention());
        assertEquals(Duration.ofMinutes(5), config.storage().dedupWindow());
    }

    @Test
    void dedupWindowIsReadNextToRetention() throws Exception {
        ReceiverConfig config = ConfigLoader.parse("r.yml", """
                storage:
                  retention: 2d
                  dedup_window: 90s
                """);
        assertEquals(Duration.ofSeconds(90), config.storage().dedupWindow());
        assertEquals(Duration.ofDays(2), config.storage().retention());
        assertEquals(Duration.ofDays(2), ConfigLoader.parse("r.yml", "storage: {retention: 2d, dedup_window: 2d}\n")
                .storage().dedupWindow(), "as long as the retention is allowed");
    }

    @Test
    void dedupWindowOutsideZeroToRetentionIsRefusedNamingTheKey() {
        assertEquals("r.yml: line 3: storage.dedup_window: must be > 0: every retry and HA copy would be delivered"
                + " again", error("""
                storage:
                  retention: 7d
                  dedup_window: 0s
                """));
        assertEquals("r.yml: line 2: storage.dedup_window: must not be longer than retention (7d), got 8d", error("""
                storage:
                  dedup_window: 8d
                """));
        // only the retention is set: the default window is too long for it, and the error points at retention
        assertEquals("r.yml: line 2: storage.retention: dedup_window must not be longer than retention (1m), got"
                + " the default 5m", error("""
                storage:
                  retention: 1m
                """));
        assertEquals("r.yml: line 3: storage.dedup_window: Cannot deserialize value of type `java.time.Duration`"
                + " from String \"-5m\": \"-5m\" is not a duration (e.g. 500ms, 30s, 5m, 6h, 7d)", error("""
                storage:
                  retention: 7d
                  dedup_window: -5m
                """));
    }

    @Test
    void durationsFormatAsTheyParse() {
        for (String text : List.of("7d", "5m", "1h30m", "90ms", "1d1h1m1s1ms")) {
            assertEquals(text, Durations.format(Durations.parse(text)));
        }
        assertEquals("0s", Durations.format(Duration.ZERO));
    }

    @Test
    void optionalChannelKeysMayBeLeftOut() throws Exception {
        ReceiverConfig config = ConfigLoader.parse("r.yml", """
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
        assertEquals("r.yml: line 4: receivers[0].log_configs[0]: unknown key \"fiel\"", error("""
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
        assertEquals("r.yml: line 2: dispatch.max_age: Cannot deserialize value of type `java.time.Duration` from"
                + " String \"soon\": \"soon\" is not a duration (e.g. 500ms, 30s, 5m, 6h, 7d)", error("""
                dispatch:
                  max_age: soon
                """));
        assertEquals("r.yml: line 2: dispatch.max_age: must be at least 1h: a target down for an hour must lose"
                + " nothing", error("""
                dispatch:
                  max_age: 30m
                """));
        assertEquals("r.yml: line 4: route.routes[0].matchers[0]: invalid matcher \"severity\": expected one of"
                + " =, !=, =~, !~ after severity", error("""
                route:
                  receiver: default
                  routes:
                    - matchers: [severity]
                """));
    }

    @Test
    void routeToAnUndefinedReceiverIsRefused() {
        assertEquals("r.yml: line 4: route.routes[0].receiver: receiver \"pager\" is not defined in receivers",
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
        assertEquals("r.yml: line 2: receivers[1].name: duplicate receiver a", error("""
                route: {receiver: a}
                receivers: [{name: a}, {name: a}]
                """));
    }

    /**
     * A value a record rejects in its constructor is seen by Jackson only when the whole section ends, one line
     * past it; the error names the line of the key itself, with its full path.
     */
    @Test
    void valuesRejectedWithTheirSectionNameTheLineOfTheKey() {
        assertEquals("r.yml: line 4: dispatch.max_age: must be at least 1h: a target down for an hour must lose"
                + " nothing", error("""
                storage:
                  retention: 7d
                dispatch:
                  max_age: 30m
                  backoff_initial: 1s
                  lease: 2m
                route: {receiver: default}
                """));
        assertEquals("r.yml: line 1: dispatch.max_age: must be at least 1h: a target down for an hour must lose"
                + " nothing", error("dispatch: {lease: 2m, max_age: 30m}\n"));
        assertEquals("r.yml: line 5: dispatch.rate_limits.sms: unknown integration (slack, pagerduty, email, log)",
                error("""
                        dispatch:
                          rate_limits:
                            slack: 1
                            email: 5
                            sms: 2
                          lease: 2m
                        """));
        assertEquals("r.yml: line 3: dispatch.digest_threshold: must be at least 2", error("""
                dispatch:
                  lease: 2m
                  digest_threshold: 1
                  backoff_max: 5m
                """));
        // only backoff_max is set, and the message names it too
        assertEquals("r.yml: line 3: dispatch.backoff_max: backoff_initial must be > 0 and <= backoff_max", error("""
                dispatch:
                  lease: 2m
                  backoff_max: 100ms
                """));
        assertEquals("r.yml: line 2: ingest.max_body_bytes: must be at least 1024", error("""
                ingest:
                  max_body_bytes: 10
                  queue_capacity: 5
                """));
    }

    @Test
    void channelSettingsRejectedInTheirConstructorNameTheLineOfTheKey() {
        assertEquals("r.yml: line 6: receivers[0].slack_configs[0].api_url: must be an http(s) URL, got ftp://slack",
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
        assertEquals("r.yml: line 3: receivers[1]: name is required", error("""
                receivers:
                  - name: default
                  - log_configs: [{}]
                    slack_configs: []
                """));
    }
}
