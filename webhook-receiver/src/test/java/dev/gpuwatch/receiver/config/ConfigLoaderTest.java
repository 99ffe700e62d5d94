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
        assertEquals("r.yml: line 3: dispatch: max_age must be at least 1h: a target down for an hour must lose"
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
        assertEquals("r.yml: route: receiver \"pager\" is not defined in receivers", error("""
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
        assertEquals("r.yml: receivers[1].name: duplicate receiver a", error("""
                route: {receiver: a}
                receivers: [{name: a}, {name: a}]
                """));
    }
}
