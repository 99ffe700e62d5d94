package dev.gpuwatch.receiver.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.receiver.Payloads;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The streaming {@link PayloadParser} against the tree-based {@link ReferencePayloadParser} it replaced: for every
 * body of a hand-written corpus and of a seeded, generated one, both must give equal results (the same
 * notification, or the same error text and field path).
 */
class PayloadParserDifferentialTest {

    private final PayloadParser parser = new PayloadParser();
    private final ReferencePayloadParser reference = new ReferencePayloadParser();

    /** Alertmanager 0.25+ as REFERENCE.md section 5 describes it: routeLabels and notification_reason included. */
    static final String ALERTMANAGER_EXAMPLE = """
            {
              "receiver": "gpuwatch",
              "status": "resolved",
              "alerts": [
                {
                  "status": "resolved",
                  "labels": {"alertname": "GpuXidError", "gpu": "3", "instance": "node-7:9835", "xid": "79"},
                  "annotations": {"summary": "GPU 3 fell off the bus", "runbook_url": "https://runbooks/xid#79"},
                  "startsAt": "2025-06-01T12:00:00.123456789+02:00",
                  "endsAt": "2025-06-01T12:30:00Z",
                  "generatorURL": "http://prometheus:9090/graph?g0.expr=gpu_xid_errors_total&g0.tab=1",
                  "fingerprint": "c0ffee0123456789"
                }
              ],
              "groupLabels": {"alertname": "GpuXidError"},
              "commonLabels": {"alertname": "GpuXidError", "gpu": "3"},
              "commonAnnotations": {},
              "externalURL": "http://alertmanager:9093",
              "version": "4",
              "groupKey": "{}/{severity=\\"page\\"}:{alertname=\\"GpuXidError\\"}",
              "truncatedAlerts": 2,
              "notification_reason": "resolved",
              "routeLabels": {"matchers": [{"name": "severity", "value": "page", "nested": {"deep": [1, 2.5, null, true]}}]}
            }""";

    /** An old Alertmanager's shape: no fingerprint, no truncatedAlerts, nulls where a map is optional. */
    static final String MINIMAL = """
            {"version":"4","status":"firing","receiver":"r","groupKey":"g","groupLabels":null,"commonLabels":null,\
            "alerts":[{"status":"firing","labels":{"b":"2","a":"1"},"startsAt":"2025-01-01T00:00:00Z"},\
            {"status":"firing","labels":null,"annotations":null,"startsAt":"2025-01-01T00:00:00Z","endsAt":null,\
            "fingerprint":"","generatorURL":null}]}""";

    static List<String> bases() {
        return List.of(
                Payloads.notification("GpuHot", "firing", 3),
                Payloads.notification("GpuHot", "resolved", 2),
                ALERTMANAGER_EXAMPLE,
                MINIMAL);
    }

