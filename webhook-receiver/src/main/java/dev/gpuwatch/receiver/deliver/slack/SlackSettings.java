package dev.gpuwatch.receiver.deliver.slack;

import dev.gpuwatch.config.InvalidValue;
import java.net.URI;

/**
 * One Slack receiver, as written in the receiver's YAML configuration (keys mirror Alertmanager's
 * {@code slack_configs}). Either a bot token ({@code bot_token_file} or {@code bot_token_env}) with a
 * {@code channel}, which posts through {@code chat.postMessage} and can update messages in place when they
 * resolve; or an incoming webhook ({@code webhook_url_file} or {@code webhook_url_env}), which cannot. Holds
 * where secrets are, never the secrets themselves, so {@code toString()} is safe to log. A value it refuses is an
 * {@link InvalidValue} at its key.
 *
 * @param apiUrl the Web API base, default {@code https://slack.com/api/}; the local server in tests and demos
 * @param title Mustache source replacing the {@code title} template (header and text fallback) for this receiver
 * @param text Mustache source replacing the {@code slack-alert} template (one section per alert)
 * @param signingSecretFile the Slack app's signing secret (file or {@code signing_secret_env}), which verifies the
 *     interaction requests its buttons send to {@code POST /api/v1/slack/interactions}; none: no buttons
 */
public record SlackSettings(
        String botTokenFile,
        String botTokenEnv,
        String channel,
        String webhookUrlFile,
        String webhookUrlEnv,
        String apiUrl,
        String title,
        String text,
        String signingSecretFile,
        String signingSecretEnv) {

    public static final String DEFAULT_API_URL = "https://slack.com/api/";

    public SlackSettings {
        botTokenFile = orEmpty(botTokenFile);
        botTokenEnv = orEmpty(botTokenEnv);
        channel = orEmpty(channel);
        webhookUrlFile = orEmpty(webhookUrlFile);
        webhookUrlEnv = orEmpty(webhookUrlEnv);
        apiUrl = orEmpty(apiUrl).isEmpty() ? DEFAULT_API_URL : apiUrl.strip();
        title = title == null ? "" : title;
        text = text == null ? "" : text;
        signingSecretFile = orEmpty(signingSecretFile);
        signingSecretEnv = orEmpty(signingSecretEnv);
        if (!signingSecretFile.isEmpty() && !signingSecretEnv.isEmpty()) {
            throw InvalidValue.here("set signing_secret_file or signing_secret_env, not both");
        }

        boolean bot = !botTokenFile.isEmpty() || !botTokenEnv.isEmpty();
        boolean webhook = !webhookUrlFile.isEmpty() || !webhookUrlEnv.isEmpty();
        if (bot == webhook) {
            throw InvalidValue.here("set either bot_token_file/bot_token_env (with channel)"
                    + " or webhook_url_file/webhook_url_env, exactly one of them");
        }
        if (!botTokenFile.isEmpty() && !botTokenEnv.isEmpty()) {
            throw InvalidValue.here("set bot_token_file or bot_token_env, not both");
        }
        if (!webhookUrlFile.isEmpty() && !webhookUrlEnv.isEmpty()) {
            throw InvalidValue.here("set webhook_url_file or webhook_url_env, not both");
        }
        if (bot && channel.isEmpty()) {
            throw InvalidValue.at("channel", "required with a bot token (a channel id like C0123 or a name)");
        }
        if (webhook && !channel.isEmpty()) {
            throw InvalidValue.at("channel", "an incoming webhook posts to its own channel; remove channel");
        }
        if (!(apiUrl.startsWith("http://") || apiUrl.startsWith("https://"))) {
            throw InvalidValue.at("api_url", "must be an http(s) URL, got " + apiUrl);
        }
        try {
            URI.create(apiUrl);
        } catch (IllegalArgumentException e) {
            throw InvalidValue.at("api_url", "not a URL: " + apiUrl);
        }
        if (!apiUrl.endsWith("/")) {
            apiUrl = apiUrl + "/";
        }
    }

    /** Bot-token mode: {@code chat.postMessage} to {@code channel}, tokens from the file or variable. */
    public static SlackSettings bot(String botTokenFile, String botTokenEnv, String channel, String apiUrl) {
        return new SlackSettings(botTokenFile, botTokenEnv, channel, "", "", apiUrl, "", "", "", "");
    }

    /** Incoming-webhook mode. */
    public static SlackSettings webhook(String webhookUrlFile, String webhookUrlEnv) {
        return new SlackSettings("", "", "", webhookUrlFile, webhookUrlEnv, "", "", "", "", "");
    }

    /** Whether messages carry buttons: a bot token (an incoming webhook cannot be updated) and a signing secret. */
    public boolean interactive() {
        return !webhookMode() && (!signingSecretFile.isEmpty() || !signingSecretEnv.isEmpty());
    }

    public boolean webhookMode() {
        return !webhookUrlFile.isEmpty() || !webhookUrlEnv.isEmpty();
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s.strip();
    }
}
