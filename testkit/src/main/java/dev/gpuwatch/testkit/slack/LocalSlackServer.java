package dev.gpuwatch.testkit.slack;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.gpuwatch.testkit.http.Failure;
import dev.gpuwatch.testkit.http.LocalServer;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Base64;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local Slack that follows the documented Web API contract for what gpuwatch calls: {@code chat.postMessage}
 * and {@code chat.update} (form-encoded as the Java SDK sends them, or JSON), an incoming webhook, and the reads
 * a receiver reconciles with after a crash: {@code conversations.history} and {@code conversations.replies}
 * (newest first and oldest first, {@code oldest} / {@code latest} / {@code inclusive}, {@code limit}, cursor
 * pagination through {@code response_metadata.next_cursor}, message {@code metadata} only with
 * {@code include_all_metadata}) and {@code conversations.list} (a channel's id by its name). It checks
 * the bearer token ({@code not_authed}, {@code invalid_auth}), the channel ({@code channel_not_found},
 * {@code is_archived}, {@code not_in_channel}) and Block Kit limits ({@code invalid_blocks},
 * {@code msg_too_long}, {@code no_text}); answers HTTP 200 {@code {"ok":true,"channel":"C…","ts":"…",
 * "message":{…}}}; keeps every message, update and thread reply; and can be told to fail: the next N requests
 * 429 with {@code Retry-After}, {@code ok:false} errors, 5xx, or down (connections refused).
 *
 * <p>Files are shared as Slack's external upload documents it (files.upload is retired):
 * {@code files.getUploadURLExternal} ({@code filename}, {@code length}) answers a {@code file_id} and an
 * {@code upload_url} served by this server; the bytes are POSTed there (the body is the file; a body whose size is
 * not the declared {@code length} is refused with 400); {@code files.completeUploadExternal} ({@code files}
 * {@code [{id, title}]}, {@code channel_id}, {@code thread_ts}, {@code initial_comment}) shares them into the
 * channel or thread as one message, {@code file_not_found} for an id it never handed out or whose bytes never
 * arrived, {@code invalid_arguments} for a malformed {@code files}. {@link #files()} keeps every shared file, its
 * bytes included; {@code GET /files/ID} serves them.
 *
 * <p>{@code GET /} lists what it received as text, which is what the demo shows; to a browser ({@code Accept:
 * text/html}) it is a page with a form button for each button of each message. Configured with an app's
 * interactivity request URL and signing secret ({@link #interactivity}), it presses a message's buttons as Slack
 * does: a signed {@code block_actions} payload posted to that URL, through {@link #press} or
 * {@code POST /_sandbox/press} ({@code ts}, {@code action_id}, {@code user}; form or JSON).
 */
public final class LocalSlackServer extends LocalServer {

    /** The token {@link #start(int)} accepts. */
    public static final String DEFAULT_TOKEN = "xoxb-local-sandbox-token";
    /** The channel {@link #start(int)} creates, and the one the incoming webhook posts to. */
    public static final String DEFAULT_CHANNEL = "alerts";
    static final String WEBHOOK_PATH = "/services/T0LOCAL/B0LOCAL/local-webhook-secret";
    static final String UPLOAD_PATH = "/upload/v1/";
    static final String FILES_PATH = "/files/";
    /** Slack's own limit on one file. */
    static final long MAX_FILE_BYTES = 1L << 30;

    /**
     * A message as Slack stores it: current text and blocks (after updates), how many updates it had, its
     * {@code metadata} as posted ({@code {event_type, event_payload}}, empty when none), and whether a thread reply
     * was also broadcast to the channel ({@code reply_broadcast}), which puts it in the channel's history.
     */
    public record Message(String channel, String ts, Optional<String> threadTs, String text, String blocksJson, int updates,
            String via, String metadataJson, boolean broadcast) {

        /** The text of the header and every section and context block, one per line: what a reader sees. */
        public String visibleText() {
            StringBuilder out = new StringBuilder();
            try {
                for (JsonNode block : JSON.readTree(blocksJson.isEmpty() ? "[]" : blocksJson)) {
                    block.path("text").path("text").asText("").lines().forEach(l -> out.append(l).append('\n'));
                    for (JsonNode element : block.path("elements")) {
                        element.path("text").asText("").lines().forEach(l -> out.append(l).append('\n'));
                    }
                }
            } catch (JsonProcessingException e) {
                return text;
            }
            return out.isEmpty() ? text : out.toString();
        }
    }

    private record Chan(String id, String name, boolean archived, boolean member) {}

    private final String token;
    private final Map<String, Chan> channels = new LinkedHashMap<>();
    private final List<Message> messages = new ArrayList<>();
    /** The last ts handed out, in microseconds since the epoch: a message's ts is when it was posted, and unique. */
    private long lastTsMicros;
    private final AtomicLong requests = new AtomicLong();
    /** Files by id: handed an upload URL, then uploaded, then shared; in that order. */
    private final Map<String, Upload> uploads = new LinkedHashMap<>();
    private final List<SharedFile> shared = new ArrayList<>();
    private long fileSequence;
    /** The token's scopes that were taken away ({@link #revokeScope}); calls that need one answer missing_scope. */
    private final java.util.Set<String> revokedScopes = new java.util.HashSet<>();

    private LocalSlackServer(String token) {
        this.token = token;
    }

    /** Starts on {@code port} (0: any free port) with {@link #DEFAULT_TOKEN} and channel {@link #DEFAULT_CHANNEL}. */
    public static LocalSlackServer start(int port) {
        return start(port, DEFAULT_TOKEN);
    }

    public static LocalSlackServer start(int port, String token) {
        LocalSlackServer server = new LocalSlackServer(token);
        server.addChannel(DEFAULT_CHANNEL);
        server.bind(port);
        return server;
    }

    /** The Web API base to give the SDK ({@code api_url}): {@code http://127.0.0.1:PORT/api/}. */
    public String apiUrl() {
        return "http://127.0.0.1:" + port() + "/api/";
    }

    /** The incoming webhook URL; it posts to {@link #DEFAULT_CHANNEL}. */
    public String webhookUrl() {
        return "http://127.0.0.1:" + port() + WEBHOOK_PATH;
    }

    public String token() {
        return token;
    }

    /** Creates a channel the bot is a member of and returns its id ({@code C} + name in upper case). */
    public synchronized String addChannel(String name) {
        String id = "C" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "");
        channels.put(name, new Chan(id, name, false, true));
        return id;
    }

    public synchronized String channelId(String name) {
        return Optional.ofNullable(channels.get(name)).map(Chan::id).orElseThrow();
    }

    /** Archives a channel: posts answer {@code is_archived}. */
    public synchronized void archive(String name) {
        channels.computeIfPresent(name, (k, c) -> new Chan(c.id(), c.name(), true, c.member()));
    }

    /** Removes the bot from a channel: posts answer {@code not_in_channel}. */
    public synchronized void removeBot(String name) {
        channels.computeIfPresent(name, (k, c) -> new Chan(c.id(), c.name(), c.archived(), false));
    }

    /** Every message in arrival order, top-level and thread replies, with updates applied. */
    public synchronized List<Message> messages() {
        return List.copyOf(messages);
    }

    /** The replies in the thread of {@code ts}. */
    public synchronized List<Message> thread(String channel, String ts) {
        return messages.stream().filter(m -> m.channel().equals(channel) && m.threadTs().equals(Optional.of(ts))).toList();
    }

    /**
     * A file shared by {@code files.completeUploadExternal}: where ({@code threadTs} empty at the channel's top
     * level), the ts of the message that shares it, and the bytes as uploaded.
     */
    public record SharedFile(String id, String name, String title, String channel, Optional<String> threadTs,
            String messageTs, byte[] bytes) {}

    /**
     * Takes a scope away from the bot token, as an app installed without it: the files.* calls need
     * {@code files:write} and then answer {@code missing_scope} with {@code needed} / {@code provided}.
     */
    public synchronized void revokeScope(String scope) {
        revokedScopes.add(scope);
    }

    /** Every file shared, in order. */
    public synchronized List<SharedFile> files() {
        return List.copyOf(shared);
    }

    /** The files shared into the thread of {@code ts}. */
    public synchronized List<SharedFile> files(String channel, String ts) {
        return shared.stream().filter(f -> f.channel().equals(channel) && f.threadTs().equals(Optional.of(ts))).toList();
    }

    /** How many HTTP requests reached the server, failed ones included. */
    public long requestCount() {
        return requests.get();
    }

    @Override
    protected void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        if (method.equals("GET") && path.equals("/")) {
            if (Optional.ofNullable(exchange.getRequestHeaders().getFirst("Accept")).orElse("").contains("text/html")) {
                send(exchange, 200, "text/html; charset=utf-8", page());
            } else {
                send(exchange, 200, "text/plain; charset=utf-8", listing());
            }
            return;
        }
        if (method.equals("POST") && path.equals(PRESS_PATH)) {
            pressRequest(exchange);
            return;
        }
        if (method.equals("GET") && path.startsWith(FILES_PATH)) {
            serveFile(exchange, path.substring(FILES_PATH.length()));
            return;
        }
        if (method.equals("POST") && path.startsWith(UPLOAD_PATH)) {
            receiveUpload(exchange, path.substring(UPLOAD_PATH.length()));
            return;
        }
        if (!method.equals("POST") && !(method.equals("GET") && path.startsWith("/api/conversations."))) {
            send(exchange, 405, "text/plain", "method not allowed");
            return;
        }
        String body = body(exchange);
        if (method.equals("GET")) {
            // the Web API's read methods may be called with GET and a query string, as Slack documents
            body = Optional.ofNullable(exchange.getRequestURI().getRawQuery()).orElse("");
        }
        Optional<Failure> failure = nextFailure();
        boolean webhook = path.startsWith("/services/");
        if (failure.isPresent()) {
            fail(exchange, failure.get(), webhook);
            return;
        }
        if (webhook) {
            webhook(exchange, path, body);
            return;
        }
        Map<String, String> params;
        try {
            params = params(exchange, body);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            error(exchange, "invalid_json");
            return;
        }
        switch (path) {
            case "/api/chat.postMessage" -> postMessage(exchange, params);
            case "/api/chat.update" -> update(exchange, params);
            case "/api/conversations.history" -> history(exchange, params);
            case "/api/conversations.replies" -> replies(exchange, params);
            case "/api/conversations.list" -> list(exchange, params);
            case "/api/files.getUploadURLExternal" -> uploadUrl(exchange, params);
            case "/api/files.completeUploadExternal" -> completeUpload(exchange, params);
            default -> send(exchange, 404, "application/json", "{\"ok\":false,\"error\":\"unknown_method\"}");
        }
    }

    private void postMessage(HttpExchange exchange, Map<String, String> p) throws IOException {
        Optional<String> refused = refusal(exchange, p);
        if (refused.isPresent()) {
            error(exchange, refused.get());
            return;
        }
        String text = p.getOrDefault("text", "");
        String blocks = p.getOrDefault("blocks", "");
        ObjectNode response;
        synchronized (this) {
            Optional<Chan> chan = channel(p.getOrDefault("channel", ""));
            if (chan.isEmpty()) {
                error(exchange, "channel_not_found");
                return;
            }
            if (chan.get().archived()) {
                error(exchange, "is_archived");
                return;
            }
            if (!chan.get().member()) {
                error(exchange, "not_in_channel");
                return;
            }
            Optional<String> threadTs = Optional.ofNullable(p.get("thread_ts")).filter(s -> !s.isEmpty());
            if (threadTs.isPresent() && find(chan.get().id(), threadTs.get()) < 0) {
                error(exchange, "thread_not_found");
                return;
            }
            String metadata;
            try {
                metadata = metadata(p.getOrDefault("metadata", ""));
            } catch (IllegalArgumentException e) {
                error(exchange, "invalid_metadata_format");
                return;
            }
            boolean broadcast = threadTs.isPresent() && Boolean.parseBoolean(p.getOrDefault("reply_broadcast", "false"));
            String ts = nextTs();
            Message m = new Message(chan.get().id(), ts, threadTs, text, blocks, 0, "chat.postMessage", metadata, broadcast);
            messages.add(m);
            response = JSON.createObjectNode().put("ok", true).put("channel", m.channel()).put("ts", ts);
            response.set("message", messageJson(m));
        }
        actedOn();
        send(exchange, 200, "application/json; charset=utf-8", response.toString());
    }

    private void update(HttpExchange exchange, Map<String, String> p) throws IOException {
        Optional<String> refused = refusal(exchange, p);
        if (refused.isPresent()) {
            error(exchange, refused.get());
            return;
        }
        String text = p.getOrDefault("text", "");
        String blocks = p.getOrDefault("blocks", "");
        ObjectNode response;
        synchronized (this) {
            String channelId = p.getOrDefault("channel", "");
            // chat.update takes a channel id only, as Slack documents it.
            Optional<Chan> chan = channels.values().stream().filter(c -> c.id().equals(channelId)).findFirst();
            if (chan.isEmpty()) {
                error(exchange, "channel_not_found");
                return;
            }
            int i = find(channelId, p.getOrDefault("ts", ""));
            if (i < 0) {
                error(exchange, "message_not_found");
                return;
            }
            Message old = messages.get(i);
            Message updated = new Message(old.channel(), old.ts(), old.threadTs(), text, blocks, old.updates() + 1, old.via(),
                    old.metadataJson(), old.broadcast());
            messages.set(i, updated);
            response = JSON.createObjectNode().put("ok", true).put("channel", updated.channel())
                    .put("ts", updated.ts()).put("text", text);
            response.set("message", messageJson(updated));
        }
        actedOn();
        send(exchange, 200, "application/json; charset=utf-8", response.toString());
    }

    /** Incoming webhooks answer plain text: {@code ok}, or an error code with a 4xx status. */
    private void webhook(HttpExchange exchange, String path, String body) throws IOException {
        if (!path.equals(WEBHOOK_PATH)) {
            send(exchange, 404, "text/plain", "no_service");
            return;
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            send(exchange, 400, "text/plain", "invalid_payload");
            return;
        }
        if (json == null || !json.isObject()) {
            send(exchange, 400, "text/plain", "invalid_payload");
            return;
        }
        String text = json.path("text").asText("");
        String blocks = json.has("blocks") ? json.get("blocks").toString() : "";
        Optional<String> invalid = validate(text, blocks);
        if (invalid.isPresent()) {
            send(exchange, 400, "text/plain", invalid.get());
            return;
        }
        synchronized (this) {
            messages.add(new Message(channelId(DEFAULT_CHANNEL), nextTs(), Optional.empty(), text, blocks, 0, "webhook", "", false));
        }
        actedOn();
        send(exchange, 200, "text/html", "ok");
    }

    private void fail(HttpExchange exchange, Failure failure, boolean webhook) throws IOException {
        switch (failure) {
            case Failure.RateLimited r -> {
                exchange.getResponseHeaders().set("Retry-After", Integer.toString(r.retryAfterSeconds()));
                if (webhook) {
                    send(exchange, 429, "text/plain", "rate_limited");
                } else {
                    send(exchange, 429, "application/json", "{\"ok\":false,\"error\":\"ratelimited\"}");
                }
            }
            case Failure.SlackError e -> {
                if (webhook) {
                    int status = switch (e.error()) {
                        case "no_service", "channel_not_found" -> 404;
                        case "invalid_token", "action_prohibited", "channel_is_archived" -> 403;
                        default -> 400;
                    };
                    send(exchange, status, "text/plain", e.error());
                } else {
                    error(exchange, e.error());
                }
            }
            case Failure.ServerError s -> send(exchange, s.status(), "text/html", "<html><body>" + s.status() + " Server Error</body></html>");
        }
    }

    /** Why chat.postMessage or chat.update refuses the call before looking at the channel: token, then content. */
    private Optional<String> refusal(HttpExchange exchange, Map<String, String> p) {
        return auth(exchange, p).or(() -> validate(p.getOrDefault("text", ""), p.getOrDefault("blocks", "")));
    }

    private Optional<String> auth(HttpExchange exchange, Map<String, String> p) {
        String header = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")).orElse("");
        String presented = header.startsWith("Bearer ") ? header.substring("Bearer ".length()).strip() : p.getOrDefault("token", "");
        if (presented.isEmpty()) {
            return Optional.of("not_authed");
        }
        return presented.equals(token) ? Optional.empty() : Optional.of("invalid_auth");
    }

    /** Block Kit limits as Slack enforces them. */
    private static Optional<String> validate(String text, String blocks) {
        if (text.length() > 40_000) {
            return Optional.of("msg_too_long");
        }
        if (blocks.isEmpty()) {
            return text.isBlank() ? Optional.of("no_text") : Optional.empty();
        }
        JsonNode array;
        try {
            array = JSON.readTree(blocks);
        } catch (JsonProcessingException e) {
            return Optional.of("invalid_blocks");
        }
        if (array == null || !array.isArray() || array.size() > 50) {
            return Optional.of("invalid_blocks");
        }
        for (JsonNode block : array) {
            String type = block.path("type").asText("");
            String blockText = block.path("text").path("text").asText("");
            switch (type) {
                case "header" -> {
                    if (blockText.isEmpty() || blockText.length() > 150 || !block.path("text").path("type").asText().equals("plain_text")) {
                        return Optional.of("invalid_blocks");
                    }
                }
                case "section" -> {
                    if (blockText.isEmpty() || blockText.length() > 3000) {
                        return Optional.of("invalid_blocks");
                    }
                }
                case "context" -> {
                    if (block.path("elements").isEmpty() || block.path("elements").size() > 10) {
                        return Optional.of("invalid_blocks");
                    }
                    for (JsonNode e : block.path("elements")) {
                        if (e.path("text").asText("").length() > 3000) {
                            return Optional.of("invalid_blocks");
                        }
                    }
                }
                case "divider", "actions", "image", "rich_text" -> { }
                default -> {
                    return Optional.of("invalid_blocks");
                }
            }
        }
        return Optional.empty();
    }

    private Optional<Chan> channel(String nameOrId) {
        String key = nameOrId.startsWith("#") ? nameOrId.substring(1) : nameOrId;
        return channels.values().stream().filter(c -> c.id().equals(key) || c.name().equals(key)).findFirst();
    }

    /**
     * The channel of a call that takes a channel id (and maybe a thread in it), as Slack checks it:
     * {@code channel_not_found}, {@code not_in_channel}, {@code thread_not_found}; empty once that error is answered.
     * The caller holds this server's lock.
     */
    private Optional<Chan> readableChannel(HttpExchange exchange, String channelId, Optional<String> threadTs)
            throws IOException {
        Optional<Chan> chan = channels.values().stream().filter(c -> c.id().equals(channelId)).findFirst();
        if (chan.isEmpty()) {
            error(exchange, "channel_not_found");
        } else if (!chan.get().member()) {
            error(exchange, "not_in_channel");
            return Optional.empty();
        } else if (threadTs.isPresent() && find(channelId, threadTs.get()) < 0) {
            error(exchange, "thread_not_found");
            return Optional.empty();
        }
        return chan;
    }

    private int find(String channelId, String ts) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).channel().equals(channelId) && messages.get(i).ts().equals(ts)) {
                return i;
            }
        }
        return -1;
    }

    /** Now as Slack writes a ts ({@code seconds.micros}), later than every ts before it. Under the lock. */
    private String nextTs() {
        Instant now = Instant.now();
        long micros = Math.max(now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000, lastTsMicros + 1);
        lastTsMicros = micros;
        return (micros / 1_000_000) + "." + String.format("%06d", micros % 1_000_000);
    }

    /** A ts or an {@code oldest} / {@code latest} bound in microseconds; Slack accepts whole seconds too. */
    private static long tsMicros(String ts) {
        java.math.BigDecimal seconds = new java.math.BigDecimal(ts.strip());
        return seconds.movePointRight(6).setScale(0, java.math.RoundingMode.DOWN).longValueExact();
    }

    /**
     * chat.postMessage's {@code metadata}: a JSON object (a string of it in a form) with a string
     * {@code event_type} and an object {@code event_payload}, as Slack documents it; kept as posted.
     */
    private static String metadata(String raw) {
        if (raw.isBlank()) {
            return "";
        }
        JsonNode node;
        try {
            node = JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON");
        }
        if (node == null || !node.isObject() || !node.path("event_type").isTextual()
                || node.path("event_type").asText().isEmpty() || !node.path("event_payload").isObject()) {
            throw new IllegalArgumentException("not {event_type, event_payload}");
        }
        return node.toString();
    }

    /**
     * conversations.history: the channel's messages (top-level ones and thread replies broadcast to it), newest
     * first, between {@code oldest} and {@code latest} (exclusive unless {@code inclusive}), at most {@code limit}
     * (default 100, at most 999) per page, the next page through {@code cursor}.
     */
    private void history(HttpExchange exchange, Map<String, String> p) throws IOException {
        page(exchange, p, Optional.empty());
    }

    /** conversations.replies: the thread of {@code ts}, its parent first, then the replies oldest first. */
    private void replies(HttpExchange exchange, Map<String, String> p) throws IOException {
        String ts = p.getOrDefault("ts", "");
        if (ts.isEmpty()) {
            error(exchange, "invalid_arguments");
            return;
        }
        page(exchange, p, Optional.of(ts));
    }

    private void page(HttpExchange exchange, Map<String, String> p, Optional<String> thread) throws IOException {
        Optional<String> refused = auth(exchange, p);
        if (refused.isPresent()) {
            error(exchange, refused.get());
            return;
        }
        long oldest;
        long latest;
        int limit;
        try {
            oldest = p.containsKey("oldest") && !p.get("oldest").isEmpty() ? tsMicros(p.get("oldest")) : 0;
            latest = p.containsKey("latest") && !p.get("latest").isEmpty() ? tsMicros(p.get("latest")) : Long.MAX_VALUE;
            limit = p.containsKey("limit") && !p.get("limit").isEmpty() ? Integer.parseInt(p.get("limit").strip()) : 100;
        } catch (NumberFormatException | ArithmeticException e) {
            error(exchange, "invalid_arguments");
            return;
        }
        limit = limit <= 0 ? 100 : Math.min(limit, 999);
        boolean inclusive = truthy(p.get("inclusive"));
        boolean withMetadata = truthy(p.get("include_all_metadata"));
        String cursor = p.getOrDefault("cursor", "");
        ObjectNode response;
        synchronized (this) {
            // history and replies take a channel id only, as Slack documents them
            String channelId = p.getOrDefault("channel", "");
            Optional<Chan> chan = readableChannel(exchange, channelId, thread);
            if (chan.isEmpty()) {
                return;
            }
            List<Message> selected = new ArrayList<>();
            for (Message m : messages) {
                if (!m.channel().equals(channelId)) {
                    continue;
                }
                boolean in = thread.isPresent()
                        ? m.ts().equals(thread.get()) || m.threadTs().equals(thread)
                        : m.threadTs().isEmpty() || m.broadcast();
                long at = tsMicros(m.ts());
                boolean inWindow = inclusive ? at >= oldest && at <= latest : at > oldest && at < latest;
                if (in && (inWindow || thread.map(m.ts()::equals).orElse(false))) {
                    selected.add(m);
                }
            }
            Comparator<Message> order = Comparator.comparingLong(m -> tsMicros(m.ts()));
            if (thread.isPresent()) {
                // the parent first, then its replies oldest first
                selected.sort(Comparator.<Message, Boolean>comparing(m -> !m.ts().equals(thread.get())).thenComparing(order));
            } else {
                selected.sort(order.reversed());
            }
            int from = 0;
            if (!cursor.isEmpty()) {
                Optional<Integer> at = cursorPosition(cursor, selected);
                if (at.isEmpty()) {
                    error(exchange, "invalid_cursor");
                    return;
                }
                from = at.get();
            }
            int to = Math.min(selected.size(), from + limit);
            ArrayNode out = JSON.createArrayNode();
            for (Message m : selected.subList(from, to)) {
                ObjectNode node = messageJson(m);
                if (withMetadata && !m.metadataJson().isEmpty()) {
                    node.set("metadata", JSON.readTree(m.metadataJson()));
                }
                out.add(node);
            }
            boolean more = to < selected.size();
            response = JSON.createObjectNode().put("ok", true);
            response.set("messages", out);
            response.put("has_more", more);
            if (thread.isEmpty()) {
                response.put("pin_count", 0);
            }
            response.putObject("response_metadata").put("next_cursor", more ? cursorFor(selected.get(to)) : "");
        }
        send(exchange, 200, "application/json; charset=utf-8", response.toString());
    }

    /** conversations.list: the channels with their ids, {@code exclude_archived} honoured, cursor pagination. */
    private void list(HttpExchange exchange, Map<String, String> p) throws IOException {
        Optional<String> refused = auth(exchange, p);
        if (refused.isPresent()) {
            error(exchange, refused.get());
            return;
        }
        int limit;
        int from;
        try {
            limit = p.containsKey("limit") && !p.get("limit").isEmpty() ? Integer.parseInt(p.get("limit").strip()) : 100;
            String cursor = p.getOrDefault("cursor", "");
            from = cursor.isEmpty() ? 0 : Integer.parseInt(new String(Base64.getDecoder().decode(cursor),
                    StandardCharsets.UTF_8).substring("offset:".length()));
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            error(exchange, "invalid_cursor");
            return;
        }
        limit = limit <= 0 ? 100 : Math.min(limit, 1000);
        boolean excludeArchived = truthy(p.get("exclude_archived"));
        ObjectNode response = JSON.createObjectNode().put("ok", true);
        synchronized (this) {
            List<Chan> listed = channels.values().stream().filter(c -> !(excludeArchived && c.archived())).toList();
            ArrayNode out = response.putArray("channels");
            int to = Math.min(listed.size(), Math.max(0, from) + limit);
            for (Chan c : listed.subList(Math.min(Math.max(0, from), listed.size()), to)) {
                out.addObject().put("id", c.id()).put("name", c.name()).put("is_channel", true)
                        .put("is_archived", c.archived()).put("is_member", c.member());
            }
            response.putObject("response_metadata").put("next_cursor", to < listed.size()
                    ? Base64.getEncoder().encodeToString(("offset:" + to).getBytes(StandardCharsets.UTF_8)) : "");
        }
        send(exchange, 200, "application/json; charset=utf-8", response.toString());
    }

    /** A file between files.getUploadURLExternal and its sharing; {@code bytes} empty until uploaded. */
    private record Upload(String id, String name, int length, Optional<byte[]> bytes) {}

    /** files.getUploadURLExternal: a file id and the URL to POST its {@code length} bytes to. */
    private void uploadUrl(HttpExchange exchange, Map<String, String> p) throws IOException {
        Optional<String> refused = auth(exchange, p);
        if (refused.isPresent()) {
            error(exchange, refused.get());
            return;
        }
        if (missingScope(exchange, "files:write")) {
            return;
        }
        String name = p.getOrDefault("filename", "").strip();
        long length;
        try {
            length = Long.parseLong(p.getOrDefault("length", "").strip());
        } catch (NumberFormatException e) {
            error(exchange, "invalid_arguments");
            return;
        }
        if (name.isEmpty() || length <= 0 || length > MAX_FILE_BYTES) {
            error(exchange, "invalid_arguments");
            return;
        }
        String id;
        synchronized (this) {
            id = "F0LOCAL" + (++fileSequence);
            uploads.put(id, new Upload(id, name, (int) length, Optional.empty()));
        }
        send(exchange, 200, "application/json; charset=utf-8", JSON.createObjectNode().put("ok", true)
                .put("upload_url", "http://127.0.0.1:" + port() + UPLOAD_PATH + id).put("file_id", id).toString());
    }

    /** The upload URL: the body is the file, exactly as long as declared. */
    private void receiveUpload(HttpExchange exchange, String id) throws IOException {
        byte[] bytes;
        try (var in = exchange.getRequestBody()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_FILE_BYTES + 1));
        }
        synchronized (this) {
            Upload u = uploads.get(id);
            if (u == null || u.bytes().isPresent()) {
                send(exchange, 404, "text/plain", "not found");
                return;
            }
            if (bytes.length != u.length()) {
                send(exchange, 400, "text/plain", "length mismatch: declared " + u.length() + ", got " + bytes.length);
                return;
            }
            uploads.put(id, new Upload(u.id(), u.name(), u.length(), Optional.of(bytes)));
        }
        send(exchange, 200, "text/plain", "OK - " + bytes.length);
    }

    /** files.completeUploadExternal: shares the uploaded files into the channel, or the thread of {@code thread_ts}. */
    private void completeUpload(HttpExchange exchange, Map<String, String> p) throws IOException {
        Optional<String> refused = auth(exchange, p);
        if (refused.isPresent()) {
            error(exchange, refused.get());
            return;
        }
        if (missingScope(exchange, "files:write")) {
            return;
        }
        JsonNode files;
        try {
            files = JSON.readTree(p.getOrDefault("files", ""));
        } catch (JsonProcessingException e) {
            error(exchange, "invalid_arguments");
            return;
        }
        if (files == null || !files.isArray() || files.isEmpty()) {
            error(exchange, "invalid_arguments");
            return;
        }
        ObjectNode response = JSON.createObjectNode().put("ok", true);
        synchronized (this) {
            List<Upload> complete = new ArrayList<>();
            for (JsonNode f : files) {
                Upload u = uploads.get(f.path("id").asText(""));
                if (u == null || u.bytes().isEmpty()) {
                    error(exchange, "file_not_found");
                    return;
                }
                complete.add(u);
            }
            String channelId = p.getOrDefault("channel_id", "");
            Optional<String> threadTs = Optional.ofNullable(p.get("thread_ts")).filter(t -> !t.isEmpty());
            Optional<Chan> chan = Optional.empty();
            if (!channelId.isEmpty()) {
                chan = readableChannel(exchange, channelId, threadTs);
                if (chan.isEmpty()) {
                    return;
                }
            } else if (threadTs.isPresent()) {
                error(exchange, "invalid_arguments");  // a thread needs its channel
                return;
            }
            ArrayNode out = response.putArray("files");
            String ts = chan.isPresent() ? nextTs() : "";
            List<String> titles = new ArrayList<>();
            for (int i = 0; i < complete.size(); i++) {
                Upload u = complete.get(i);
                String title = files.get(i).path("title").asText(u.name());
                // the listing at GET / shows where to open it, which is how the demo shows a graph
                titles.add(title + " <http://127.0.0.1:" + port() + FILES_PATH + u.id() + ">");
                uploads.remove(u.id());
                if (chan.isPresent()) {
                    shared.add(new SharedFile(u.id(), u.name(), title, chan.get().id(), threadTs, ts, u.bytes().get()));
                }
                out.addObject().put("id", u.id()).put("name", u.name()).put("title", title).put("size", u.length())
                        .put("permalink", "http://127.0.0.1:" + port() + FILES_PATH + u.id());
            }
            if (chan.isPresent()) {
                String comment = p.getOrDefault("initial_comment", "");
                messages.add(new Message(chan.get().id(), ts, threadTs,
                        (comment.isEmpty() ? "" : comment + " ") + "[file: " + String.join(", ", titles) + "]", "", 0,
                        "files.completeUploadExternal", "", false));
            }
        }
        actedOn();
        send(exchange, 200, "application/json; charset=utf-8", response.toString());
    }

    /** Answers {@code missing_scope} as Slack does, when {@code scope} was revoked. */
    private boolean missingScope(HttpExchange exchange, String scope) throws IOException {
        synchronized (this) {
            if (!revokedScopes.contains(scope)) {
                return false;
            }
        }
        send(exchange, 200, "application/json; charset=utf-8", JSON.createObjectNode().put("ok", false)
                .put("error", "missing_scope").put("needed", scope).put("provided", "chat:write,channels:history")
                .toString());
        return true;
    }

    private void serveFile(HttpExchange exchange, String id) throws IOException {
        Optional<SharedFile> file;
        synchronized (this) {
            file = shared.stream().filter(f -> f.id().equals(id)).findFirst();
        }
        if (file.isEmpty()) {
            send(exchange, 404, "text/plain", "file_not_found");
            return;
        }
        byte[] bytes = file.get().bytes();
        String type = file.get().name().endsWith(".png") ? "image/png" : "application/octet-stream";
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(200, bytes.length);
        try (var out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static boolean truthy(String value) {
        return value != null && (value.equals("true") || value.equals("1"));
    }

    /** Slack's cursors are opaque; this one names the ts of the first message of the next page. */
    private static String cursorFor(Message next) {
        return Base64.getEncoder().encodeToString(("next_ts:" + next.ts()).getBytes(StandardCharsets.UTF_8));
    }

    private static Optional<Integer> cursorPosition(String cursor, List<Message> selected) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (!decoded.startsWith("next_ts:")) {
            return Optional.empty();
        }
        String ts = decoded.substring("next_ts:".length());
        for (int i = 0; i < selected.size(); i++) {
            if (selected.get(i).ts().equals(ts)) {
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }

    private static ObjectNode messageJson(Message m) {
        ObjectNode node = JSON.createObjectNode().put("type", "message").put("subtype", "bot_message")
                .put("text", m.text()).put("ts", m.ts()).put("bot_id", "B0LOCAL");
        m.threadTs().ifPresent(t -> node.put("thread_ts", t));
        if (m.broadcast()) {
            node.put("subtype", "thread_broadcast");
        }
        try {
            node.set("blocks", m.blocksJson().isEmpty() ? JSON.createArrayNode() : (ArrayNode) JSON.readTree(m.blocksJson()));
        } catch (JsonProcessingException | ClassCastException e) {
            node.set("blocks", JSON.createArrayNode());
        }
        return node;
    }

    private static void error(HttpExchange exchange, String error) throws IOException {
        send(exchange, 200, "application/json; charset=utf-8",
                JSON.createObjectNode().put("ok", false).put("error", error).toString());
    }

    /** Form fields (as the SDK posts them) or a JSON object's top-level fields, arrays kept as JSON text. */
    private static Map<String, String> params(HttpExchange exchange, String body) throws JsonProcessingException {
        String type = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Content-Type")).orElse("");
        Map<String, String> params = new LinkedHashMap<>();
        if (type.startsWith("application/json")) {
            JsonNode json = JSON.readTree(body);
            if (json == null || !json.isObject()) {
                throw new IllegalArgumentException("not an object");
            }
            json.properties().forEach(e -> params.put(e.getKey(),
                    e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
            return params;
        }
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.put(k, v);
        }
        return params;
    }

    // ---- the buttons: interactivity as a Slack app's ----

    static final String PRESS_PATH = "/_sandbox/press";

    /** How a press is signed: as Slack does, with another secret, or not at all. */
    public enum Signing { VALID, WRONG, MISSING }

    /** What the app's request URL answered to a press. */
    public record PressResult(int status, String body) {}

    private volatile Optional<String> interactivityUrl = Optional.empty();
    private volatile Optional<String> signingSecret = Optional.empty();
    private final java.net.http.HttpClient pressClient = java.net.http.HttpClient.newBuilder()
            .connectTimeout(java.time.Duration.ofSeconds(5)).build();

    /** The app's interactivity request URL (where presses go) and its signing secret (what they are signed with). */
    public void interactivity(String requestUrl, String secret) {
        interactivityUrl = Optional.of(requestUrl);
        signingSecret = Optional.of(secret);
    }

    /** Presses the button {@code actionId} of the message {@code ts} as {@code user}, signed as Slack signs. */
    public PressResult press(String ts, String actionId, String user) {
        return press(ts, actionId, user, Signing.VALID, java.time.Duration.ZERO);
    }

    /**
     * Presses a button, the request signed as {@code signing} says, with a timestamp {@code age} in the past.
     *
     * @throws IllegalStateException when no interactivity is configured, or the message or button does not exist
     */
    public PressResult press(String ts, String actionId, String user, Signing signing, java.time.Duration age) {
        String url = interactivityUrl.orElseThrow(() -> new IllegalStateException("no interactivity request URL"));
        String secret = signingSecret.orElseThrow();
        String body = "payload=" + java.net.URLEncoder.encode(pressPayload(ts, actionId, user), StandardCharsets.UTF_8);
        String timestamp = Long.toString(Instant.now().minus(age).getEpochSecond());
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .timeout(java.time.Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
        if (signing != Signing.MISSING) {
            String key = signing == Signing.VALID ? secret : secret + "-wrong";
            request.header("X-Slack-Request-Timestamp", timestamp)
                    .header("X-Slack-Signature", sign(key, timestamp, body));
        }
        try {
            var response = pressClient.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return new PressResult(response.statusCode(), response.body());
        } catch (IOException e) {
            return new PressResult(0, e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new PressResult(0, "interrupted");
        }
    }

    /** {@code v0=} HMAC-SHA256 of {@code v0:<timestamp>:<body>} under {@code secret}, as Slack signs. */
    static String sign(String secret, String timestamp, String body) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "v0=" + java.util.HexFormat.of().formatHex(
                    mac.doFinal(("v0:" + timestamp + ":" + body).getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }

    /** The {@code block_actions} payload Slack sends for a press of the button {@code actionId} of message {@code ts}. */
    private synchronized String pressPayload(String ts, String actionId, String user) {
        Message m = messages.stream().filter(x -> x.ts().equals(ts)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no message " + ts));
        JsonNode button = buttons(m).stream().filter(b -> b.path("action_id").asText().equals(actionId)).findFirst()
                .orElseThrow(() -> new IllegalStateException("message " + ts + " has no button " + actionId));
        String userId = "U" + user.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "");
        ObjectNode payload = JSON.createObjectNode().put("type", "block_actions");
        payload.putObject("user").put("id", userId).put("username", user).put("name", user).put("team_id", "T0LOCAL");
        payload.put("api_app_id", "A0LOCAL").put("token", "local-verification-token")
                .put("trigger_id", requests.get() + ".local");
        payload.putObject("container").put("type", "message").put("message_ts", m.ts()).put("channel_id", m.channel())
                .put("is_ephemeral", false);
        payload.putObject("team").put("id", "T0LOCAL").put("domain", "local");
        payload.putObject("channel").put("id", m.channel()).put("name", channelName(m.channel()));
        payload.set("message", messageJson(m));
        payload.put("response_url", "http://127.0.0.1:" + port() + "/_sandbox/response");
        ObjectNode action = payload.putArray("actions").addObject();
        action.put("type", "button").put("action_id", actionId).put("block_id", button.path("block_id").asText(""))
                .put("value", button.path("value").asText("")).put("action_ts", nextTs());
        action.set("text", button.path("text"));
        return payload.toString();
    }

    /** The buttons of a message's actions blocks, each with its block's id. */
    private static List<JsonNode> buttons(Message m) {
        List<JsonNode> found = new ArrayList<>();
        try {
            for (JsonNode block : JSON.readTree(m.blocksJson().isEmpty() ? "[]" : m.blocksJson())) {
                if (block.path("type").asText().equals("actions")) {
                    for (JsonNode e : block.path("elements")) {
                        if (e.path("type").asText().equals("button")) {
                            ObjectNode b = ((ObjectNode) e).deepCopy();
                            b.put("block_id", block.path("block_id").asText(""));
                            found.add(b);
                        }
                    }
                }
            }
        } catch (JsonProcessingException e) {
            return List.of();
        }
        return found;
    }

    /**
     * {@code POST /_sandbox/press}: {@code ts}, {@code action_id}, {@code user} (default {@code sandbox-user}),
     * optionally {@code signing} ({@code valid}, {@code wrong}, {@code missing}) and {@code age_seconds}. Answers
     * JSON {@code {"status": ..., "body": ...}} with what the app answered; a browser's form goes back to the page.
     */
    private void pressRequest(HttpExchange exchange) throws IOException {
        Map<String, String> p;
        try {
            p = params(exchange, body(exchange));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            send(exchange, 400, "text/plain", "not a form or JSON object");
            return;
        }
        PressResult result;
        try {
            result = press(p.getOrDefault("ts", ""), p.getOrDefault("action_id", ""),
                    p.getOrDefault("user", "sandbox-user"),
                    Signing.valueOf(p.getOrDefault("signing", "valid").toUpperCase(Locale.ROOT)),
                    java.time.Duration.ofSeconds(Long.parseLong(p.getOrDefault("age_seconds", "0"))));
        } catch (IllegalStateException | IllegalArgumentException e) {
            send(exchange, 400, "text/plain; charset=utf-8", String.valueOf(e.getMessage()));
            return;
        }
        if (Optional.ofNullable(exchange.getRequestHeaders().getFirst("Accept")).orElse("").contains("text/html")) {
            exchange.getResponseHeaders().set("Location", "/?pressed=" + result.status());
            send(exchange, 303, "text/plain", "pressed");
            return;
        }
        send(exchange, 200, "application/json; charset=utf-8",
                JSON.createObjectNode().put("status", result.status()).put("body", result.body()).toString());
    }

    /** The listing for a browser: each message, its thread, and a form button for each of its buttons. */
    private synchronized String page() {
        StringBuilder out = new StringBuilder("<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<title>Local Slack</title>\n")
                .append("<style>body{font-family:sans-serif;max-width:60em;margin:1em auto}")
                .append(".m{border:1px solid #ccc;border-radius:6px;padding:.5em 1em;margin:1em 0}")
                .append("pre{white-space:pre-wrap}.r{color:#555;margin-left:1em}form{display:inline}</style>\n")
                .append("<h1>Local Slack</h1>\n<p>").append(messages.size()).append(" messages")
                .append(interactivityUrl.map(u -> "; buttons press " + escapeHtml(u)).orElse("; buttons not connected"))
                .append("</p>\n");
        for (Message m : messages) {
            if (m.threadTs().isPresent()) {
                continue;
            }
            out.append("<div class=\"m\" id=\"m").append(escapeHtml(m.ts())).append("\"><p>#")
                    .append(escapeHtml(channelName(m.channel()))).append(" ts=").append(escapeHtml(m.ts()))
                    .append(m.updates() > 0 ? " (updated " + m.updates() + "x)" : "").append("</p>\n<pre>")
                    .append(escapeHtml(m.visibleText())).append("</pre>\n");
            for (JsonNode b : buttons(m)) {
                out.append("<form method=\"post\" action=\"").append(PRESS_PATH).append("\">")
                        .append("<input type=\"hidden\" name=\"ts\" value=\"").append(escapeHtml(m.ts())).append("\">")
                        .append("<input type=\"hidden\" name=\"action_id\" value=\"")
                        .append(escapeHtml(b.path("action_id").asText())).append("\">")
                        .append("<input type=\"hidden\" name=\"user\" value=\"sandbox-user\">")
                        .append("<button type=\"submit\">").append(escapeHtml(b.path("text").path("text").asText()))
                        .append("</button></form>\n");
            }
            for (Message r : thread(m.channel(), m.ts())) {
                out.append("<p class=\"r\">↳ ").append(escapeHtml(r.text())).append("</p>\n");
            }
            out.append("</div>\n");
        }
        return out.toString();
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private synchronized String listing() {
        StringBuilder out = new StringBuilder("Local Slack: ").append(messages.size()).append(" messages\n");
        for (Message m : messages) {
            if (m.threadTs().isPresent()) {
                continue;
            }
            out.append("\n#").append(channelName(m.channel())).append(" ts=").append(m.ts()).append(" via ").append(m.via());
            if (m.updates() > 0) {
                out.append(" (updated ").append(m.updates()).append("x)");
            }
            out.append('\n');
            m.visibleText().lines().forEach(l -> out.append("  ").append(l).append('\n'));
            for (Message r : thread(m.channel(), m.ts())) {
                out.append("  ↳ ").append(r.text()).append('\n');
            }
        }
        return out.toString();
    }

    private String channelName(String id) {
        return channels.values().stream().filter(c -> c.id().equals(id)).map(Chan::name).findFirst().orElse(id);
    }
}
