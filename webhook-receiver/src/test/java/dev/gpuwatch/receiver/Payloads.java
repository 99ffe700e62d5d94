package dev.gpuwatch.receiver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Alertmanager webhook bodies (version 4) for tests, shaped like what Alertmanager 0.25 sends. */
public final class Payloads {

    private Payloads() {}

    /** A group {@code group} of {@code alerts} alerts, all firing or all resolved. */
    public static String notification(String group, String status, int alerts) {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < alerts; i++) {
            items.add(alert(group, i, status));
        }
        return notification(group, status, items);
    }

    public static String notification(String group, String status, List<String> alerts) {
        return """
                {"version":"4","groupKey":"{}:{alertname=\\"%s\\"}","truncatedAlerts":0,"status":"%s",\
                "receiver":"gpuwatch","groupLabels":{"alertname":"%s"},\
                "commonLabels":{"alertname":"%s","severity":"critical"},"commonAnnotations":{},\
                "externalURL":"http://alertmanager:9093","notification_reason":"new","alerts":[%s]}"""
                .formatted(group, status, group, group, String.join(",", alerts));
    }

    public static String alert(String group, int i, String status) {
        String endsAt = status.equals("resolved") ? "2025-06-01T12:05:00Z" : "0001-01-01T00:00:00Z";
        return """
                {"status":"%s","labels":{"alertname":"%s","severity":"critical","gpu":"%d"},\
                "annotations":{"summary":"GPU %d is hot"},"startsAt":"2025-06-01T12:00:00.123Z",\
                "endsAt":"%s","generatorURL":"http://prometheus:9090/graph","fingerprint":"%s%04d"}"""
                .formatted(status, group, i, i, endsAt, Integer.toHexString(group.hashCode()), i);
    }

    public static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }
}
