package dev.gpuwatch.receiver.deliver.slack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpuwatch.receiver.deliver.message.MessageModel;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.message.Templates.Escaping;
import dev.gpuwatch.receiver.deliver.message.Trim;
import dev.gpuwatch.receiver.deliver.message.ValueRules;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.LiveView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Renders notifications as Slack Block Kit within Slack's limits: at most 50 blocks, header text 150
 * characters, section and context text 3000, one element per context block, the {@code text} fallback far
 * below chat.postMessage's 40,000. Each value is cut to {@link #MAX_VALUE_BYTES} before rendering, so one
 * long description leaves room for the labels and the runbook link in its section. Every template value is
 * escaped for mrkdwn by the {@link Escaping#SLACK} escaper; cutting a long text never splits an escape entity,
 * a {@code <url|text>} link or a surrogate pair, so a cut cannot turn escaped text back into a control sequence;
 * a cut shows {@code …[truncated N bytes]}. A one-line value (a label, the alert
 * name, a summary) has no line break and its backticks turned into {@code ˋ} (U+02CB): mrkdwn has no escape for
 * a backtick, and one would close the code span a label list sits in.
 */
final class BlockKit {

    static final int MAX_BLOCKS = 50;
    static final int MAX_HEADER = 150;
    static final int MAX_TEXT = 3000;
    /** A third of a section: the summary, the description and the labels each fit beside the others. */
    static final int MAX_VALUE_BYTES = 1000;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final ValueRules VALUES = new ValueRules(MAX_VALUE_BYTES, v -> v.replace('`', '\u02cb'));

    /** A rendered message: {@code text} is the notification fallback, {@code blocks} the Block Kit array. */
    record SlackMessage(String text, ArrayNode blocks) {

        String blocksJson() {
            try {
                return JSON.writeValueAsString(blocks);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The incoming-webhook body: {@code {"text": ..., "blocks": [...]}}. */
        String webhookJson() {
            ObjectNode body = NODES.objectNode();
            body.put("text", text);
            body.set("blocks", blocks);
            return body.toString();
        }
    }

    private final Templates templates;

    BlockKit(Templates templates) {
        this.templates = templates;
    }

    /** One notification: header, group context, one section per alert, "and N more" when over 50 blocks. */
    SlackMessage notification(EnrichedNotification enriched) {
        Map<String, Object> model = MessageModel.of(enriched, VALUES);
        String title = line(templates.render("title", Escaping.SLACK, model));
        List<ObjectNode> blocks = new ArrayList<>();
        blocks.add(header(title));
        String group = templates.render("slack-group", Escaping.SLACK, model).strip();
        if (!group.isEmpty()) {
            blocks.add(context(group));
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> alerts = (List<Map<String, Object>>) model.get("alerts");
        int truncated = enriched.notification().truncatedAlerts();
        int room = MAX_BLOCKS - blocks.size();
        boolean needsMore = alerts.size() > room || truncated > 0;
        int shown = Math.min(alerts.size(), needsMore ? room - 1 : room);
        for (int i = 0; i < shown; i++) {
            blocks.add(section(templates.render("slack-alert", Escaping.SLACK, alerts.get(i)).strip()));
        }
        if (needsMore) {
            List<Map<String, Object>> rest = alerts.subList(shown, alerts.size());
            long restFiring = rest.stream().filter(a -> Boolean.TRUE.equals(a.get("firing"))).count();
            StringBuilder more = new StringBuilder();
            if (!rest.isEmpty()) {
                more.append("… and ").append(rest.size()).append(" more alert").append(rest.size() == 1 ? "" : "s")
                        .append(" (").append(restFiring).append(" firing, ").append(rest.size() - restFiring)
                        .append(" resolved) not shown");
            }
            if (truncated > 0) {
                more.append(more.isEmpty() ? "" : "; ").append("Alertmanager left out ").append(truncated)
                        .append(" more alert").append(truncated == 1 ? "" : "s");
            }
            blocks.add(context(more.toString()));
        }
        if (blocks.size() < MAX_BLOCKS) {
            liveContext(enriched.live()).ifPresent(blocks::add);
        }
        return new SlackMessage(cut(title, MAX_TEXT), array(blocks));
    }

    /**
     * The live context read from Prometheus at delivery ({@code receiver.graph}): one context element per query,
     * its title in bold and its answer lines; empty when there is none.
     */
    static Optional<ObjectNode> liveContext(LiveView live) {
        if (live.context().isEmpty()) {
            return Optional.empty();
        }
        ObjectNode block = NODES.objectNode().put("type", "context");
        ArrayNode elements = NODES.arrayNode();
        for (LiveView.Context c : live.context().subList(0, Math.min(10, live.context().size()))) {
            String text = "*" + slackEscape(c.title()) + "*\n" + String.join("\n", c.lines().stream().map(BlockKit::slackEscape).toList());
            elements.add(NODES.objectNode().put("type", "mrkdwn").put("text", cut(text, MAX_TEXT)));
        }
        block.set("elements", elements);
        return Optional.of(block);
    }

    private static String slackEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /**
     * Several notifications folded into one digest: a header with counts, then one line per notification
     * packed into as few sections as fit, "and N more" past the block limit.
     */
    SlackMessage digest(List<EnrichedNotification> notifications) {
        Map<String, Object> model = MessageModel.digest(notifications, VALUES);
        String title = line(templates.render("digest-title", Escaping.SLACK, model));
        List<ObjectNode> blocks = new ArrayList<>();
        blocks.add(header(title));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) model.get("notifications");
        StringBuilder section = new StringBuilder();
        int shown = 0;
        for (Map<String, Object> entry : entries) {
            String line = cut(templates.render("slack-digest-entry", Escaping.SLACK, entry).strip(), MAX_TEXT);
            if (!section.isEmpty() && section.length() + 1 + line.length() > MAX_TEXT) {
                if (blocks.size() + 2 >= MAX_BLOCKS) {
                    break;  // one block left: it is for "and N more"
                }
                blocks.add(section(section.toString()));
                section.setLength(0);
            }
            section.append(section.isEmpty() ? "" : "\n").append(line);
            shown++;
        }
        if (!section.isEmpty()) {
            blocks.add(section(section.toString()));
        }
        if (shown < entries.size()) {
            int rest = entries.size() - shown;
            blocks.add(context("… and " + rest + " more notification" + (rest == 1 ? "" : "s") + " not shown"));
        }
        return new SlackMessage(cut(title, MAX_TEXT), array(blocks));
    }

    /** The {@code block_id} of the buttons' actions block, which an interaction finds again in the message. */
    static final String ACTIONS_BLOCK = "gpuwatch_actions";

    /**
     * {@code message} with an actions block of {@code buttons} at its end; a message already at the block limit
     * gives its last block up for them. Unchanged when there are no buttons.
     */
    static SlackMessage withActions(SlackMessage message, List<SlackButtons.Button> buttons) {
        if (buttons.isEmpty()) {
            return message;
        }
        ArrayNode blocks = message.blocks().deepCopy();
        while (blocks.size() >= MAX_BLOCKS) {
            blocks.remove(blocks.size() - 1);
        }
        ObjectNode actions = NODES.objectNode().put("type", "actions").put("block_id", ACTIONS_BLOCK);
        ArrayNode elements = actions.putArray("elements");
        for (SlackButtons.Button b : buttons) {
            ObjectNode button = elements.addObject().put("type", "button").put("action_id", b.actionId())
                    .put("value", b.value());
            button.set("text", NODES.objectNode().put("type", "plain_text").put("text", b.text()));
        }
        blocks.add(actions);
        return new SlackMessage(message.text(), blocks);
    }

    /** The thread reply posted under the original message when its group resolves. */
    String resolvedReply(EnrichedNotification enriched) {
        return cut(templates.render("slack-resolved-reply", Escaping.SLACK, MessageModel.of(enriched, VALUES)).strip(), MAX_TEXT);
    }

    private static ObjectNode header(String text) {
        ObjectNode block = NODES.objectNode().put("type", "header");
        block.set("text", NODES.objectNode().put("type", "plain_text").put("text", cut(text, MAX_HEADER)).put("emoji", true));
        return block;
    }

    private static ObjectNode section(String mrkdwn) {
        ObjectNode block = NODES.objectNode().put("type", "section");
        block.set("text", NODES.objectNode().put("type", "mrkdwn").put("text", cut(mrkdwn, MAX_TEXT)));
        return block;
    }

    private static ObjectNode context(String mrkdwn) {
        ObjectNode block = NODES.objectNode().put("type", "context");
        ArrayNode elements = NODES.arrayNode();
        elements.add(NODES.objectNode().put("type", "mrkdwn").put("text", cut(mrkdwn, MAX_TEXT)));
        block.set("elements", elements);
        return block;
    }

    private static ArrayNode array(List<ObjectNode> blocks) {
        ArrayNode array = NODES.arrayNode();
        blocks.forEach(array::add);
        return array;
    }

    /** One line: a title must not break the header, whatever a user template or a label contains. */
    private static String line(String s) {
        return s.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    /**
     * Cuts {@code s} to at most {@code max} characters with a trailing {@code …[truncated N bytes]}, never inside
     * an {@code &amp;}-style entity, a {@code <url|text>} link or a surrogate pair.
     */
    static String cut(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        // the marker for everything left out is the longest it can get
        int end = max - Trim.marker(Trim.utf8Length(s, 0, s.length())).length();
        if (Character.isLowSurrogate(s.charAt(end)) && end > 0) {
            end--;
        }
        String head = s.substring(0, end);
        int amp = head.lastIndexOf('&');
        if (amp >= 0 && head.indexOf(';', amp) < 0) {
            head = head.substring(0, amp);
        }
        int lt = head.lastIndexOf('<');
        if (lt >= 0 && head.indexOf('>', lt) < 0) {
            head = head.substring(0, lt);
        }
        return Trim.head(s, head.length());
    }
}
