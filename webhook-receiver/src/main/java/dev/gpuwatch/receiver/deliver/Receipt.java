package dev.gpuwatch.receiver.deliver;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a channel needs to remember about a delivered message to update it later, stored durably by the
 * dispatcher per (group, receiver, channel): Slack {@code channel} + {@code ts}, email {@code message_id},
 * PagerDuty {@code dedup_key}. Opaque to the dispatcher, except for {@link #isDigest}.
 */
public record Receipt(Map<String, String> values) {

    /**
     * Marks a receipt that points at a storm digest rather than at a message of the group's own: a later
     * delivery replies in the digest's thread and must never overwrite the digest with one group's content.
     */
    public static final String DIGEST = "digest";

    public Receipt {
        values = Map.copyOf(values);
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** True when this points at a digest message that folded the group in with others. */
    public boolean isDigest() {
        return values.containsKey(DIGEST);
    }

    /** The same message, marked as a digest shared by several groups. */
    public Receipt asDigest() {
        Map<String, String> marked = new HashMap<>(values);
        marked.put(DIGEST, "true");
        return new Receipt(marked);
    }
}
