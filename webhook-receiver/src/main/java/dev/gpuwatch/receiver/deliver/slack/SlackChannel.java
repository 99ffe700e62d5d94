package dev.gpuwatch.receiver.deliver.slack;

import com.slack.api.Slack;
import com.slack.api.SlackConfig;
import com.slack.api.methods.MethodsClient;
import com.slack.api.methods.SlackApiException;
import com.slack.api.methods.SlackApiTextResponse;
import com.slack.api.util.http.SlackHttpClient;
import com.slack.api.webhook.WebhookResponse;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.RetryAfter;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.secret.Secret;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;

/**
 * Delivers to Slack through the official SDK (slack-api-client): {@code chat.postMessage} with a bot token, or
 * an incoming webhook. A later notification of a group already posted rewrites the original in place
 * ({@code chat.update} of the stored channel + ts) and adds a thread reply: a short line when the group
 * resolves, the whole message (broadcast to the channel too) when it fires again, e.g. an Alertmanager
 * {@code repeat_interval} reminder; so the channel shows one message per incident. The SDK's own retries
 * are off (no OkHttp connection retry, no rate-limit queue, no stats): the dispatcher owns retries and reads
 * the outcome. Thread-safe.
 */
public final class SlackChannel implements Channel {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(15);

    /** {@code ok:false} errors that a later attempt can fix; every other error is permanent. */
    private static final Set<String> TRANSIENT_ERRORS = Set.of(
            "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout");
    /** chat.update errors after which a new message is posted instead of failing the resolve. */
    private static final Set<String> CANNOT_UPDATE = Set.of("message_not_found", "cant_update_message", "edit_window_closed");

    /** chat.postMessage errors for a thread whose parent is gone: the message is posted on its own instead. */
    private static final Set<String> NO_THREAD = Set.of("thread_not_found", "message_not_found");

    private final Slack slack;
    private final BlockKit blockKit;
    private final String channel;
    private final Optional<MethodsClient> methods;
    private final Optional<String> webhookUrl;

    private SlackChannel(Slack slack, BlockKit blockKit, String channel, Optional<MethodsClient> methods, Optional<String> webhookUrl) {
        this.slack = slack;
        this.blockKit = blockKit;
        this.channel = channel;
        this.methods = methods;
        this.webhookUrl = webhookUrl;
    }

