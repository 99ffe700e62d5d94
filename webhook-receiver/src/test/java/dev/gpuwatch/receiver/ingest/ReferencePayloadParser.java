package dev.gpuwatch.receiver.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The tree-based parser that {@link PayloadParser} replaced (Jackson readTree, then a walk of the JsonNode tree),
 * kept verbatim as the reference for {@link PayloadParserDifferentialTest}: the streaming parser must give equal
 * results, error texts and field paths included, for every body.
 *
 * <p>Changed where the README's promises required it, in the same way as the parser: a body must be strict UTF-8
 * (decoded by the JDK, not Jackson, which accepted overlong forms and surrogates), nothing may follow the JSON
 * value, and a broken read limit is named by the limit (the shared {@link PayloadParser#jsonFactory()} and
 * {@link PayloadParser.LimitExceeded}) instead of being reported as nesting.
 */
final class ReferencePayloadParser {

    private static final Instant GO_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    private final ObjectMapper mapper;

    ReferencePayloadParser() {
        this.mapper = new ObjectMapper(PayloadParser.jsonFactory());
    }

    PayloadParser.Result parse(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body));
        } catch (CharacterCodingException e) {
            return new PayloadParser.Result.Invalid("body is not valid UTF-8", "");
        }
        if (body.length > 0 && body[0] == 0 || body.length > 1 && body[1] == 0) { // UTF-16 or UTF-32
            return new PayloadParser.Result.Invalid("body is not valid UTF-8", "");
        }
        JsonNode root;
        try (JsonParser p = mapper.createParser(body)) {
            try {
                root = mapper.readTree(p);
                if (root != null && p.nextToken() != null) {
                    return PayloadParser.trailingData(p.currentTokenLocation());
                }
            } catch (PayloadParser.LimitExceeded e) {
                return e.invalid(p.getParsingContext());
            }
        } catch (JsonProcessingException e) {
            return new PayloadParser.Result.Invalid(describe(e), "");
        } catch (IOException e) {
            return new PayloadParser.Result.Invalid("unreadable body", "");
        }
        if (root == null || root.isMissingNode()) {
            return new PayloadParser.Result.Invalid("empty body", "");
        }
        try {
            return new PayloadParser.Result.Parsed(notification(root));
        } catch (FieldError e) {
            return new PayloadParser.Result.Invalid(e.getMessage(), e.field);
        }
    }

    private static String describe(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message != null && message.contains("UTF-8")) {
            return "body is not valid UTF-8";
        }
        return "malformed JSON" + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr());
    }

    private static Notification notification(JsonNode root) {
        if (!root.isObject()) {
            throw new FieldError("", "body must be a JSON object");
        }
        String version = requiredString(root, "version", "version");
        if (!"4".equals(version)) {
            throw new FieldError("version", "unsupported payload version \"" + version + "\" (expected \"4\")");
        }
        String status = status(root, "status", "status");
        String receiver = requiredString(root, "receiver", "receiver");
        String groupKey = requiredString(root, "groupKey", "groupKey");
        int truncated = 0;
        JsonNode truncatedNode = root.get("truncatedAlerts");
        if (truncatedNode != null && !truncatedNode.isNull()) {
            if (!truncatedNode.canConvertToInt() || !truncatedNode.isIntegralNumber() || truncatedNode.intValue() < 0) {
                throw new FieldError("truncatedAlerts", "must be a non-negative integer");
            }
            truncated = truncatedNode.intValue();
        }
        JsonNode alertsNode = root.get("alerts");
        if (alertsNode == null || alertsNode.isNull()) {
            throw new FieldError("alerts", "missing required field");
        }
        if (!alertsNode.isArray()) {
            throw new FieldError("alerts", "must be an array");
        }
        if (alertsNode.isEmpty()) {
            throw new FieldError("alerts", "must hold at least one alert");
        }
        List<Alert> alerts = new ArrayList<>(alertsNode.size());
        for (int i = 0; i < alertsNode.size(); i++) {
            alerts.add(alert(alertsNode.get(i), "alerts[" + i + "]"));
        }
        return new Notification(version, groupKey, truncated, status, receiver,
                stringMap(root, "groupLabels", "groupLabels"),
                stringMap(root, "commonLabels", "commonLabels"),
                stringMap(root, "commonAnnotations", "commonAnnotations"),
                optionalString(root, "externalURL", "externalURL"),
                alerts);
    }

    private static Alert alert(JsonNode node, String path) {
        if (!node.isObject()) {
            throw new FieldError(path, "must be an object");
        }
        String status = status(node, "status", path + ".status");
        Map<String, String> labels = stringMap(node, "labels", path + ".labels");
        if (node.get("labels") == null) {
            throw new FieldError(path + ".labels", "missing required field");
        }
        Instant startsAt = time(node, "startsAt", path + ".startsAt")
                .orElseThrow(() -> new FieldError(path + ".startsAt", "missing required field"));
        Optional<Instant> endsAt = time(node, "endsAt", path + ".endsAt").filter(t -> !t.equals(GO_ZERO_TIME));
        String fingerprint = optionalString(node, "fingerprint", path + ".fingerprint");
        if (fingerprint.isEmpty()) {
            // Alertmanager before 0.19 sent no fingerprint: derive one from the label set, as it would.
            fingerprint = PayloadParser.sha256(new TreeMap<>(labels).toString()).substring(0, 16);
        }
        return new Alert(status, labels, stringMap(node, "annotations", path + ".annotations"), startsAt, endsAt,
                optionalString(node, "generatorURL", path + ".generatorURL"), fingerprint);
    }

    private static String status(JsonNode parent, String name, String path) {
        String status = requiredString(parent, name, path);
        if (!status.equals("firing") && !status.equals("resolved")) {
            throw new FieldError(path, "must be \"firing\" or \"resolved\"");
        }
        return status;
    }

    private static String requiredString(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            throw new FieldError(path, "missing required field");
        }
        if (!node.isTextual()) {
            throw new FieldError(path, "must be a string");
        }
        return node.textValue();
    }

    private static String optionalString(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return "";
        }
        if (!node.isTextual()) {
            throw new FieldError(path, "must be a string");
        }
        return node.textValue();
    }

    private static Map<String, String> stringMap(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new FieldError(path, "must be an object of string values");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new FieldError(path + "." + entry.getKey(), "must be a string");
            }
            map.put(entry.getKey(), entry.getValue().textValue());
        }
        return map;
    }

    private static Optional<Instant> time(JsonNode parent, String name, String path) {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw new FieldError(path, "must be an RFC 3339 time string");
        }
        try {
            return Optional.of(Rfc3339.parse(node.textValue()));
        } catch (DateTimeParseException e) {
            throw new FieldError(path, "must be an RFC 3339 time string");
        }
    }

    /** Control flow inside the parser only: never leaves this class. */
    private static final class FieldError extends RuntimeException {
        final String field;

        FieldError(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }
    }
}
