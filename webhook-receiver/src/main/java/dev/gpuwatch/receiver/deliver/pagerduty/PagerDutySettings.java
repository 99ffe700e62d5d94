package dev.gpuwatch.receiver.deliver.pagerduty;

import dev.gpuwatch.config.InvalidValue;
import java.net.URI;
import java.util.List;

/**
 * One PagerDuty receiver (Events API v2), as written in the receiver's YAML configuration (keys mirror
 * Alertmanager's {@code pagerduty_configs}). Holds where the routing key is, never the key, so
 * {@code toString()} is safe to log. A value it refuses is an {@link InvalidValue} at its key.
 *
 * @param url the enqueue endpoint, default {@code https://events.pagerduty.com/v2/enqueue}
 * @param client shown in PagerDuty as the event's source tool, default {@code gpuwatch}
 * @param clientUrl link behind {@code client}; empty: the notification's Alertmanager external URL
 * @param severity fixed severity for every event; empty: mapped from the alerts' {@code severity} label
 */
public record PagerDutySettings(
        String routingKeyFile,
        String routingKeyEnv,
        String url,
        String client,
        String clientUrl,
        String severity) {

    public static final String DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue";
    public static final List<String> SEVERITIES = List.of("critical", "error", "warning", "info");

    public PagerDutySettings {
        routingKeyFile = orEmpty(routingKeyFile);
        routingKeyEnv = orEmpty(routingKeyEnv);
        url = orEmpty(url).isEmpty() ? DEFAULT_URL : url.strip();
        client = orEmpty(client).isEmpty() ? "gpuwatch" : client.strip();
        clientUrl = orEmpty(clientUrl);
        severity = orEmpty(severity);
        if (routingKeyFile.isEmpty() == routingKeyEnv.isEmpty()) {
            throw InvalidValue.here("set exactly one of routing_key_file and routing_key_env");
        }
        checkUrl("url", url);
        if (!clientUrl.isEmpty()) {
            checkUrl("client_url", clientUrl);
        }
        if (!severity.isEmpty() && !SEVERITIES.contains(severity)) {
            throw InvalidValue.at("severity", "must be one of " + SEVERITIES + ", got " + severity);
        }
    }

    public static PagerDutySettings of(String routingKeyFile, String routingKeyEnv, String url) {
        return new PagerDutySettings(routingKeyFile, routingKeyEnv, url, "", "", "");
    }

    private static void checkUrl(String key, String value) {
        if (!(value.startsWith("http://") || value.startsWith("https://"))) {
            throw InvalidValue.at(key, "must be an http(s) URL, got " + value);
        }
        try {
            URI.create(value);
        } catch (IllegalArgumentException e) {
            throw InvalidValue.at(key, "not a URL: " + value);
        }
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s.strip();
    }
}
