package dev.gpuwatch.receiver.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns an Alertmanager webhook body (payload version 4) into a {@link Notification}, or says exactly which
 * field makes it unacceptable. Unknown fields are ignored so newer Alertmanagers (notification_reason,
 * routeLabels) keep working. The same parser reads the raw body back from the store at delivery time, so what
 * is accepted and what is delivered can never disagree.
 *
 * <p>It reads Jackson's token stream straight into small holders instead of building a JsonNode tree first (the
 * tree was a third of the receiver's CPU in the ingest benchmark). Two passes keep the contract of the tree-based
 * parser it replaced: the whole body is read first, so a syntax, UTF-8 or nesting error anywhere wins over a
 * field error, and fields may come in any order; then the fields are checked in a fixed order (version, status,
 * receiver, groupKey, truncatedAlerts, alerts, ...), so a body with several faults always names the same one.
 * Like a JsonNode object, a repeated key keeps its first position and its last value.
 *
 * <p>Before Jackson sees the body, it must be strict UTF-8 (RFC 8259 section 8.1): Jackson alone accepts overlong
 * forms ({@code C0 80}), encoded surrogates and code points above U+10FFFF, and detects UTF-16 and UTF-32 on its
 * own, so such a body would be stored and delivered. One JSON value and nothing after it: a second concatenated
 * object would otherwise be dropped without a word.
 */
public final class PayloadParser {

    /** Deeper than any real payload (labels are flat); stops stack-exhaustion payloads early. */
    static final int MAX_NESTING_DEPTH = 32;

    /**
     * Jackson's defaults, pinned here so an upgrade cannot move them: far beyond a real label, annotation or
     * number, and each refused with its own message instead of Jackson's generic constraint error.
     */
    static final int MAX_NAME_LENGTH = 50_000;
    static final int MAX_STRING_LENGTH = 20_000_000;
    static final int MAX_NUMBER_LENGTH = 1_000;

    /** Decoded in slices of this many chars: validating a body must not cost a copy of it. */
    private static final int UTF8_CHECK_CHARS = 4096;

    private static final Instant GO_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    /** The alert index that means: a top-level field, not one of an alert. */
    private static final int TOP = -1;

    /** A JSON null: for every field the same as an absent one. */
    private static final Object NULL = new Object();

    /** Any value of a type the field cannot hold (for truncatedAlerts: any value that is not an int >= 0). */
    private static final Object WRONG_TYPE = new Object();

    /**
     * Stands in a string map for a value that is not a string. A distinct instance, compared by identity, so
     * the map stays a {@code Map<String, String>} that can be used as is when nothing is wrong.
     */
    @SuppressWarnings("StringOperationCanBeSimplified")
    private static final String NOT_A_STRING = new String("not a string");

    private final JsonFactory factory;

    public PayloadParser() {
        this.factory = jsonFactory();
    }

    /** The factory with the receiver's read limits; package-private for the differential test's reference. */
    static JsonFactory jsonFactory() {
        return JsonFactory.builder().streamReadConstraints(new Limits()).build();
    }

    /** The result of parsing: a notification, or the reason it will never be accepted. */
    public sealed interface Result {
        record Parsed(Notification notification) implements Result {}

        /** {@code field} is a path such as {@code alerts[2].labels.severity}; empty for the body as a whole. */
        record Invalid(String error, String field) implements Result {}
    }

    public Result parse(byte[] body) {
        if (!isStrictUtf8Json(body)) {
            return new Result.Invalid("body is not valid UTF-8", "");
        }
        RawNotification raw;
        try (JsonParser p = factory.createParser(body)) {
            try {
                JsonToken first = p.nextToken();
                if (first == null) {
                    return new Result.Invalid("empty body", "");
                }
                raw = first == JsonToken.START_OBJECT ? RawNotification.read(p) : null;
                if (raw == null) {
                    skipValue(p); // still read to its end: a broken array or bad string must be reported as such
                }
                if (p.nextToken() != null) {
                    return trailingData(p.currentTokenLocation());
                }
            } catch (LimitExceeded e) {
                return e.invalid(p.getParsingContext());
            }
        } catch (JsonProcessingException e) {
            return new Result.Invalid(describe(e), "");
        } catch (IOException e) {
            return new Result.Invalid("unreadable body", "");
        }
        if (raw == null) {
            return new Result.Invalid("body must be a JSON object", "");
        }
        try {
            return new Result.Parsed(raw.toNotification());
        } catch (FieldError e) {
            return new Result.Invalid(e.getMessage(), e.field);
        }
    }

