package dev.gpuwatch.receiver.inbox;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Times as the inbox shows them: UTC to the second, with the age beside it, so nobody converts at 3 a.m. */
final class Times {

    private static final DateTimeFormatter UTC = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Times() {}

    /** One time for a template: {@code utc} ("2026-12-04 03:12:09 UTC"), {@code iso}, {@code age} ("5 min ago"). */
    record Shown(String utc, String iso, String age) {}

    static Shown show(Instant at, Instant now) {
        return new Shown(UTC.format(at), at.toString(), relative(at, now));
    }

    /** "just now", "42 s ago", "5 min ago", "3 h 20 min ago", "2 d 4 h ago"; "in 30 s" for the future. */
    static String relative(Instant at, Instant now) {
        Duration d = Duration.between(at, now);
        boolean future = d.isNegative();
        d = d.abs();
        if (d.toSeconds() < 1) {
            return "just now";
        }
        String amount;
        if (d.toMinutes() < 1) {
            amount = d.toSeconds() + " s";
        } else if (d.toHours() < 1) {
            amount = d.toMinutes() + " min";
        } else if (d.toDays() < 1) {
            amount = d.toHours() + " h" + (d.toMinutesPart() == 0 ? "" : " " + d.toMinutesPart() + " min");
        } else {
            amount = d.toDays() + " d" + (d.toHoursPart() == 0 ? "" : " " + d.toHoursPart() + " h");
        }
        return future ? "in " + amount : amount + " ago";
    }
}
