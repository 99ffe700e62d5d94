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
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local Slack that follows the documented Web API contract for what gpuwatch calls: {@code chat.postMessage}
 * and {@code chat.update} (form-encoded as the Java SDK sends them, or JSON), and an incoming webhook. It checks
 * the bearer token ({@code not_authed}, {@code invalid_auth}), the channel ({@code channel_not_found},
 * {@code is_archived}, {@code not_in_channel}) and Block Kit limits ({@code invalid_blocks},
 * {@code msg_too_long}, {@code no_text}); answers HTTP 200 {@code {"ok":true,"channel":"C…","ts":"…",
 * "message":{…}}}; keeps every message, update and thread reply; and can be told to fail: the next N requests
 * 429 with {@code Retry-After}, {@code ok:false} errors, 5xx, or down (connections refused).
 *
 * <p>{@code GET /} lists what it received as text, which is what the demo shows.
 */
public final class LocalSlackServer extends LocalServer {

    /** The token {@link #start(int)} accepts. */
    public static final String DEFAULT_TOKEN = "xoxb-local-sandbox-token";
    /** The channel {@link #start(int)} creates, and the one the incoming webhook posts to. */
    public static final String DEFAULT_CHANNEL = "alerts";
    static final String WEBHOOK_PATH = "/services/T0LOCAL/B0LOCAL/local-webhook-secret";

    /** A message as Slack stores it: current text and blocks (after updates), how many updates it had. */
    public record Message(String channel, String ts, Optional<String> threadTs, String text, String blocksJson, int updates, String via) {

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
    private final AtomicLong sequence = new AtomicLong();
    private final long epochSecond = Instant.now().getEpochSecond();
    private final AtomicLong requests = new AtomicLong();

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
            send(exchange, 200, "text/plain; charset=utf-8", listing());
            return;
        }
        if (!method.equals("POST")) {
            send(exchange, 405, "text/plain", "method not allowed");
            return;
        }
        String body = body(exchange);
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
            String ts = nextTs();
            Message m = new Message(chan.get().id(), ts, threadTs, text, blocks, 0, "chat.postMessage");
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
            Message updated = new Message(old.channel(), old.ts(), old.threadTs(), text, blocks, old.updates() + 1, old.via());
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
            messages.add(new Message(channelId(DEFAULT_CHANNEL), nextTs(), Optional.empty(), text, blocks, 0, "webhook"));
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

    private int find(String channelId, String ts) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).channel().equals(channelId) && messages.get(i).ts().equals(ts)) {
                return i;
            }
        }
        return -1;
    }

    private String nextTs() {
        long n = sequence.incrementAndGet();
        return (epochSecond + n / 1_000_000) + "." + String.format("%06d", n % 1_000_000);
    }

    private static ObjectNode messageJson(Message m) {
        ObjectNode node = JSON.createObjectNode().put("type", "message").put("subtype", "bot_message")
                .put("text", m.text()).put("ts", m.ts()).put("bot_id", "B0LOCAL");
        m.threadTs().ifPresent(t -> node.put("thread_ts", t));
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
