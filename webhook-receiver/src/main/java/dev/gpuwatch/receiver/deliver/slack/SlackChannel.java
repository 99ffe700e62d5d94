package dev.gpuwatch.receiver.deliver.slack;

import com.slack.api.Slack;
import com.slack.api.SlackConfig;
import com.slack.api.methods.MethodsClient;
import com.slack.api.methods.SlackApiException;
import com.slack.api.methods.SlackApiTextResponse;
import com.slack.api.util.http.SlackHttpClient;
import com.slack.api.model.ConversationType;
import com.slack.api.model.Message;
import com.slack.api.webhook.WebhookResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.SentLookup;
import dev.gpuwatch.receiver.deliver.SentQuery;
import dev.gpuwatch.receiver.deliver.message.RetryAfter;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.secret.Secret;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;

/**
 * Delivers to Slack through the official SDK (slack-api-client): {@code chat.postMessage} with a bot token, or
 * an incoming webhook. A later notification of a group already posted rewrites the original in place
 * ({@code chat.update} of the stored channel + ts) and adds a thread reply: a short line when the group
 * resolves, the whole message (broadcast to the channel too) when it fires again, e.g. an Alertmanager
 * {@code repeat_interval} reminder; so the channel shows one message per incident. The SDK's own retries
 * are off (no OkHttp connection retry, no rate-limit queue, no stats): the dispatcher owns retries and reads
 * the outcome.
 *
 * <p>Every message it posts (a new message, a digest, a thread reply) carries Slack message {@code metadata}
 * naming the stored deliveries it carries: {@code {"event_type": "gpuwatch_delivery", "event_payload": {"store":
 * "<store id>", "delivery_id": "42"}}}, or {@code "delivery_ids": "42,43,57"} for a digest. After a crash,
 * {@link #findSent} looks for them with {@code conversations.history} (and {@code conversations.replies} in the
 * thread a reply would be in), from a little before the attempt in doubt began, so that a message already posted
 * is recorded instead of posted twice. That needs the history scopes ({@code channels:history},
 * {@code groups:history}) and, for a channel configured by name, {@code channels:read} / {@code groups:read} to
 * learn its id; without them the lookup fails and the delivery is sent again. Thread-safe.
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

    /** The metadata {@code event_type} of every message this channel posts. */
    static final String METADATA_EVENT = "gpuwatch_delivery";
    /**
     * How long before an attempt in doubt began its message is looked for: Slack stamps a message with its own
     * clock, which may differ a little from this host's.
     */
    static final Duration LOOKUP_MARGIN = Duration.ofMinutes(2);
    /** Messages per history page, and pages read per conversation before giving up (then it is sent again). */
    static final int LOOKUP_PAGE_SIZE = 200;
    static final int LOOKUP_MAX_PAGES = 10;
    /** A conversation id (C…, G…, D…); a name is lower case, with or without '#'. */
    private static final Pattern CHANNEL_ID = Pattern.compile("[CGD][A-Z0-9]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Slack slack;
    private final BlockKit blockKit;
    private final String channel;
    private final Optional<MethodsClient> methods;
    private final Optional<String> webhookUrl;
    /** The buttons of an interactive config, and its signing secret; set once by {@link #create(SlackSettings, Templates, SlackButtons)}. */
    private volatile SlackButtons buttons = SlackButtons.NONE;
    private volatile Optional<String> signingSecret = Optional.empty();
    /** The configured channel's id, once learnt (from a post, or conversations.list for a name). */
    private final AtomicReference<String> channelId = new AtomicReference<>();

    private SlackChannel(Slack slack, BlockKit blockKit, String channel, Optional<MethodsClient> methods, Optional<String> webhookUrl) {
        this.slack = slack;
        this.blockKit = blockKit;
        this.channel = channel;
        this.methods = methods;
        this.webhookUrl = webhookUrl;
        if (CHANNEL_ID.matcher(channel).matches()) {
            channelId.set(channel);
        }
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

    /**
     * As {@link #create(SlackSettings, Templates)}; an interactive config ({@link SlackSettings#interactive()})
     * also resolves its signing secret now and puts {@code buttons} on its messages.
     */
    public static Channel create(SlackSettings settings, Templates templates, SlackButtons buttons) {
        SlackChannel created = (SlackChannel) create(settings, templates);
        if (settings.interactive()) {
            created.signingSecret = Optional.of(Secret.resolve("signing_secret_file", settings.signingSecretFile(),
                    "signing_secret_env", settings.signingSecretEnv()));
            created.buttons = buttons;
        }
        return created;
    }

    /** The Slack app's signing secret of an interactive config, which verifies its interaction requests. */
    public Optional<String> signingSecret() {
        return signingSecret;
    }

    /** chat.update of a message this channel posted; the reason when it failed. */
    public Optional<String> updateMessage(String messageChannel, String ts, String text, String blocksJson) {
        if (methods.isEmpty()) {
            return Optional.of("slack: an incoming webhook cannot update a message");
        }
        Result r = call(() -> methods.get().chatUpdate(req -> req.channel(messageChannel).ts(ts).text(text)
                .blocksAsString(blocksJson)));
        return r.failure().map(SlackChannel::reason);
    }

    /** A plain thread reply under a message this channel posted; the reason when it failed. */
    public Optional<String> replyInThread(String messageChannel, String ts, String text) {
        if (methods.isEmpty()) {
            return Optional.of("slack: an incoming webhook cannot reply in a thread");
        }
        Result r = postInThread(methods.get(), messageChannel, ts, new ThreadReply(text, Optional.empty(), false,
                Optional.empty()));
        return r.failure().map(SlackChannel::reason);
    }

    private static String reason(DeliveryOutcome failure) {
        return switch (failure) {
            case DeliveryOutcome.RetryLater r -> r.reason();
            case DeliveryOutcome.Failed f -> f.reason();
            case DeliveryOutcome.Delivered d -> "delivered";
        };
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
                message = BlockKit.withActions(blockKit.notification(n), buttons.offer(delivery));
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
        Optional<String> metadata = metadata(delivery);
        if (delivery.isDigest()) {
            DeliveryOutcome posted = post(api, message, metadata);
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
                    !delivery.notifications().getFirst().notification().isResolved(), metadata);
        }
        if (prevChannel.isPresent() && prevTs.isPresent()) {
            // a later notification of a group already posted: a resolve, or firing again (alerts joined the
            // group, or a repeat_interval reminder); either way the original message shows the current state
            // and the thread tells what happened, so the channel keeps one message per incident
            return updateInPlace(api, prevChannel.get(), prevTs.get(), message, reply.isPresent()
                    ? new ThreadReply(reply.get(), Optional.empty(), false, metadata)
                    : new ThreadReply(message.text(), Optional.of(message.blocksJson()), true, metadata));
        }
        DeliveryOutcome posted = post(api, message, metadata);
        if (posted instanceof DeliveryOutcome.Delivered ok) {
            // the graph goes into the new message's thread once; a failed upload leaves the message delivered
            delivery.notifications().getFirst().live().graph().ifPresent(g -> GraphUpload.share(api, ok.receipt(), g));
        }
        return posted;
    }

    @Override
    public String toString() {
        return webhookUrl.isPresent() ? "SlackChannel[webhook]" : "SlackChannel[" + channel + "]";
    }

    private DeliveryOutcome post(MethodsClient api, BlockKit.SlackMessage message, Optional<String> metadata) {
        Result r = call(() -> api.chatPostMessage(req -> req
                .channel(channel)
                .text(message.text())
                .blocksAsString(message.blocksJson())
                .metadataAsString(metadata.orElse(null))
                .unfurlLinks(false)
                .unfurlMedia(false)));
        if (r.failure().isPresent()) {
            return r.failure().get();
        }
        var response = (com.slack.api.methods.response.chat.ChatPostMessageResponse) r.response().orElseThrow();
        channelId.compareAndSet(null, response.getChannel());
        return new DeliveryOutcome.Delivered(new Receipt(Map.of("channel", response.getChannel(), "ts", response.getTs())));
    }

    /**
     * What goes into the group's thread: the short resolved line, or for a group still firing the whole current
     * message broadcast to the channel too, so a reminder notifies the channel like a new post would, without
     * starting a second message for the same incident.
     */
    private record ThreadReply(String text, Optional<String> blocksJson, boolean broadcast, Optional<String> metadata) {}

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
                return post(api, message, reply.metadata());
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
                .metadataAsString(reply.metadata().orElse(null))
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
            BlockKit.SlackMessage message, boolean broadcast, Optional<String> metadata) {
        Result threaded = postInThread(api, digestChannel, ts,
                new ThreadReply(message.text(), Optional.of(message.blocksJson()), broadcast, metadata));
        if (threaded.failure().isPresent()) {
            if (threaded.error().filter(NO_THREAD::contains).isPresent()) {
                return post(api, message, metadata);
            }
            return threaded.failure().get();
        }
        return new DeliveryOutcome.Delivered(digest);
    }

    /** The metadata naming the stored deliveries a message carries; empty when the delivery has no origin. */
    static Optional<String> metadata(Delivery delivery) {
        return delivery.origin().map(origin -> {
            ObjectNode root = JSON.createObjectNode().put("event_type", METADATA_EVENT);
            ObjectNode payload = root.putObject("event_payload").put("store", origin.store());
            if (origin.deliveries().size() == 1) {
                payload.put("delivery_id", Long.toString(origin.deliveries().getFirst()));
            } else {
                payload.put("delivery_ids", origin.deliveries().stream().map(String::valueOf)
                        .collect(Collectors.joining(",")));
            }
            return root.toString();
        });
    }

    /**
     * Looks for the deliveries' messages: the channel's history from {@link #LOOKUP_MARGIN} before the attempt in
     * doubt began (new messages, digests, replies broadcast to the channel), then, for those still missing whose
     * group has a message of its own, that message's thread (a resolve's reply is not in the channel's history).
     * At most {@link #LOOKUP_MAX_PAGES} pages per conversation: a delivery not found within them is sent again.
     * An incoming webhook keeps nothing to ask: nothing is found and the delivery is sent again.
     */
    @Override
    public SentLookup findSent(SentQuery query) {
        if (methods.isEmpty() || query.deliveries().isEmpty()) {
            return new SentLookup.Found(Map.of());
        }
        MethodsClient api = methods.get();
        String oldest = slackTs(query.since().minus(LOOKUP_MARGIN));
        Lookup lookup;
        switch (resolveChannelId(api)) {
            case Resolved.Failed f -> {
                return f.failure();
            }
            case Resolved.Id id -> lookup = new Lookup(query, id.id());
        }
        Optional<SentLookup.Failed> failed = scan(lookup, Optional.empty(), cursor -> call(() -> api.conversationsHistory(req -> req
                .channel(lookup.channelId)
                .oldest(oldest)
                .limit(LOOKUP_PAGE_SIZE)
                .includeAllMetadata(true)
                .cursor(cursor.orElse(null)))));
        if (failed.isPresent()) {
            return failed.get();
        }
        Map<Receipt, List<Long>> byThread = new LinkedHashMap<>();
        query.deliveries().forEach((id, previous) -> previous
                .filter(r -> !lookup.found.containsKey(id) && r.get("channel").isPresent() && r.get("ts").isPresent())
                .ifPresent(r -> byThread.computeIfAbsent(r, k -> new ArrayList<>()).add(id)));
        for (Receipt thread : byThread.keySet()) {
            String threadChannel = thread.get("channel").orElseThrow();
            String threadTs = thread.get("ts").orElseThrow();
            failed = scan(lookup, Optional.of(thread), cursor -> call(() -> api.conversationsReplies(req -> req
                    .channel(threadChannel)
                    .ts(threadTs)
                    .oldest(oldest)
                    .limit(LOOKUP_PAGE_SIZE)
                    .includeAllMetadata(true)
                    .cursor(cursor.orElse(null)))));
            if (failed.isPresent()) {
                return failed.get();
            }
        }
        return new SentLookup.Found(lookup.found);
    }

    /** One lookup's state: what it looks for, where, and what it has found so far. */
    private static final class Lookup {
        final SentQuery query;
        final String channelId;
        final Map<Long, Receipt> found = new HashMap<>();

        Lookup(SentQuery query, String channelId) {
            this.query = query;
            this.channelId = channelId;
        }

        boolean complete() {
            return found.size() == query.deliveries().size();
        }
    }

    @FunctionalInterface
    private interface PageCall {
        Result fetch(Optional<String> cursor);
    }

    /**
     * Reads one conversation page by page until every delivery is found, the pages end or the bound is reached.
     * A thread that is gone ({@code thread_not_found}) holds nothing: the lookup goes on without it.
     */
    private Optional<SentLookup.Failed> scan(Lookup lookup, Optional<Receipt> thread, PageCall pages) {
        Optional<String> cursor = Optional.empty();
        for (int page = 0; page < LOOKUP_MAX_PAGES && !lookup.complete(); page++) {
            Result r = pages.fetch(cursor);
            if (r.failure().isPresent()) {
                if (thread.isPresent() && r.error().filter(NO_THREAD::contains).isPresent()) {
                    return Optional.empty();
                }
                return Optional.of(asLookupFailure(r.failure().get()));
            }
            List<Message> messages;
            Optional<String> next;
            switch (r.response().orElseThrow()) {
                case com.slack.api.methods.response.conversations.ConversationsHistoryResponse h -> {
                    messages = h.getMessages();
                    next = nextCursor(h.isHasMore(), h.getResponseMetadata());
                }
                case com.slack.api.methods.response.conversations.ConversationsRepliesResponse h -> {
                    messages = h.getMessages();
                    next = nextCursor(h.isHasMore(), h.getResponseMetadata());
                }
                default -> throw new IllegalStateException("not a conversation page");
            }
            for (Message m : messages == null ? List.<Message>of() : messages) {
                match(lookup, m);
            }
            if (next.isEmpty()) {
                return Optional.empty();
            }
            cursor = next;
        }
        return Optional.empty();
    }

    private static Optional<String> nextCursor(boolean hasMore, com.slack.api.model.ResponseMetadata metadata) {
        return Optional.ofNullable(metadata).map(com.slack.api.model.ResponseMetadata::getNextCursor)
                .filter(c -> hasMore && !c.isEmpty());
    }

    /** Records what {@code m} carries of the lookup's deliveries, with the receipt its delivery would have returned. */
    private static void match(Lookup lookup, Message m) {
        Message.Metadata metadata = m.getMetadata();
        if (metadata == null || !METADATA_EVENT.equals(metadata.getEventType()) || metadata.getEventPayload() == null
                || m.getTs() == null) {
            return;
        }
        Map<String, Object> payload = metadata.getEventPayload();
        if (!lookup.query.store().equals(String.valueOf(payload.get("store")))) {
            return;
        }
        List<Long> ids = deliveryIds(payload);
        boolean digest = ids.size() > 1;
        boolean reply = m.getThreadTs() != null && !m.getThreadTs().equals(m.getTs());
        for (long id : ids) {
            Optional<Receipt> previous = lookup.query.deliveries().get(id);
            if (previous == null || lookup.found.containsKey(id)) {
                continue;
            }
            Receipt receipt;
            if (digest) {
                receipt = new Receipt(Map.of("channel", lookup.channelId, "ts", m.getTs())).asDigest();
            } else if (reply) {
                // an update in place or a reply in a digest's thread: the group's message stays the thread's parent
                receipt = previous.orElse(new Receipt(Map.of("channel", lookup.channelId, "ts", m.getThreadTs())));
            } else {
                receipt = new Receipt(Map.of("channel", lookup.channelId, "ts", m.getTs()));
            }
            lookup.found.put(id, receipt);
        }
    }

    private static List<Long> deliveryIds(Map<String, Object> payload) {
        Object single = payload.get("delivery_id");
        Object many = payload.get("delivery_ids");
        String joined = single != null ? String.valueOf(single) : many != null ? String.valueOf(many) : "";
        List<Long> ids = new ArrayList<>();
        for (String part : joined.split(",")) {
            try {
                // Gson reads a JSON number as a double: 42 arrives as "42.0"
                ids.add(new BigDecimal(part.strip()).longValueExact());
            } catch (NumberFormatException | ArithmeticException e) {
                // not one of ours after all
            }
        }
        return ids;
    }

    /** The channel id history needs: configured as one, learnt from a post, or looked up by name. */
    private sealed interface Resolved {
        record Id(String id) implements Resolved {}

        record Failed(SentLookup.Failed failure) implements Resolved {}
    }

    private Resolved resolveChannelId(MethodsClient api) {
        String known = channelId.get();
        if (known != null) {
            return new Resolved.Id(known);
        }
        String name = channel.startsWith("#") ? channel.substring(1) : channel;
        Optional<String> cursor = Optional.empty();
        for (int page = 0; page < 2 * LOOKUP_MAX_PAGES; page++) {
            Optional<String> current = cursor;
            Result r = call(() -> api.conversationsList(req -> req
                    .types(List.of(ConversationType.PUBLIC_CHANNEL, ConversationType.PRIVATE_CHANNEL))
                    .excludeArchived(true)
                    .limit(LOOKUP_PAGE_SIZE)
                    .cursor(current.orElse(null))));
            if (r.failure().isPresent()) {
                return new Resolved.Failed(asLookupFailure(r.failure().get()));
            }
            var list = (com.slack.api.methods.response.conversations.ConversationsListResponse) r.response().orElseThrow();
            for (var c : list.getChannels() == null ? List.<com.slack.api.model.Conversation>of() : list.getChannels()) {
                if (name.equals(c.getName()) && c.getId() != null) {
                    channelId.compareAndSet(null, c.getId());
                    return new Resolved.Id(channelId.get());
                }
            }
            cursor = Optional.ofNullable(list.getResponseMetadata()).map(com.slack.api.model.ResponseMetadata::getNextCursor)
                    .filter(c -> !c.isEmpty());
            if (cursor.isEmpty()) {
                break;
            }
        }
        return new Resolved.Failed(new SentLookup.Failed("slack: channel " + channel + " not found by conversations.list",
                Optional.empty()));
    }

    private static SentLookup.Failed asLookupFailure(DeliveryOutcome failure) {
        return switch (failure) {
            case DeliveryOutcome.RetryLater r -> new SentLookup.Failed(r.reason(), r.retryAfter());
            case DeliveryOutcome.Failed f -> new SentLookup.Failed(f.reason(), Optional.empty());
            case DeliveryOutcome.Delivered d -> throw new IllegalStateException("a failure was expected");
        };
    }

    /** An instant as Slack writes a ts: seconds, six decimals. */
    static String slackTs(Instant at) {
        long micros = Math.max(0, at.getEpochSecond() * 1_000_000 + at.getNano() / 1_000);
        return (micros / 1_000_000) + "." + String.format("%06d", micros % 1_000_000);
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
