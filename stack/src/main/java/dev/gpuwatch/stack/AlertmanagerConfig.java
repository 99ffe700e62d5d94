package dev.gpuwatch.stack;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The shipped Alertmanager example (examples/alertmanager/alertmanager.yml) as the stack runs it: routes,
 * receivers and inhibitions untouched; only the webhook URLs that point at the receiver get the stack's
 * receiver address, and the grouping timers get the demo's short values, because the example's production
 * timers (tens of seconds to wait, minutes between updates) would hold a resolved notification for minutes.
 */
final class AlertmanagerConfig {

    /** Path of the receiver's webhook; a webhook URL with this path is the receiver's, whatever its host. */
    static final String WEBHOOK_PATH = "/api/v1/alerts";

    private static final YAMLMapper YAML = new YAMLMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    /** The grouping timers the stack sets wherever the example sets one, and on the root route. */
    record Timers(Duration groupWait, Duration groupInterval) {}

    /** What was changed, for the progress line and the README's promise that nothing else is. */
    record Rendered(String yaml, List<String> changes) {}

    private AlertmanagerConfig() {}

    static Rendered render(String exampleYaml, String source, int receiverPort, Timers timers) throws StackException {
        return render(exampleYaml, source, List.of(receiverPort), timers);
    }

    /**
     * As {@link #render(String, String, int, Timers)} for several receiver replicas: each webhook of the receiver
     * becomes one per replica, so every notification goes to every replica, as the peers of an Alertmanager
     * cluster each post to their own (the replicas store it once and send it once).
     */
    static Rendered render(String exampleYaml, String source, List<Integer> receiverPorts, Timers timers)
            throws StackException {
        int receiverPort = receiverPorts.getFirst();
        JsonNode root;
        try {
            root = YAML.readTree(exampleYaml);
        } catch (JsonProcessingException e) {
            throw new StackException(source + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (!(root instanceof ObjectNode config) || !(config.get("route") instanceof ObjectNode route)) {
            throw new StackException(source + ": no route: section; is it an Alertmanager configuration?");
        }
        List<String> changes = new ArrayList<>();
        int webhooks = 0;
        for (JsonNode receiver : config.path("receivers")) {
            for (JsonNode webhook : receiver.path("webhook_configs")) {
                String url = webhook.path("url").asText("");
                if (webhook instanceof ObjectNode w && isReceiverWebhook(url)) {
                    String local = "http://127.0.0.1:" + receiverPort + WEBHOOK_PATH;
                    w.put("url", local);
                    webhooks++;
                    if (!url.equals(local)) {
                        changes.add(receiver.path("name").asText("?") + ": webhook " + url + " -> " + local);
                    }
                }
            }
            replicate(receiver, receiverPorts, changes);
        }
        if (webhooks == 0) {
            throw new StackException(source + ": no webhook_configs url ending in " + WEBHOOK_PATH
                    + " (the receiver's webhook): nothing would reach the receiver");
        }
        setTimers(route, timers, true, changes, "route");
        try {
            return new Rendered(YAML.writeValueAsString(config), List.copyOf(changes));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree read from YAML must write back", e);
        }
    }

    /** Beside each receiver webhook (now on the first replica), a copy for every further replica's port. */
    private static void replicate(JsonNode receiver, List<Integer> receiverPorts, List<String> changes) {
        if (receiverPorts.size() < 2 || !(receiver.path("webhook_configs") instanceof ArrayNode webhooks)) {
            return;
        }
        List<JsonNode> copies = new ArrayList<>();
        for (JsonNode webhook : webhooks) {
            if (webhook instanceof ObjectNode w && isReceiverWebhook(w.path("url").asText(""))) {
                for (int port : receiverPorts.subList(1, receiverPorts.size())) {
                    copies.add(w.deepCopy().put("url", "http://127.0.0.1:" + port + WEBHOOK_PATH));
                }
            }
        }
        copies.forEach(webhooks::add);
        if (!copies.isEmpty()) {
            changes.add(receiver.path("name").asText("?") + ": the same webhook on every receiver replica "
                    + receiverPorts);
        }
    }

    private static boolean isReceiverWebhook(String url) {
        try {
            return !url.isEmpty() && WEBHOOK_PATH.equals(URI.create(url).getPath());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void setTimers(ObjectNode route, Timers timers, boolean root, List<String> changes, String at) {
        set(route, "group_wait", timers.groupWait(), root, changes, at);
        set(route, "group_interval", timers.groupInterval(), root, changes, at);
        JsonNode children = route.path("routes");
        for (int i = 0; i < children.size(); i++) {
            if (children.get(i) instanceof ObjectNode child) {
                setTimers(child, timers, false, changes, at + ".routes[" + i + "]");
            }
        }
    }

    private static void set(ObjectNode route, String key, Duration value, boolean always, List<String> changes,
            String at) {
        String seconds = value.toSeconds() + "s";
        if (always || route.has(key)) {
            String old = route.path(key).asText("(default)");
            if (!old.equals(seconds)) {
                route.put(key, seconds);
                changes.add(at + "." + key + " " + old + " -> " + seconds);
            }
        }
    }
}