    /**
     * The idempotency key: identical for Alertmanager's retries and for the same group sent by HA peers. Alerts
     * are sorted by fingerprint so peers that list them in another order still agree.
     */
    public static String idempotencyKey(Notification n) {
        List<String> alerts = new ArrayList<>();
        for (Alert a : n.alerts()) {
            alerts.add(a.fingerprint() + '\u0000' + a.status() + '\u0000' + a.startsAt() + '\u0000'
                    + a.endsAt().map(Instant::toString).orElse(""));
        }
        alerts.sort(null);
        StringBuilder canonical = new StringBuilder()
                .append(n.receiver()).append('\u0001')
                .append(n.groupKey()).append('\u0001')
                .append(n.status()).append('\u0001');
        alerts.forEach(a -> canonical.append(a).append('\u0001'));
        return sha256(canonical.toString());
    }

    static String sha256(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /**
     * Strict UTF-8 by the JDK's decoder, which refuses overlong forms, surrogates and code points above U+10FFFF.
     * A NUL in the first two bytes is how Jackson recognises UTF-16 and UTF-32; no UTF-8 JSON text starts so.
     */
    static boolean isStrictUtf8Json(byte[] body) {
        if (body.length >= 1 && body[0] == 0 || body.length >= 2 && body[1] == 0) {
            return false;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(Math.clamp(body.length, 2, UTF8_CHECK_CHARS));
        CoderResult result;
        while ((result = decoder.decode(in, out, true)).isOverflow()) {
            out.clear();
        }
        if (result.isError()) {
            return false;
        }
        out.clear();
        return !decoder.flush(out).isError();
    }

    /** After the one JSON value of a body: anything but whitespace. */
    static Result.Invalid trailingData(JsonLocation at) {
        return new Result.Invalid("data after the JSON value at line " + at.getLineNr() + ", column "
                + at.getColumnNr(), "");
    }

    private static String describe(JsonProcessingException e) {
        return "malformed JSON" + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr());
    }

    // ---- pass 1: tokens into holders; only the parser's own errors can happen here ------------------------------

    /**
     * Reads past the value at the current token, leaving the parser on its last token. Walks it token by token and
     * decodes every string, as building a JsonNode did, rather than {@code skipChildren()}: that way the parser
     * checks an ignored value (UTF-8, string length) exactly as the tree-based parser did, and a body it refused
     * is still refused. Ignored values are rare and small in real payloads, so this costs nothing measurable.
     */
    private static void skipValue(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        int depth = 0;
        while (true) {
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                depth--;
            } else if (t == JsonToken.VALUE_STRING) {
                p.getText();
            }
            if (depth == 0) {
                return;
            }
            t = p.nextToken();
        }
    }

