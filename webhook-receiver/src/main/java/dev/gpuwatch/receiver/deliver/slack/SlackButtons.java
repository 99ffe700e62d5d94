package dev.gpuwatch.receiver.deliver.slack;

import dev.gpuwatch.receiver.deliver.Delivery;
import java.util.List;

/**
 * Which buttons a message of an interactive Slack config carries (bot token and signing secret), decided per
 * delivery by {@code dev.gpuwatch.receiver.interact}: this package renders them and knows nothing of what they do.
 */
@FunctionalInterface
public interface SlackButtons {

    /** No buttons: an incoming webhook, or a config without a signing secret. */
    SlackButtons NONE = delivery -> List.of();

    /** The buttons of {@code delivery}'s message, in order; none for a digest or a resolved group. */
    List<Button> offer(Delivery delivery);

    /**
     * One Block Kit button. {@code value} is an opaque reference the interaction handler resolves again (never a
     * secret), at most {@link #MAX_VALUE} characters as Slack allows.
     */
    record Button(String actionId, String text, String value) {
        public static final int MAX_VALUE = 2000;

        public Button {
            if (value.length() > MAX_VALUE || actionId.length() > 255 || text.length() > 75) {
                throw new IllegalArgumentException("beyond Slack's button limits: " + actionId);
            }
        }
    }
}
