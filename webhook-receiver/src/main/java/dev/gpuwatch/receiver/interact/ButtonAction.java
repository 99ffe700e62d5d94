package dev.gpuwatch.receiver.interact;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * The buttons a message can carry, by their Block Kit {@code action_id}. {@code active} is how long a pressed
 * button counts as done: a second press within it answers with the first (a silence lasts that long; a PagerDuty
 * acknowledge is idempotent, so an hour only keeps a burst of presses to one event).
 */
public enum ButtonAction {
    SILENCE_1H("silence_1h", "Silence 1h", Duration.ofHours(1)),
    SILENCE_4H("silence_4h", "Silence 4h", Duration.ofHours(4)),
    ACKNOWLEDGE("acknowledge", "Acknowledge", Duration.ofHours(1));

    final String actionId;
    final String label;
    final Duration active;

    ButtonAction(String actionId, String label, Duration active) {
        this.actionId = actionId;
        this.label = label;
        this.active = active;
    }

    /** What the button says, which is also how the inbox names the action. */
    public String label() {
        return label;
    }

    public boolean silences() {
        return this != ACKNOWLEDGE;
    }

    public static Optional<ButtonAction> of(String actionId) {
        return Arrays.stream(values()).filter(a -> a.actionId.equals(actionId)).findFirst();
    }
}