    /**
     * Resolves the token or webhook URL now (from the file or variable named in {@code settings}) and applies
     * the receiver's inline {@code title}/{@code text} templates.
     *
     * @throws dev.gpuwatch.config.InvalidValue at the key (relative to the settings) when a secret is missing or
     *     invalid
     * @throws IllegalArgumentException when an inline template does not compile
     */
    public static Channel create(SlackSettings settings, Templates templates) {
        Templates t = templates;
        if (!settings.title().isBlank()) {
            t = t.withOverride("title", settings.title());
        }
        if (!settings.text().isBlank()) {
            t = t.withOverride("slack-alert", settings.text());
        }
        SlackConfig config = new SlackConfig();
        config.setMethodsEndpointUrlPrefix(settings.apiUrl());
        config.setStatsEnabled(false);  // stats would call auth.test and keep per-team metrics we do not use
        config.setHttpClientCallTimeoutMillis((int) CALL_TIMEOUT.toMillis());
        config.setHttpClientReadTimeoutMillis((int) CALL_TIMEOUT.toMillis());
        config.setHttpClientWriteTimeoutMillis((int) CALL_TIMEOUT.toMillis());
        config.setProxyUrl(null);
        OkHttpClient ok = SlackHttpClient.buildOkHttpClient(config).newBuilder()
                .retryOnConnectionFailure(false)
                .connectTimeout(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .build();
        Slack slack = Slack.getInstance(config, new SlackHttpClient(ok));
        if (settings.webhookMode()) {
            String url = Secret.resolve("webhook_url_file", settings.webhookUrlFile(),
                    "webhook_url_env", settings.webhookUrlEnv());
            if (!(url.startsWith("https://") || url.startsWith("http://"))) {
                throw InvalidValue.at(settings.webhookUrlFile().isEmpty() ? "webhook_url_env" : "webhook_url_file",
                        "the secret is not an http(s) URL");
            }
            return new SlackChannel(slack, new BlockKit(t), "", Optional.empty(), Optional.of(url));
        }
        String token = Secret.resolve("bot_token_file", settings.botTokenFile(),
                "bot_token_env", settings.botTokenEnv());
        return new SlackChannel(slack, new BlockKit(t), settings.channel(), Optional.of(slack.methods(token)), Optional.empty());
    }

    @Override
    public String integration() {
        return "slack";
    }

    @Override
    public DeliveryOutcome deliver(Delivery delivery) {
        BlockKit.SlackMessage message;
        Optional<String> reply = Optional.empty();
        try {
            if (delivery.isDigest()) {
                message = blockKit.digest(delivery.notifications());
            } else {
                EnrichedNotification n = delivery.notifications().getFirst();
                message = blockKit.notification(n);
                if (n.notification().isResolved()) {
                    reply = Optional.of(blockKit.resolvedReply(n));
                }
            }
        } catch (RuntimeException e) {
            return new DeliveryOutcome.Failed("slack: template rendering failed: " + e.getMessage());
        }
        if (webhookUrl.isPresent()) {
            return sendWebhook(webhookUrl.get(), message);
        }
        MethodsClient api = methods.orElseThrow();
        if (delivery.isDigest()) {
            DeliveryOutcome posted = post(api, message);
            return posted instanceof DeliveryOutcome.Delivered ok
                    ? DeliveryOutcome.Delivered.digest(delivery, ok.receipt())
                    : posted;
        }
        Optional<String> prevChannel = delivery.previous().flatMap(r -> r.get("channel"));
        Optional<String> prevTs = delivery.previous().flatMap(r -> r.get("ts"));
        if (prevChannel.isPresent() && prevTs.isPresent() && delivery.previous().orElseThrow().isDigest()) {
            // first announced inside a storm digest: the digest speaks for many groups, so it is never
            // rewritten with this one's content; the group's news goes into the digest's thread instead
            return replyToDigest(api, delivery.previous().orElseThrow(), prevChannel.get(), prevTs.get(), message,
                    !delivery.notifications().getFirst().notification().isResolved());
        }
        if (prevChannel.isPresent() && prevTs.isPresent()) {
            // a later notification of a group already posted: a resolve, or firing again (alerts joined the
            // group, or a repeat_interval reminder); either way the original message shows the current state
            // and the thread tells what happened, so the channel keeps one message per incident
            return updateInPlace(api, prevChannel.get(), prevTs.get(), message, reply.isPresent()
                    ? new ThreadReply(reply.get(), Optional.empty(), false)
                    : new ThreadReply(message.text(), Optional.of(message.blocksJson()), true));
        }
        return post(api, message);
    }

    @Override
    public String toString() {
        return webhookUrl.isPresent() ? "SlackChannel[webhook]" : "SlackChannel[" + channel + "]";
    }

    private DeliveryOutcome post(MethodsClient api, BlockKit.SlackMessage message) {
        Result r = call(() -> api.chatPostMessage(req -> req
                .channel(channel)
                .text(message.text())
                .blocksAsString(message.blocksJson())
                .unfurlLinks(false)
                .unfurlMedia(false)));
        if (r.failure().isPresent()) {
            return r.failure().get();
        }
        var response = (com.slack.api.methods.response.chat.ChatPostMessageResponse) r.response().orElseThrow();
        return new DeliveryOutcome.Delivered(new Receipt(Map.of("channel", response.getChannel(), "ts", response.getTs())));
    }

    /**
     * What goes into the group's thread: the short resolved line, or for a group still firing the whole current
     * message broadcast to the channel too, so a reminder notifies the channel like a new post would, without
     * starting a second message for the same incident.
     */
    private record ThreadReply(String text, Optional<String> blocksJson, boolean broadcast) {}

    /** chat.update of the original, then a thread reply; a message that cannot be updated gets a new post. */
    private DeliveryOutcome updateInPlace(MethodsClient api, String prevChannel, String ts, BlockKit.SlackMessage message,
            ThreadReply reply) {
        Result update = call(() -> api.chatUpdate(req -> req
                .channel(prevChannel)
                .ts(ts)
                .text(message.text())
                .blocksAsString(message.blocksJson())));
        if (update.failure().isPresent()) {
            if (update.error().filter(CANNOT_UPDATE::contains).isPresent()) {
                return post(api, message);
            }
            return update.failure().get();
        }
        Result threaded = postInThread(api, prevChannel, ts, reply);
        if (threaded.failure().isPresent()) {
            return threaded.failure().get();
        }
        return new DeliveryOutcome.Delivered(new Receipt(Map.of("channel", prevChannel, "ts", ts)));
    }

    private Result postInThread(MethodsClient api, String threadChannel, String ts, ThreadReply reply) {
        return call(() -> api.chatPostMessage(req -> req
                .channel(threadChannel)
                .threadTs(ts)
                .text(reply.text())
                .blocksAsString(reply.blocksJson().orElse(null))
                .replyBroadcast(reply.broadcast())
                .unfurlLinks(false)
                .unfurlMedia(false)));
    }

    /**
     * The whole current message as a reply in the digest's thread, broadcast to the channel too while the group
     * fires (as a reminder under a message of its own is). The group keeps the digest receipt, so its next
     * delivery lands in the same thread. A digest deleted from Slack leaves no thread: the message is posted on
     * its own and becomes the group's own message from then on.
     */
    private DeliveryOutcome replyToDigest(MethodsClient api, Receipt digest, String digestChannel, String ts,
            BlockKit.SlackMessage message, boolean broadcast) {
        Result threaded = postInThread(api, digestChannel, ts,
                new ThreadReply(message.text(), Optional.of(message.blocksJson()), broadcast));
        if (threaded.failure().isPresent()) {
            if (threaded.error().filter(NO_THREAD::contains).isPresent()) {
                return post(api, message);
            }
            return threaded.failure().get();
        }
        return new DeliveryOutcome.Delivered(digest);
    }

    private DeliveryOutcome sendWebhook(String url, BlockKit.SlackMessage message) {
        WebhookResponse response;
        try {
            response = slack.send(url, message.webhookJson());
        } catch (IOException e) {
            return new DeliveryOutcome.RetryLater("slack webhook: " + describe(e, url), Optional.empty());
        } catch (RuntimeException e) {
            return new DeliveryOutcome.RetryLater("slack webhook: " + e.getClass().getSimpleName(), Optional.empty());
        }
        int code = response.getCode();
        String body = Optional.ofNullable(response.getBody()).orElse("").strip();
        if (code == 200) {
            return new DeliveryOutcome.Delivered(new Receipt(Map.of()));
        }
        String reason = "slack webhook: HTTP " + code + " " + shorten(body);
        if (code == 429) {
            return new DeliveryOutcome.RetryLater(reason, RetryAfter.parse(header(response.getHeaders(), "retry-after")));
        }
        if (code >= 500) {
            return new DeliveryOutcome.RetryLater(reason, RetryAfter.parse(header(response.getHeaders(), "retry-after")));
        }
        return new DeliveryOutcome.Failed(reason);
    }

    @FunctionalInterface
    private interface SlackCall {
        SlackApiTextResponse run() throws IOException, SlackApiException;
    }

    /** A Web API call's response, or the outcome its failure maps to, and Slack's error code when it gave one. */
    private record Result(Optional<SlackApiTextResponse> response, Optional<DeliveryOutcome> failure, Optional<String> error) {}

    private static Result call(SlackCall call) {
        try {
            SlackApiTextResponse response = call.run();
            if (response.isOk()) {
                return new Result(Optional.of(response), Optional.empty(), Optional.empty());
            }
            String error = Optional.ofNullable(response.getError()).orElse("unknown_error");
            String reason = "slack: ok:false " + error;
            Optional<Duration> retryAfter = RetryAfter.parse(header(response.getHttpResponseHeaders(), "retry-after"));
            DeliveryOutcome outcome = TRANSIENT_ERRORS.contains(error)
                    ? new DeliveryOutcome.RetryLater(reason, retryAfter)
                    : new DeliveryOutcome.Failed(reason);
            return new Result(Optional.empty(), Optional.of(outcome), Optional.of(error));
        } catch (SlackApiException e) {
            int code = e.getResponse().code();
            Optional<String> error = Optional.ofNullable(e.getError()).map(err -> err.getError());
            String reason = "slack: HTTP " + code + error.map(err -> " " + err).orElse("");
            Optional<Duration> retryAfter = RetryAfter.parse(Optional.ofNullable(e.getResponse().header("Retry-After")));
            DeliveryOutcome outcome = code == 429 || code >= 500
                    || error.filter(TRANSIENT_ERRORS::contains).isPresent()
                    ? new DeliveryOutcome.RetryLater(reason, retryAfter)
                    : new DeliveryOutcome.Failed(reason);
            return new Result(Optional.empty(), Optional.of(outcome), error);
        } catch (InterruptedIOException e) {
            return new Result(Optional.empty(), Optional.of(new DeliveryOutcome.RetryLater("slack: timeout", Optional.empty())), Optional.empty());
        } catch (IOException e) {
            return new Result(Optional.empty(), Optional.of(new DeliveryOutcome.RetryLater("slack: " + describe(e, ""), Optional.empty())), Optional.empty());
        } catch (RuntimeException e) {
            // OkHttp and Gson surface some transport and parse problems unchecked; they are not our bugs to crash on.
            return new Result(Optional.empty(), Optional.of(new DeliveryOutcome.RetryLater("slack: " + e.getClass().getSimpleName(), Optional.empty())), Optional.empty());
        }
    }

    private static Optional<String> header(Map<String, List<String>> headers, String name) {
        if (headers == null) {
            return Optional.empty();
        }
        return headers.entrySet().stream()
                .filter(e -> e.getKey() != null && e.getKey().equalsIgnoreCase(name))
                .flatMap(e -> e.getValue().stream()).findFirst();
    }

    /** An exception as a log-safe reason: class and message, with the secret webhook URL removed. */
    private static String describe(IOException e, String secret) {
        String message = Optional.ofNullable(e.getMessage()).orElse("");
        if (!secret.isEmpty()) {
            message = message.replace(secret, "<webhook url>");
        }
        return e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + shorten(message));
    }

    private static String shorten(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