    /** A string value, {@link #NULL} or {@link #WRONG_TYPE}; the parser is left on the value's last token. */
    private static Object stringValue(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL) {
            return NULL;
        }
        skipValue(p);
        return WRONG_TYPE;
    }

    /** A {@code LinkedHashMap<String, String>} (with {@link #NOT_A_STRING} values), {@link #NULL} or {@link #WRONG_TYPE}. */
    private static Object stringMap(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return NULL;
        }
        if (t != JsonToken.START_OBJECT) {
            skipValue(p);
            return WRONG_TYPE;
        }
        Map<String, String> map = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (v == JsonToken.VALUE_STRING) {
                map.put(key, p.getText());
            } else {
                skipValue(p);
                map.put(key, NOT_A_STRING);
            }
        }
        return map;
    }

    /** truncatedAlerts: an Integer >= 0, {@link #NULL} or {@link #WRONG_TYPE}. */
    private static Object count(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return NULL;
        }
        if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
            long value = p.getLongValue();
            return value >= 0 && value <= Integer.MAX_VALUE ? (Object) (int) value : WRONG_TYPE;
        }
        skipValue(p);
        return WRONG_TYPE;
    }

    /** The top-level fields as read; a field never seen is Java null. */
    private static final class RawNotification {
        Object version;
        Object status;
        Object receiver;
        Object groupKey;
        Object truncatedAlerts;
        Object alerts; // List<Object> of RawAlert or WRONG_TYPE, NULL or WRONG_TYPE
        Object groupLabels;
        Object commonLabels;
        Object commonAnnotations;
        Object externalUrl;

        /** Reads the object whose START_OBJECT is the current token, up to its END_OBJECT. */
        static RawNotification read(JsonParser p) throws IOException {
            RawNotification n = new RawNotification();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                switch (name) {
                    case "version" -> n.version = stringValue(p, t);
                    case "status" -> n.status = stringValue(p, t);
                    case "receiver" -> n.receiver = stringValue(p, t);
                    case "groupKey" -> n.groupKey = stringValue(p, t);
                    case "truncatedAlerts" -> n.truncatedAlerts = count(p, t);
                    case "alerts" -> n.alerts = alerts(p, t);
                    case "groupLabels" -> n.groupLabels = stringMap(p, t);
                    case "commonLabels" -> n.commonLabels = stringMap(p, t);
                    case "commonAnnotations" -> n.commonAnnotations = stringMap(p, t);
                    case "externalURL" -> n.externalUrl = stringValue(p, t);
                    default -> skipValue(p);
                }
            }
            return n;
        }

        private static Object alerts(JsonParser p, JsonToken t) throws IOException {
            if (t == JsonToken.VALUE_NULL) {
                return NULL;
            }
            if (t != JsonToken.START_ARRAY) {
                skipValue(p);
                return WRONG_TYPE;
            }
            List<Object> alerts = new ArrayList<>();
            JsonToken item;
            while ((item = p.nextToken()) != JsonToken.END_ARRAY) {
                if (item == JsonToken.START_OBJECT) {
                    alerts.add(RawAlert.read(p));
                } else {
                    skipValue(p);
                    alerts.add(WRONG_TYPE);
                }
            }
            return alerts;
        }

        // ---- pass 2: the checks, in the order the tree-based parser made them ----------------------------------

        Notification toNotification() {
            String version = requiredString(this.version, TOP, "version");
            if (!"4".equals(version)) {
                throw new FieldError("version", "unsupported payload version \"" + version + "\" (expected \"4\")");
            }
            String status = status(this.status, TOP, "status");
            String receiver = requiredString(this.receiver, TOP, "receiver");
            String groupKey = requiredString(this.groupKey, TOP, "groupKey");
            int truncated = 0;
            if (truncatedAlerts == WRONG_TYPE) {
                throw new FieldError("truncatedAlerts", "must be a non-negative integer");
            } else if (truncatedAlerts instanceof Integer value) {
                truncated = value;
            }
            if (alerts == null || alerts == NULL) {
                throw new FieldError("alerts", "missing required field");
            }
            if (!(alerts instanceof List<?> items)) {
                throw new FieldError("alerts", "must be an array");
            }
            if (items.isEmpty()) {
                throw new FieldError("alerts", "must hold at least one alert");
            }
            List<Alert> parsed = new ArrayList<>(items.size());
            for (int i = 0; i < items.size(); i++) {
                if (!(items.get(i) instanceof RawAlert alert)) {
                    throw new FieldError(path(i, ""), "must be an object");
                }
                parsed.add(alert.toAlert(i));
            }
            return new Notification(version, groupKey, truncated, status, receiver,
                    stringMap(groupLabels, TOP, "groupLabels"),
                    stringMap(commonLabels, TOP, "commonLabels"),
                    stringMap(commonAnnotations, TOP, "commonAnnotations"),
                    optionalString(externalUrl, TOP, "externalURL"),
                    parsed);
        }
    }

    /** One alert's fields as read; a field never seen is Java null. */
    private static final class RawAlert {
        Object status;
        Object labels;
        Object annotations;
        Object startsAt;
        Object endsAt;
        Object generatorUrl;
        Object fingerprint;

        static RawAlert read(JsonParser p) throws IOException {
            RawAlert a = new RawAlert();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                switch (name) {
                    case "status" -> a.status = stringValue(p, t);
                    case "labels" -> a.labels = stringMap(p, t);
                    case "annotations" -> a.annotations = stringMap(p, t);
                    case "startsAt" -> a.startsAt = stringValue(p, t);
                    case "endsAt" -> a.endsAt = stringValue(p, t);
                    case "generatorURL" -> a.generatorUrl = stringValue(p, t);
                    case "fingerprint" -> a.fingerprint = stringValue(p, t);
                    default -> skipValue(p);
                }
            }
            return a;
        }

        /** @param index the alert's position in {@code alerts}, for the field path of an error */
        Alert toAlert(int index) {
            String status = PayloadParser.status(this.status, index, "status");
            Map<String, String> labels = stringMap(this.labels, index, "labels");
            if (this.labels == null) { // a JSON null passes as no labels, as it did in the tree
                throw new FieldError(path(index, "labels"), "missing required field");
            }
            Instant startsAt = time(this.startsAt, index, "startsAt")
                    .orElseThrow(() -> new FieldError(path(index, "startsAt"), "missing required field"));
            Optional<Instant> endsAt = time(this.endsAt, index, "endsAt").filter(t -> !t.equals(GO_ZERO_TIME));
            String fingerprint = optionalString(this.fingerprint, index, "fingerprint");
            if (fingerprint.isEmpty()) {
                // Alertmanager before 0.19 sent no fingerprint: derive one from the label set, as it would.
                fingerprint = sha256(new TreeMap<>(labels).toString()).substring(0, 16);
            }
            return new Alert(status, labels, stringMap(this.annotations, index, "annotations"), startsAt, endsAt,
                    optionalString(this.generatorUrl, index, "generatorURL"), fingerprint);
        }
    }

    /**
     * The path of a field for an error: {@code name} at the top level ({@link #TOP}), {@code alerts[i].name} in
     * alert {@code i}. Built only when there is an error: a dozen concatenations per alert on every parse were
     * a quarter of the parser's allocation.
     */
    private static String path(int alert, String name) {
        if (alert == TOP) {
            return name;
        }
        return name.isEmpty() ? "alerts[" + alert + "]" : "alerts[" + alert + "]." + name;
    }

    private static String status(Object value, int alert, String name) {
        String status = requiredString(value, alert, name);
        if (!status.equals("firing") && !status.equals("resolved")) {
            throw new FieldError(path(alert, name), "must be \"firing\" or \"resolved\"");
        }
        return status;
    }

    private static String requiredString(Object value, int alert, String name) {
        if (value == null || value == NULL) {
            throw new FieldError(path(alert, name), "missing required field");
        }
        if (!(value instanceof String text)) {
            throw new FieldError(path(alert, name), "must be a string");
        }
        return text;
    }

    private static String optionalString(Object value, int alert, String name) {
        if (value == null || value == NULL) {
            return "";
        }
        if (!(value instanceof String text)) {
            throw new FieldError(path(alert, name), "must be a string");
        }
        return text;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> stringMap(Object value, int alert, String name) {
        if (value == null || value == NULL) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?>)) {
            throw new FieldError(path(alert, name), "must be an object of string values");
        }
        Map<String, String> map = (Map<String, String>) value;
        // a repeated key replaced its value in place: the first wrong one in key order is the one to name
        for (Map.Entry<String, String> entry : map.entrySet()) {
            if (entry.getValue() == NOT_A_STRING) {
                throw new FieldError(path(alert, name) + "." + entry.getKey(), "must be a string");
            }
        }
        return map;
    }

    private static Optional<Instant> time(Object value, int alert, String name) {
        if (value == null || value == NULL) {
            return Optional.empty();
        }
        if (!(value instanceof String text)) {
            throw new FieldError(path(alert, name), "must be an RFC 3339 time string");
        }
        try {
            return Optional.of(Rfc3339.parse(text));
        } catch (DateTimeParseException e) {
            throw new FieldError(path(alert, name), "must be an RFC 3339 time string");
        }
    }

    /**
     * Which read limit a body broke, as data: Jackson's own {@link StreamConstraintsException} says so only in
     * its text, and reporting every limit as nesting sent a 50,000-character label name back as "nested deeper
     * than 32 levels".
     */
    enum Limit { NESTING, NAME, STRING, NUMBER }

    /** Jackson's limits, each check throwing a {@link LimitExceeded} that names its limit. */
    private static final class Limits extends StreamReadConstraints {
        private static final long UNLIMITED = -1;

        Limits() {
            super(MAX_NESTING_DEPTH, UNLIMITED, MAX_NUMBER_LENGTH, MAX_STRING_LENGTH, MAX_NAME_LENGTH, UNLIMITED);
        }

        @Override
        public void validateNestingDepth(int depth) throws StreamConstraintsException {
            check(depth, MAX_NESTING_DEPTH, Limit.NESTING);
        }

        @Override
        public void validateNameLength(int length) throws StreamConstraintsException {
            check(length, MAX_NAME_LENGTH, Limit.NAME);
        }

        @Override
        public void validateStringLength(int length) throws StreamConstraintsException {
            check(length, MAX_STRING_LENGTH, Limit.STRING);
        }

        @Override
        public void validateIntegerLength(int length) throws StreamConstraintsException {
            check(length, MAX_NUMBER_LENGTH, Limit.NUMBER);
        }

        @Override
        public void validateFPLength(int length) throws StreamConstraintsException {
            check(length, MAX_NUMBER_LENGTH, Limit.NUMBER);
        }

        private static void check(int value, int max, Limit limit) throws LimitExceeded {
            if (value > max) {
                throw new LimitExceeded(limit);
            }
        }
    }

    /** A read limit broken; {@link #invalid} names it and where, from the parser's position. */
    static final class LimitExceeded extends StreamConstraintsException {
        final Limit limit;

        LimitExceeded(Limit limit) {
            super(limit.name());
            this.limit = limit;
        }

        Result.Invalid invalid(JsonStreamContext at) {
            return switch (limit) {
                case NESTING -> new Result.Invalid("JSON nested deeper than " + MAX_NESTING_DEPTH + " levels", "");
                // a name too long is read before it becomes the object's current name: name the object
                case NAME -> new Result.Invalid("key longer than " + MAX_NAME_LENGTH + " characters",
                        fieldPath(at.getParent()));
                case STRING -> new Result.Invalid("string longer than " + MAX_STRING_LENGTH + " characters",
                        fieldPath(at));
                case NUMBER -> new Result.Invalid("number longer than " + MAX_NUMBER_LENGTH + " digits",
                        fieldPath(at));
            };
        }

        /** {@code alerts[2].labels.severity}: the value the parser is at, in the paths of field errors. */
        private static String fieldPath(JsonStreamContext at) {
            StringBuilder path = new StringBuilder();
            for (JsonStreamContext c = at; c != null && !c.inRoot(); c = c.getParent()) {
                if (c.inArray()) {
                    path.insert(0, "[" + c.getCurrentIndex() + "]");
                } else if (c.getCurrentName() != null) {
                    path.insert(0, (c.getParent() == null || c.getParent().inRoot() ? "" : ".") + c.getCurrentName());
                }
            }
            return path.toString();
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
