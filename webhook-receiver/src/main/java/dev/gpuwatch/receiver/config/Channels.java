package dev.gpuwatch.receiver.config;

import dev.gpuwatch.receiver.deliver.log.LogChannel;
import dev.gpuwatch.receiver.deliver.log.LogSettings;
import dev.gpuwatch.receiver.dispatch.ConfiguredChannel;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds every configured channel, keyed durably as {@code receiver/integration/index}. */
public final class Channels {

    private Channels() {}

    public static List<ConfiguredChannel> build(ReceiverConfig config) throws ConfigException {
        List<ConfiguredChannel> channels = new ArrayList<>();
        for (ReceiverConfig.ReceiverEntry r : config.receivers()) {
            String at = "receivers[" + config.receivers().indexOf(r) + "]";
            unsupported(at + ".slack_configs", r.slackConfigs().size());
            unsupported(at + ".pagerduty_configs", r.pagerdutyConfigs().size());
            unsupported(at + ".email_configs", r.emailConfigs().size());
            for (int i = 0; i < r.logConfigs().size(); i++) {
                LogSettings settings = r.logConfigs().get(i);
                channels.add(new ConfiguredChannel(ConfiguredChannel.key(r.name(), "log", i), r.name(),
                        LogChannel.create(r.name(), settings)));
            }
        }
        return channels;
    }

    private static void unsupported(String key, int count) throws ConfigException {
        if (count > 0) {
            throw new ConfigException(key + ": this build has no such channel yet");
        }
    }

    /** Every receiver name with the targets its notifications are stored for (none for a "null" receiver). */
    public static Map<String, List<Target>> targets(ReceiverConfig config, List<ConfiguredChannel> channels) {
        Map<String, List<Target>> targets = new LinkedHashMap<>();
        config.receivers().forEach(r -> targets.put(r.name(), new ArrayList<>()));
        for (ConfiguredChannel c : channels) {
            targets.get(c.receiver()).add(new Target(c.receiver(), c.key(), c.channel().integration()));
        }
        return targets;
    }
}
