package dev.gpuwatch.probe.simulated;

import java.util.ArrayList;
import java.util.List;

/**
 * The fleet's scenario history: which scenario ran from when, in nanoseconds since the fleet opened. Keeping the
 * whole history (a handful of entries) lets every value be a function of time alone: counters add up what each
 * past scenario produced, and the thermal lag looks at power under whatever scenario ran a minute ago.
 * Not thread-safe: the fleet guards it.
 */
final class Timeline {

    /** One scenario's run, from {@code startNanos} until the next segment starts. */
    record Segment(Scenario scenario, long startNanos, long endNanos, long faultAfterNanos) {

        /** Nanoseconds since this segment's fault began at time {@code t}; negative before it. */
        long sinceFault(long t) {
            return t - startNanos - faultAfterNanos;
        }

        /**
         * The last instant whose events this segment counts up to {@code t}: {@code t} itself, or the instant of
         * the next switch (inclusive, so an event counted just before a switch is still counted after it).
         */
        long clip(long t) {
            return Math.min(t, endNanos);
        }
    }

    private final long faultAfterNanos;
    private final List<Segment> segments = new ArrayList<>();

    Timeline(Scenario initial, long faultAfterNanos) {
        this.faultAfterNanos = faultAfterNanos;
        segments.add(new Segment(initial, 0, Long.MAX_VALUE, faultAfterNanos));
    }

    /** The segment running at {@code t}. */
    Segment at(long t) {
        for (int i = segments.size() - 1; i > 0; i--) {
            if (segments.get(i).startNanos() <= t) {
                return segments.get(i);
            }
        }
        return segments.getFirst();
    }

    /** Every segment that started at or before {@code t}, oldest first. */
    List<Segment> upTo(long t) {
        List<Segment> started = new ArrayList<>(segments.size());
        for (Segment segment : segments) {
            if (segment.startNanos() <= t) {
                started.add(segment);
            }
        }
        return started;
    }

    Scenario current() {
        return segments.getLast().scenario();
    }

    /** Starts {@code next} at {@code t}, which must not precede the current segment's start. */
    void switchTo(Scenario next, long t) {
        Segment last = segments.removeLast();
        if (t > last.startNanos()) {
            segments.add(new Segment(last.scenario(), last.startNanos(), t, faultAfterNanos));
        }
        segments.add(new Segment(next, t, Long.MAX_VALUE, faultAfterNanos));
    }
}
