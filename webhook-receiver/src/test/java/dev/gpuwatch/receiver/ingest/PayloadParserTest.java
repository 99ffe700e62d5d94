package dev.gpuwatch.receiver.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.alert.Notification;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PayloadParserTest {

    private final PayloadParser parser = new PayloadParser();

    private Notification parsed(String json) {
        return assertInstanceOf(PayloadParser.Result.Parsed.class, parser.parse(Payloads.bytes(json))).notification();
    }

    private PayloadParser.Result.Invalid invalid(byte[] body) {
        return assertInstanceOf(PayloadParser.Result.Invalid.class, parser.parse(body));
    }

    @Test
    void readsAlertmanagerPayloadAndIgnoresUnknownFields() {
        Notification n = parsed(Payloads.notification("GpuHot", "firing", 3));
        assertEquals("4", n.version());
        assertEquals("{}:{alertname=\"GpuHot\"}", n.groupKey());
        assertEquals("gpuwatch", n.receiver());
        assertEquals(3, n.alerts().size());
        assertEquals("GpuHot", n.alerts().get(2).alertName());
        assertEquals(Instant.parse("2025-06-01T12:00:00.123Z"), n.alerts().get(0).startsAt());
        assertEquals(Optional.empty(), n.alerts().get(0).endsAt(), "Go's zero time means: not ended");
        assertEquals("http://alertmanager:9093", n.externalUrl());
    }

    @Test
    void resolvedAlertKeepsItsEndTime() {
        Notification n = parsed(Payloads.notification("GpuHot", "resolved", 1));
        assertEquals(Optional.of(Instant.parse("2025-06-01T12:05:00Z")), n.alerts().get(0).endsAt());
        assertTrue(n.isResolved());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            label value is a number        | "gpu":"1"                              | "gpu":1                               | alerts[1].labels.gpu     | must be a string
            labels is a list               | "labels":{"alertname":"X","severity":"critical","gpu":"1"} | "labels":["x"] | alerts[1].labels | must be an object of string values
            startsAt is not a time         | "startsAt":"2025-06-01T12:00:00.123Z"  | "startsAt":"yesterday"                | alerts[1].startsAt       | must be an RFC 3339 time string
            alert status unknown           | {"status":"firing"                     | {"status":"burning"                   | alerts[1].status         | must be "firing" or "resolved"
            annotation value is an object  | "summary":"GPU 1 is hot"               | "summary":{"a":"b"}                   | alerts[1].annotations.summary | must be a string
            fingerprint is a number        | "fingerprint":"                         | "fingerprint":7,"x":"                 | alerts[1].fingerprint    | must be a string
            """)
    void wrongTypesNameTheField(String name, String from, String to, String field, String error) {
        String alert0 = Payloads.alert("X", 0, "firing");
        String alert1 = Payloads.alert("X", 1, "firing").replaceFirst(java.util.regex.Pattern.quote(from),
                java.util.regex.Matcher.quoteReplacement(to));
        assertNotEquals(Payloads.alert("X", 1, "firing"), alert1, "the test must change the payload");
        var result = invalid(Payloads.bytes(Payloads.notification("X", "firing", List.of(alert0, alert1))));
        assertEquals(field, result.field());
        assertEquals(error, result.error());
    }

    @ParameterizedTest(name = "missing {0}")
    @CsvSource({"version", "status", "receiver", "groupKey", "alerts"})
    void missingTopLevelFieldIsNamed(String field) throws Exception {
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(Payloads.notification("X", "firing", 1));
        json.remove(field);
        var result = invalid(mapper.writeValueAsBytes(json));
        assertEquals(field, result.field());
        assertEquals("missing required field", result.error());
    }

    @Test
    void missingAlertFieldsAreNamed() {
        var noLabels = invalid(Payloads.bytes(Payloads.notification("X", "firing",
                List.of("{\"status\":\"firing\",\"startsAt\":\"2025-01-01T00:00:00Z\"}"))));
        assertEquals("alerts[0].labels", noLabels.field());
        var noStart = invalid(Payloads.bytes(Payloads.notification("X", "firing",
                List.of("{\"status\":\"firing\",\"labels\":{}}"))));
        assertEquals("alerts[0].startsAt", noStart.field());
    }

    @Test
    void emptyAlertListAndWrongVersionAreRejected() {
        assertEquals("alerts", invalid(Payloads.bytes(Payloads.notification("X", "firing", List.of()))).field());
        var v3 = invalid(Payloads.bytes(Payloads.notification("X", "firing", 1).replace("\"version\":\"4\"",
                "\"version\":\"3\"")));
        assertEquals("version", v3.field());
        var numeric = invalid(Payloads.bytes(Payloads.notification("X", "firing", 1).replace("\"version\":\"4\"",
                "\"version\":4")));
        assertEquals("must be a string", numeric.error());
    }

    @Test
    void invalidUtf8IsRejected() {
        byte[] body = Payloads.bytes(Payloads.notification("X", "firing", 1).replace("GPU 0 is hot", "GPU @@ hot"));
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("@@");
        body[at] = (byte) 0xC3; // a lead byte followed by a byte that cannot continue it
        body[at + 1] = (byte) 0x28;
        assertEquals("body is not valid UTF-8", invalid(body).error());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "overlong NUL, C080", "overlong slash, E080AF", "overlong four bytes, F08080AF",
        "high surrogate, EDA080", "low surrogate, EDB080", "above U+10FFFF, F4908080", "five bytes, F888808080",
        "byte FE, FE", "cut short, E282"})
    void utf8ThatJacksonAloneWouldAcceptIsRejected(String name, String hex) {
        byte[] body = Payloads.bytes(Payloads.notification("X", "firing", 1).replace("GPU 0 is hot", "GPU @@ hot"));
        String text = new String(body, StandardCharsets.ISO_8859_1);
        byte[] bad = java.util.HexFormat.of().parseHex(hex);
        int at = text.indexOf("@@");
        byte[] marked = new byte[body.length - 2 + bad.length];
        System.arraycopy(body, 0, marked, 0, at);
        System.arraycopy(bad, 0, marked, at, bad.length);
        System.arraycopy(body, at + 2, marked, at + bad.length, body.length - at - 2);
        assertEquals(new PayloadParser.Result.Invalid("body is not valid UTF-8", ""), parser.parse(marked));
    }

    @Test
    void aBodyInUtf16IsRejected() {
        String ok = Payloads.notification("X", "firing", 1);
        assertEquals("body is not valid UTF-8", invalid(ok.getBytes(StandardCharsets.UTF_16BE)).error());
        assertEquals("body is not valid UTF-8", invalid(ok.getBytes(StandardCharsets.UTF_16LE)).error());
        assertEquals("body is not valid UTF-8", invalid(ok.getBytes(StandardCharsets.UTF_16)).error());
    }

    @Test
    void nothingMayFollowTheJsonObject() {
        String ok = Payloads.notification("X", "firing", 1);
        var second = invalid(Payloads.bytes(ok + "\n" + Payloads.notification("Y", "firing", 1)));
        assertEquals(new PayloadParser.Result.Invalid("data after the JSON value at line 2, column 1", ""), second);
        assertTrue(invalid(Payloads.bytes(ok + " garbage")).error().startsWith("malformed JSON at line 1"));
        assertEquals("data after the JSON value at line 1, column 4", invalid(Payloads.bytes("[] 1")).error());
        parsed(ok + " \n\t\r\n"); // whitespace is no data
    }

    @Test
    void anOverlongKeyOrNumberIsNamedAsSuchWithItsPlace() {
        String ok = Payloads.notification("X", "firing", 1);
        String longName = "n".repeat(50_001);
        assertEquals(new PayloadParser.Result.Invalid("key longer than 50000 characters", "commonLabels"),
                parser.parse(Payloads.bytes(ok.replace("\"severity\"", "\"" + longName + "\""))));
        parsed(ok.replace("\"severity\"", "\"" + "n".repeat(50_000) + "\""));
        assertEquals(new PayloadParser.Result.Invalid("number longer than 1000 digits", "notification_reason[1]"),
                parser.parse(Payloads.bytes(ok.replace("\"notification_reason\":\"new\"",
                        "\"notification_reason\":[1, " + "1".repeat(1001) + "]"))));
        assertEquals(new PayloadParser.Result.Invalid("key longer than 50000 characters", ""),
                parser.parse(Payloads.bytes("{\"" + longName + "\":1}")));
    }

    @Test
    void deepNestingIsRejectedBeforeItCanHurt() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        var result = invalid(Payloads.bytes("{\"version\":\"4\",\"x\":" + deep + "}"));
        assertEquals("JSON nested deeper than 32 levels", result.error());
    }

    @Test
    void notJsonOrNotAnObject() {
        assertTrue(invalid(Payloads.bytes("{\"version\":")).error().startsWith("malformed JSON"));
        assertEquals("body must be a JSON object", invalid(Payloads.bytes("[1,2]")).error());
        assertEquals("empty body", invalid(new byte[0]).error());
    }

    @Test
    void idempotencyKeyIgnoresAlertOrderButNotContent() {
        String a0 = Payloads.alert("X", 0, "firing");
        String a1 = Payloads.alert("X", 1, "firing");
        String key = PayloadParser.idempotencyKey(parsed(Payloads.notification("X", "firing", List.of(a0, a1))));
        // an HA peer may list the alerts in another order and differ in fields outside the key
        String peer = Payloads.notification("X", "firing", List.of(a1, a0)).replace("http://alertmanager:9093",
                "http://alertmanager-2:9093");
        assertEquals(key, PayloadParser.idempotencyKey(parsed(peer)));
        String resolved = Payloads.notification("X", "resolved", List.of(a0, Payloads.alert("X", 1, "resolved")));
        assertNotEquals(key, PayloadParser.idempotencyKey(parsed(resolved)));
        assertNotEquals(key, PayloadParser.idempotencyKey(parsed(Payloads.notification("X", "firing", List.of(a0)))));
    }
}