    static List<byte[]> handWritten() {
        List<String> texts = new ArrayList<>(bases());
        String ok = Payloads.notification("X", "firing", 2);
        String alert = Payloads.alert("X", 0, "firing");
        // the whole-body cases
        texts.addAll(List.of("", " \n\t ", "null", "[]", "[1,2]", "\"x\"", "1", "true", "{}", "{} trailing",
                ok + " garbage", ok + "}", ok + "\n" + ok, ok + " 1", "[] []", "{\"version\":", "{\"version\":\"4\"", "{\"version\" \"4\"}",
                "{\"version\":\"4\",}", "{'version':'4'}", "{\"version\":NaN}", "{\"a\":01}", "[\"unterminated",
                "\"unterminated", "{\"a\":\"bad escape \\x\"}", "{\"a\":\"control \u0001 char\"}"));
        // nesting at, under and over the limit, inside an ignored field
        for (int depth : new int[] {30, 31, 32, 33, 1000}) {
            texts.add(ok.replace("\"notification_reason\":\"new\"",
                    "\"notification_reason\":" + "[".repeat(depth) + "]".repeat(depth)));
            texts.add(ok.replace("\"notification_reason\":\"new\"",
                    "\"notification_reason\":" + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)));
        }
        // every top-level field wrong, missing or null, one at a time and several at once
        for (String field : List.of("version", "status", "receiver", "groupKey", "truncatedAlerts", "alerts",
                "groupLabels", "commonLabels", "commonAnnotations", "externalURL")) {
            for (String value : List.of("null", "1", "\"x\"", "{}", "[]", "true", "{\"a\":1}", "[{}]")) {
                texts.add(replaceField(ok, field, value));
            }
        }
        // two faults at once, for every pair of fields: the one named must be the one the old order names
        List<String> topLevel = List.of("version", "status", "receiver", "groupKey", "truncatedAlerts", "alerts",
                "groupLabels", "commonLabels", "commonAnnotations", "externalURL");
        List<String> alertFields = List.of("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                "fingerprint");
        for (String wrong : List.of("[]", "null")) {
            for (String first : topLevel) {
                for (String second : topLevel) {
                    texts.add(replaceField(replaceField(ok, first, wrong), second, wrong));
                }
            }
            for (String first : alertFields) {
                for (String second : alertFields) {
                    texts.add(Payloads.notification("X", "firing",
                            List.of(alert, replaceField(replaceField(alert, first, wrong), second, wrong))));
                }
            }
        }
        for (String n : List.of("0", "-0", "-1", "1.0", "1e2", "2147483647", "2147483648", "-2147483649",
                "9223372036854775807", "9223372036854775808", "1" + "0".repeat(500), "\"3\"", "3.5e-3")) {
            texts.add(replaceField(ok, "truncatedAlerts", n));
        }
        // every alert field wrong, missing or null
        for (String field : List.of("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
                "fingerprint")) {
            for (String value : List.of("null", "1", "\"x\"", "\"\"", "{}", "[]", "{\"a\":null}", "{\"a\":\"b\"}")) {
                texts.add(Payloads.notification("X", "firing", List.of(alert, replaceField(alert, field, value))));
            }
        }
        for (String element : List.of("1", "null", "[]", "\"x\"", "{}")) {
            texts.add(Payloads.notification("X", "firing", List.of(alert, element)));
        }
        // times: Go's zero time, offsets, fractions, and what RFC 3339 or java.time refuse
        for (String time : List.of("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00", "2025-06-01T12:00:00-07:30",
                "2025-06-01T12:00:00.1Z", "2025-06-01T12:00:00.123456789Z", "2025-06-01T12:00:00.1234567891Z",
                "2025-06-01t12:00:00z", "2025-06-01 12:00:00Z", "2025-02-30T00:00:00Z", "2025-06-01T24:00:00Z",
                "2025-06-01T23:59:60Z", "2025-06-01T12:00:00", "2025-06-01T12:00:00+18:00", "+12025-06-01T12:00:00Z",
                "")) {
            texts.add(replaceField(ok, "startsAt", "\"" + time + "\""));
            texts.add(replaceField(ok, "endsAt", "\"" + time + "\""));
        }
        // field order: alerts before version, every object reversed
        texts.add(reorder(ok, true));
        texts.add(reorder(ALERTMANAGER_EXAMPLE, true));
        // repeated keys: last value wins, first position kept
        texts.add(ok.replace("{\"version\":\"4\",", "{\"version\":\"3\",\"version\":\"4\","));
        texts.add(ok.replace("{\"version\":\"4\",", "{\"version\":\"4\",\"version\":4,"));
        texts.add(ok.replace("\"alerts\":[", "\"alerts\":1,\"alerts\":["));
        texts.add(ok.replace("\"alerts\":[", "\"alerts\":[],\"alerts\":["));
        texts.add(ok.replace("\"receiver\":\"gpuwatch\"", "\"receiver\":\"gpuwatch\",\"receiver\":null"));
        texts.add(ok.replace("\"labels\":{", "\"labels\":{\"gpu\":1,\"z\":2,"));
        texts.add(ok.replace("\"labels\":{", "\"labels\":{\"gpu\":{},\"z\":\"1\",\"z\":[],"));
        texts.add(ok.replace("\"labels\":{", "\"labels\":{\"a\":1,\"b\":2,\"a\":3,"));
        texts.add(ok.replace("\"labels\":{", "\"labels\":{\"a\":1,\"b\":2,\"a\":\"3\","));
        texts.add(ok.replace("\"annotations\":{", "\"annotations\":{\"a\":null,\"b\":[],\"a\":{},"));
        texts.add(ok.replace("\"labels\":{", "\"labels\":7,\"labels\":{"));
        texts.add(ok.replace("\"labels\":{", "\"labels\":null,\"labels\":{\"gpu\":2},\"labels\":{"));
        // unicode and escapes in keys and values
        texts.add(ok.replace("GPU 0 is hot", "GPU 0 ist heiß \\u00e9 😀 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\n\\t\\b\\f\\r"));
        texts.add(ok.replace("\"severity\"", "\"sev\\u00e9rité\""));
        texts.add(ok.replace("GPU 0 is hot", "lone \\ud800 surrogate"));
        texts.add(ok.replace("GPU 0 is hot", "lone \\udc00 low surrogate"));
        texts.add(ok.replace("\"version\"", "\"\\u0076ersion\""));
        texts.add(ok.replace("\"fingerprint\":\"", "\"fingerprint\":\"\\u0000"));
        // keys at and over the name limit, used and ignored
        for (int length : new int[] {50_000, 50_001}) {
            texts.add(ok.replace("\"severity\"", "\"" + "k".repeat(length) + "\""));
            texts.add(ok.replace("\"notification_reason\":\"new\"", "\"notification_reason\":{\"" + "k".repeat(length) + "\":1}"));
        }
        // numbers that are big or odd, where they are ignored
        for (String n : List.of("1" + "0".repeat(999), "1" + "0".repeat(1000), "1e400", "-1e-400", "0." + "1".repeat(999),
                "0." + "1".repeat(1001), "-0.0", "123456789012345678901234567890")) {
            texts.add(ok.replace("\"notification_reason\":\"new\"", "\"notification_reason\":" + n));
            texts.add(ok.replace("\"notification_reason\":\"new\"", "\"notification_reason\":[" + n + "]"));
        }
        List<byte[]> bodies = new ArrayList<>(texts.stream().map(Payloads::bytes).toList());
        // a body in UTF-16 and one behind a byte-order mark: Jackson detects both encodings
        bodies.add(ok.getBytes(StandardCharsets.UTF_16BE));
        bodies.add(ok.getBytes(StandardCharsets.UTF_16));
        bodies.add(concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, Payloads.bytes(ok)));
        // invalid UTF-8 in used values, ignored values, deep ignored values, keys, and the root string
        List<String> marked = List.of(
                ok.replace("GPU 0 is hot", "GPU @@ hot"),
                ok.replace("\"notification_reason\":\"new\"", "\"notification_reason\":\"@@\""),
                ok.replace("\"notification_reason\":\"new\"", "\"notification_reason\":{\"a\":[\"x@@\"]}"),
                ok.replace("\"notification_reason\":\"new\"", "\"notification_reason\":[\"@@\"],\"version\":3"),
                ok.replace("\"notification_reason\"", "\"@@\""),
                ok.replace("\"severity\"", "\"sev@@\""),
                "\"@@\"", "[\"@@\"]", "{\"x\":\"@@\"}", "\"@@");
        byte[][] invalid = {
            {(byte) 0xC3, 0x28}, {(byte) 0x80, 0x41}, {(byte) 0xFF, 0x41}, {(byte) 0xE2, (byte) 0x82},
            {(byte) 0xE2, 0x28, (byte) 0xA1}, {(byte) 0xF0, (byte) 0x90, 0x28}, {(byte) 0xF8, (byte) 0x88},
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xC3}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
            {(byte) 0xC0, (byte) 0x80}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xED, (byte) 0xB0, (byte) 0x80},
        };
        for (String text : marked) {
            for (byte[] bad : invalid) {
                bodies.add(replaceMarker(Payloads.bytes(text), bad));
            }
        }
        // every prefix of a payload: each way a body can end too soon
        byte[] whole = Payloads.bytes(ALERTMANAGER_EXAMPLE);
        for (int length = 0; length < whole.length; length++) {
            bodies.add(Arrays.copyOf(whole, length));
        }
        return bodies;
    }

    @Test
    void handWrittenCorpusParsesAsTheTreeDid() {
        List<byte[]> corpus = handWritten();
        Map<String, Integer> outcomes = compare(corpus);
        // the corpus must reach every kind of outcome, or agreeing on it would prove little
        assertTrue(outcomes.getOrDefault("parsed", 0) >= 20, outcomes::toString);
        for (String error : List.of("empty body", "body must be a JSON object", "body is not valid UTF-8",
                "JSON nested deeper than 32 levels", "key longer than 50000 characters", "number longer than 1000 digits",
                "missing required field", "must be a string",
                "must be \"firing\" or \"resolved\"", "must be a non-negative integer", "must be an array",
                "must hold at least one alert", "must be an object", "must be an object of string values",
                "must be an RFC 3339 time string", "unsupported payload version \"x\" (expected \"4\")")) {
            assertTrue(outcomes.containsKey(error), () -> "no case gave \"" + error + "\": " + outcomes.keySet());
        }
        assertTrue(outcomes.keySet().stream().anyMatch(e -> e.startsWith("malformed JSON at line ")),
                outcomes::toString);
        assertTrue(outcomes.keySet().stream().anyMatch(e -> e.startsWith("data after the JSON value at line ")),
                outcomes::toString);
    }

    @Test
    void generatedCorpusParsesAsTheTreeDid() throws Exception {
        Random random = new Random(20250601);
        List<Object> bases = new ArrayList<>();
        ObjectMapper mapper = new ObjectMapper();
        for (String base : bases()) {
            bases.add(model(mapper.readTree(base)));
        }
        List<byte[]> corpus = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            Object doc = copy(bases.get(random.nextInt(bases.size())));
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                doc = mutate(doc, random);
            }
            byte[] body = Payloads.bytes(write(doc));
            if (random.nextInt(8) == 0) {
                body = mutateBytes(body, random);
            }
            corpus.add(body);
        }
        Map<String, Integer> outcomes = compare(corpus);
        assertTrue(outcomes.getOrDefault("parsed", 0) >= 200, outcomes::toString);
        assertTrue(outcomes.size() >= 12, () -> "too few kinds of outcome: " + outcomes);
    }

    /** Parses every body with both parsers; fails naming the first bodies that differ. Returns outcome counts. */
    private Map<String, Integer> compare(List<byte[]> corpus) {
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> differences = new ArrayList<>();
        for (byte[] body : corpus) {
            PayloadParser.Result expected = reference.parse(body);
            PayloadParser.Result actual = parser.parse(body);
            if (!expected.equals(actual) && differences.size() < 5) {
                differences.add("body " + show(body) + "\n  tree:      " + expected + "\n  streaming: " + actual);
            }
            String outcome = switch (expected) {
                case PayloadParser.Result.Parsed p -> "parsed";
                case PayloadParser.Result.Invalid(String error, String field) ->
                        error.startsWith("malformed JSON") ? "malformed JSON at line " : error;
            };
            outcomes.merge(outcome, 1, Integer::sum);
        }
        if (!differences.isEmpty()) {
            fail(String.join("\n", differences));
        }
        assertEquals(corpus.size(), outcomes.values().stream().mapToInt(Integer::intValue).sum());
        return outcomes;
    }

    // ---- a JSON model that, unlike JsonNode, holds repeated keys: objects are Obj, arrays List, numbers and
    // literals Raw, strings String --------------------------------------------------------------------------------

    record Raw(String text) {}

    /** Parallel lists so that a name may repeat. */
    record Obj(List<String> names, List<Object> values) {}

    private static Object model(JsonNode node) {
        if (node.isObject()) {
            Obj obj = new Obj(new ArrayList<>(), new ArrayList<>());
            node.properties().forEach(e -> {
                obj.names.add(e.getKey());
                obj.values.add(model(e.getValue()));
            });
            return obj;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(item -> list.add(model(item)));
            return list;
        }
        return node.isTextual() ? node.textValue() : new Raw(node.toString());
    }

    private static Object copy(Object value) {
        return switch (value) {
            case Obj obj -> new Obj(new ArrayList<>(obj.names), new ArrayList<>(obj.values.stream().map(
                    PayloadParserDifferentialTest::copy).toList()));
            case List<?> list -> new ArrayList<>(list.stream().map(PayloadParserDifferentialTest::copy).toList());
            default -> value;
        };
    }

    private static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case Obj obj -> {
                out.append('{');
                for (int i = 0; i < obj.names.size(); i++) {
                    out.append(i == 0 ? "" : ",");
                    writeString(obj.names.get(i), out);
                    out.append(':');
                    write(obj.values.get(i), out);
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    out.append(i == 0 ? "" : ",");
                    write(list.get(i), out);
                }
                out.append(']');
            }
            case Raw raw -> out.append(raw.text);
            case String text -> writeString(text, out);
            default -> throw new IllegalArgumentException(value.toString());
        }
    }

    private static void writeString(String text, StringBuilder out) {
        out.append('"');
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append("\\u%04x".formatted((int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }

    /** Values a mutation may put anywhere: right and wrong types, edge-case strings, nesting. */
    private static Object randomValue(Random random) {
        return switch (random.nextInt(24)) {
            case 0 -> "x";
            case 1 -> "";
            case 2 -> "4";
            case 3 -> "firing";
            case 4 -> "resolved";
            case 5 -> "2025-06-01T12:00:00Z";
            case 6 -> "0001-01-01T00:00:00Z";
            case 7 -> "2025-13-01T00:00:00Z";
            case 8 -> new Raw("0");
            case 9 -> new Raw("-1");
            case 10 -> new Raw("1.5");
            case 11 -> new Raw("2147483648");
            case 12 -> new Raw("true");
            case 13 -> new Raw("null");
            case 14 -> new Obj(new ArrayList<>(), new ArrayList<>());
            case 15 -> new Obj(new ArrayList<>(List.of("a", "b")), new ArrayList<>(List.of("1", "2")));
            case 16 -> new Obj(new ArrayList<>(List.of("a")), new ArrayList<>(List.of(new Raw("1"))));
            case 17 -> new ArrayList<>();
            case 18 -> new ArrayList<>(List.of(new Obj(new ArrayList<>(), new ArrayList<>())));
            case 19 -> nested(random.nextInt(40));
            case 20 -> "h\u00e9 \uD83D\uDE00 \"q\" \\ \n";
            case 21 -> new Raw("3");
            case 22 -> "2025-06-01T12:00:00.5+02:00";
            default -> "resolved ";
        };
    }

    private static Object nested(int depth) {
        Object value = new Raw("1");
        for (int i = 0; i < depth; i++) {
            value = i % 2 == 0 ? new ArrayList<>(List.of(value)) : new Obj(new ArrayList<>(List.of("n")),
                    new ArrayList<>(List.of(value)));
        }
        return value;
    }

    private static final List<String> NAMES = List.of("version", "status", "receiver", "groupKey",
            "truncatedAlerts", "alerts", "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "labels",
            "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint", "Version", "labels ", "routeLabels");

    private static Object mutate(Object doc, Random random) {
        List<Obj> objects = new ArrayList<>();
        List<List<Object>> arrays = new ArrayList<>();
        collect(doc, objects, arrays);
        Obj obj = objects.get(random.nextInt(objects.size()));
        int kind = random.nextInt(arrays.isEmpty() ? 6 : 8);
        if (obj.names.isEmpty() && kind < 4) {
            kind = 4;
        }
        int at = obj.names.isEmpty() ? 0 : random.nextInt(obj.names.size());
        switch (kind) {
            case 0 -> { // drop a field
                obj.names.remove(at);
                obj.values.remove(at);
            }
            case 1, 2 -> obj.values.set(at, randomValue(random)); // change a value, often its type
            case 3 -> { // repeat a key, before or after the original
                int where = random.nextInt(obj.names.size() + 1);
                obj.names.add(where, obj.names.get(at));
                obj.values.add(where, randomValue(random));
            }
            case 4 -> { // add a field, known or unknown
                int where = random.nextInt(obj.names.size() + 1);
                obj.names.add(where, NAMES.get(random.nextInt(NAMES.size())));
                obj.values.add(where, randomValue(random));
            }
            case 5 -> { // reorder the fields of one object
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < obj.names.size(); i++) {
                    order.add(i);
                }
                java.util.Collections.shuffle(order, random);
                List<String> names = order.stream().map(obj.names::get).toList();
                List<Object> values = order.stream().map(obj.values::get).toList();
                obj.names.clear();
                obj.names.addAll(names);
                obj.values.clear();
                obj.values.addAll(values);
            }
            default -> { // change, drop or duplicate an array element
                List<Object> array = arrays.get(random.nextInt(arrays.size()));
                if (array.isEmpty()) {
                    array.add(randomValue(random));
                } else {
                    int i = random.nextInt(array.size());
                    switch (random.nextInt(3)) {
                        case 0 -> array.remove(i);
                        case 1 -> array.set(i, randomValue(random));
                        default -> array.add(copy(array.get(i)));
                    }
                }
            }
        }
        return doc;
    }

    @SuppressWarnings("unchecked")
    private static void collect(Object value, List<Obj> objects, List<List<Object>> arrays) {
        if (value instanceof Obj obj) {
            objects.add(obj);
            obj.values.forEach(v -> collect(v, objects, arrays));
        } else if (value instanceof List<?> list) {
            arrays.add((List<Object>) list);
            list.forEach(v -> collect(v, objects, arrays));
        }
    }

    private static byte[] mutateBytes(byte[] body, Random random) {
        int at = random.nextInt(body.length);
        byte[] replacements = {(byte) 0x80, (byte) 0xC3, (byte) 0xE2, (byte) 0xF0, (byte) 0xFF, '{', '}', '"', ',',
            ':', '[', '\\', ' ', '\n'};
        return switch (random.nextInt(3)) {
            case 0 -> Arrays.copyOf(body, at);
            case 1 -> {
                byte[] copy = body.clone();
                copy[at] = replacements[random.nextInt(replacements.length)];
                yield copy;
            }
            default -> concat(Arrays.copyOf(body, at), concat(new byte[] {replacements[random.nextInt(
                    replacements.length)]}, Arrays.copyOfRange(body, at, body.length)));
        };
    }

    // ---- helpers for the hand-written corpus ------------------------------------------------------------------

    /** Sets the first occurrence of {@code "name":value} (a string, int, null, flat object or array) to {@code json}. */
    private static String replaceField(String payload, String name, String json) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "\"" + name + "\":(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9]+|null|\\{[^{}]*\\}|\\[)").matcher(payload);
        if (!m.find()) {
            throw new IllegalArgumentException(name + " not in " + payload);
        }
        if (m.group(1).equals("[")) { // the alerts array: replace up to its closing bracket
            int depth = 0;
            int end = m.start(1);
            do {
                char c = payload.charAt(end++);
                depth += c == '[' ? 1 : c == ']' ? -1 : 0;
            } while (depth > 0);
            return payload.substring(0, m.start(1)) + json + payload.substring(end);
        }
        return payload.substring(0, m.start(1)) + json + payload.substring(m.end(1));
    }

    private static String reorder(String payload, boolean reverse) {
        try {
            Object doc = model(new ObjectMapper().readTree(payload));
            List<Obj> objects = new ArrayList<>();
            collect(doc, objects, new ArrayList<>());
            for (Obj obj : objects) {
                if (reverse) {
                    java.util.Collections.reverse(obj.names);
                    java.util.Collections.reverse(obj.values);
                }
            }
            return write(doc);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] replaceMarker(byte[] body, byte[] bytes) {
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("@@");
        return concat(concat(Arrays.copyOf(body, at), bytes), Arrays.copyOfRange(body, at + 2, body.length));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String show(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        boolean clean = Arrays.equals(body, text.getBytes(StandardCharsets.UTF_8));
        String shown = clean ? text : "hex " + HexFormat.of().formatHex(body);
        return shown.length() > 600 ? shown.substring(0, 600) + "..." : shown;
    }
}
