package dev.gpuwatch.receiver.dispatch;

import dev.gpuwatch.receiver.deliver.Channel;

/**
 * A channel as configured: {@code key} names it durably in the store ({@code receiver/integration/index},
 * e.g. {@code oncall/slack/0}), so deliveries find their channel again after a restart.
 */
public record ConfiguredChannel(String key, String receiver, Channel channel) {

    public static String key(String receiver, String integration, int index) {
        return receiver + "/" + integration + "/" + index;
    }
}
