package dev.gpuwatch.receiver.config;

import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.email.EmailChannel;
import dev.gpuwatch.receiver.deliver.log.LogChannel;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.pagerduty.PagerDutyChannel;
import dev.gpuwatch.receiver.deliver.slack.SlackChannel;
import java.nio.file.Path;
import java.util.function.Function;
import dev.gpuwatch.receiver.dispatch.ConfiguredChannel;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds every configured channel, keyed durably as {@code receiver/integration/index}. */
public final class Channels {

    private Channels() {}

    /**
     * Builds the channels now, so a missing secret file or a bad template stops the start with the key that
     * names it, not the first delivery.
     */
    public static List<ConfiguredChannel> build(ReceiverConfig config) throws ConfigException {
        Templates templates;
        try {
            templates = config.templatesDir().isBlank()
                    ? Templates.defaults()
                    : Templates.withOverrideDirectory(Path.of(config.templatesDir()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("templates_dir: " + e.getMessage());
        }
        List<ConfiguredChannel> channels = new ArrayList<>();
        for (int index = 0; index < config.receivers().size(); index++) {
            ReceiverConfig.ReceiverEntry r = config.receivers().get(index);
            String at = "receivers[" + index + "]";
            add(channels, r, "slack", at + ".slack_configs", r.slackConfigs(), s -> SlackChannel.create(s, templates));
            add(channels, r, "pagerduty", at + ".pagerduty_configs", r.pagerdutyConfigs(),
                    s -> PagerDutyChannel.create(s, templates));
            add(channels, r, "email", at + ".email_configs", r.emailConfigs(), s -> EmailChannel.create(s, templates));
            add(channels, r, "log", at + ".log_configs", r.logConfigs(), s -> LogChannel.create(r.name(), s));
        }
        return channels;
    }

    private static <S> void add(List<ConfiguredChannel> out, ReceiverConfig.ReceiverEntry receiver,
            String integration, String key, List<S> settings, Function<S, Channel> factory) throws ConfigException {
        for (int i = 0; i < settings.size(); i++) {
            try {
                out.add(new ConfiguredChannel(ConfiguredChannel.key(receiver.name(), integration, i), receiver.name(),
                        factory.apply(settings.get(i))));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + "[" + i + "]: " + e.getMessage());
            }
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
