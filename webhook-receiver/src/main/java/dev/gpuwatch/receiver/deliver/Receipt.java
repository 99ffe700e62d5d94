package dev.gpuwatch.receiver.deliver;

import java.util.Map;
import java.util.Optional;

/**
 * What a channel needs to remember about a delivered message to update it later, stored durably by the
 * dispatcher per (group, receiver, channel): Slack {@code channel} + {@code ts}, email {@code message_id},
 * PagerDuty {@code dedup_key}. Opaque to the dispatcher.
 */
public record Receipt(Map<String, String> values) {

    public Receipt {
        values = Map.copyOf(values);
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }
}
