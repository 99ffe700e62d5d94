package dev.gpuwatch.receiver.interact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What the receiver reads of a Slack {@code block_actions} interaction: who pressed which button of which message.
 * Slack posts it form-encoded, as the one field {@code payload} holding the JSON.
 *
 * @param blocks the message's blocks as Slack holds them now, so an update keeps the rest of the message
 */
record InteractionPayload(String userId, String userName, String channelId, String messageTs, String actionId,
        String value, String text, ArrayNode blocks) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The payload of a form body, or why it is not a button press this receiver understands. */
    static Parsed parse(byte[] formBody) {
        String json = null;
        for (String field : new String(formBody, StandardCharsets.UTF_8).split("&")) {
            int eq = field.indexOf('=');
            if (eq > 0 && field.substring(0, eq).equals("payload")) {
                try {
                    json = URLDecoder.decode(field.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return new Parsed.Invalid("payload is not form-encoded");
                }
            }
        }
        if (json == null) {
            return new Parsed.Invalid("no payload field");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            return new Parsed.Invalid("payload is not JSON");
        }
        if (root == null || !"block_actions".equals(root.path("type").asText())) {
            return new Parsed.Invalid("not a block_actions interaction");
        }
        JsonNode action = root.path("actions").path(0);
        String channel = text(root.path("channel").path("id")).or(() -> text(root.path("container").path("channel_id")))
                .orElse("");
        String ts = text(root.path("container").path("message_ts")).or(() -> text(root.path("message").path("ts")))
                .orElse("");
        String userId = root.path("user").path("id").asText("");
        if (action.isMissingNode() || channel.isEmpty() || ts.isEmpty() || userId.isEmpty()) {
            return new Parsed.Invalid("no action, channel, message or user");
        }
        String userName = text(root.path("user").path("username")).or(() -> text(root.path("user").path("name")))
                .orElse(userId);
        JsonNode blocks = root.path("message").path("blocks");
        return new Parsed.Press(new InteractionPayload(userId, userName, channel, ts, action.path("action_id").asText(""),
                action.path("value").asText(""), root.path("message").path("text").asText(""),
                blocks.isArray() ? (ArrayNode) blocks : JSON.createArrayNode()));
    }

    private static Optional<String> text(JsonNode node) {
        return node.isTextual() && !node.asText().isEmpty() ? Optional.of(node.asText()) : Optional.empty();
    }

    sealed interface Parsed {
        record Press(InteractionPayload payload) implements Parsed {}

        record Invalid(String reason) implements Parsed {}
    }
}
