package dev.gpuwatch.receiver.config;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader.Bound;
import dev.gpuwatch.config.ConfigSource;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.email.EmailChannel;
import dev.gpuwatch.receiver.deliver.log.LogChannel;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.pagerduty.PagerDutyChannel;
import dev.gpuwatch.receiver.deliver.slack.SlackButtons;
import dev.gpuwatch.receiver.deliver.slack.SlackChannel;
import dev.gpuwatch.receiver.dispatch.ConfiguredChannel;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Builds every configured channel, keyed durably as {@code receiver/integration/index}. */
public final class Channels {

    private Channels() {}

    /**
     * Builds the channels now, so a missing secret file or a bad template stops the start with the key and line
     * that name it, not the first delivery.
     */
    public static List<ConfiguredChannel> build(Bound<ReceiverConfig> bound) throws ConfigException {
        return build(bound, SlackButtons.NONE);
    }

    /** As {@link #build(Bound)}, with {@code buttons} on the messages of every interactive Slack config. */
    public static List<ConfiguredChannel> build(Bound<ReceiverConfig> bound, SlackButtons buttons)
            throws ConfigException {
        ReceiverConfig config = bound.value();
        ConfigSource source = bound.source();
        Templates templates;
        try {
            templates = config.templatesDir().isBlank()
                    ? Templates.defaults()
                    : Templates.withOverrideDirectory(Path.of(config.templatesDir()));
        } catch (IllegalArgumentException e) {
            throw source.error("templates_dir", e.getMessage());
        }
        List<ConfiguredChannel> channels = new ArrayList<>();
        for (int index = 0; index < config.receivers().size(); index++) {
            ReceiverConfig.ReceiverEntry r = config.receivers().get(index);
            String at = "receivers[" + index + "]";
            add(channels, source, r, "slack", at + ".slack_configs", r.slackConfigs(),
                    s -> SlackChannel.create(s, templates, buttons));
            add(channels, source, r, "pagerduty", at + ".pagerduty_configs", r.pagerdutyConfigs(),
                    s -> PagerDutyChannel.create(s, templates));
            add(channels, source, r, "email", at + ".email_configs", r.emailConfigs(),
                    s -> EmailChannel.create(s, templates));
            add(channels, source, r, "log", at + ".log_configs", r.logConfigs(), s -> LogChannel.create(r.name(), s));
        }
        return channels;
    }

    private static <S> void add(List<ConfiguredChannel> out, ConfigSource source, ReceiverConfig.ReceiverEntry receiver,
            String integration, String key, List<S> settings, Function<S, Channel> factory) throws ConfigException {
        for (int i = 0; i < settings.size(); i++) {
            String at = key + "[" + i + "]";
            try {
                out.add(new ConfiguredChannel(ConfiguredChannel.key(receiver.name(), integration, i), receiver.name(),
                        factory.apply(settings.get(i))));
            } catch (InvalidValue e) {
                throw source.error(e.key().isEmpty() ? at : at + "." + e.key(), e.problem());
            } catch (IllegalArgumentException e) {
                // an inline template that does not compile: the channel's own message, at the channel
                throw source.error(at, e.getMessage());
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
