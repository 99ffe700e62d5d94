package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.AdapterOptions;
import dev.gpuwatch.exporter.modelserver.adapter.Adapters;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.adapter.ServerAdapter;
import java.lang.System.Logger.Level;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Polls one target and keeps the result of its last poll. One poller per target, on its own schedule, so a target
 * is polled once per interval however many Prometheus servers scrape, and a slow target delays no one else.
 */
final class TargetPoller {
    private static final System.Logger LOG = System.getLogger(TargetPoller.class.getName());

    private final TargetSettings target;
    private final ServerAdapter adapter;
    private final Supplier<HttpClient> client;
    private final InferenceSettings.Polling polling;
    private final ScrapeTimeouts scrapeTimeouts;
    private final AtomicReference<TargetState> state;
    private final Runnable published;

    /** @param published told after every poll result is published, on the polling thread */
    TargetPoller(TargetSettings target, Supplier<HttpClient> client, InferenceSettings.Polling polling,
            ScrapeTimeouts scrapeTimeouts, Runnable published) {
        this(target, Adapters.forType(target.type(), target.mapping()), client, polling, scrapeTimeouts, published);
    }

    /** With {@code adapter} instead of the target type's: for testing only (an adapter that throws). */
    TargetPoller(TargetSettings target, ServerAdapter adapter, Supplier<HttpClient> client, InferenceSettings.Polling polling,
            ScrapeTimeouts scrapeTimeouts, Runnable published) {
        this.target = target;
        this.adapter = adapter;
        this.client = client;
        this.polling = polling;
        this.scrapeTimeouts = scrapeTimeouts;
        this.state = new AtomicReference<>(TargetState.pending(target));
        this.published = published;
    }

    TargetSettings target() {
        return target;
    }

    TargetState state() {
        return state.get();
    }

    /** The deadline of the next poll: the target's timeout, below the scrape timeout and the poll interval. */
    Duration deadline() {
        Duration d = scrapeTimeouts.clamp(target.timeout());
        return d.compareTo(polling.interval()) > 0 ? polling.interval() : d;
    }

    /**
     * Polls once, synchronously, publishes the result and tells {@code published}. Whatever the poll throws ends
     * as a down target with a reason, an {@link Error} included: an {@link OutOfMemoryError} of one poll must
     * leave the target down (its old values gone), not frozen at its last values.
     */
    TargetState pollOnce() {
        long start = System.nanoTime();
        TargetState previous = state.get();
        TargetState next;
        try {
            HttpFetcher fetcher = new HttpFetcher(client.get(), target, deadline(), polling.maxResponseBytes(),
                    polling.maxSeries(), polling.maxLabelValueLength());
            Normalized n = adapter.poll(fetcher, new AdapterOptions(target.loraAdapters()));
            int series = n.values().size() + n.histograms().stream().mapToInt(h -> h.upperBounds().length + 2).sum();
            if (series > polling.maxSeries()) {
                throw new PollFailure(Reason.TOO_MANY_SERIES, target.name() + ": " + series + " normalised series");
            }
            checkLabelValues(n);
            next = new TargetState(target, previous.baseLabels(), Exposure.prepare(n, previous.baseLabels()),
                    n.models(), Optional.empty(), Optional.of(seconds(start)), n.missing());
            if (previous.lastError().isPresent()) {
                LOG.log(Level.INFO, "model server " + target.name() + " is up again");
            }
            logMissing(previous, next);
        } catch (PollFailure f) {
            next = down(previous, f.reason(), start);
            if (!previous.lastError().equals(next.lastError())) {
                LOG.log(Level.WARNING, "model server " + target.name() + " is down (" + f.reason().label() + "): "
                        + f.getMessage());
            }
        } catch (RuntimeException e) {
            // an adapter bug must not kill the poller; report it as unparseable input
            next = down(previous, Reason.PARSE_ERROR, start);
            LOG.log(Level.WARNING, "model server " + target.name() + ": unexpected answer: " + e);
        } catch (Error e) {
            // what the poll held is garbage now, so there is room to publish and log; no stack trace (logfmt)
            next = down(previous, Reason.INTERNAL_ERROR, start);
            if (!previous.lastError().equals(next.lastError())) {
                LOG.log(Level.ERROR, "model server " + target.name() + " is down (internal_error): the poll failed: "
                        + e);
            }
        }
        state.set(next);
        published.run();
        return next;
    }

    /**
     * What {@link Pollers} calls when {@link #pollOnce} itself threw (publishing or logging failed): the target is
     * down with {@code internal_error}, so an older result is not left standing.
     */
    void failed(Throwable t) {
        stop();
        try {
            LOG.log(Level.ERROR, "model server " + target.name() + ": polling failed: " + t);
            published.run();
        } catch (Throwable again) {
            // nothing more to do: the state is down, the next poll tries again
        }
    }

    /**
     * Sets this target down with {@code internal_error} unless it already is, and returns that state: the same
     * object on every call until the next poll, so renders see no change.
     */
    TargetState stop() {
        return state.updateAndGet(s -> s.lastError().equals(Optional.of(Reason.INTERNAL_ERROR)) && s.points().isEmpty()
                ? s : s.stopped());
    }

    /** Down: the reason, and no values (old ones are never served as fresh); models kept for the GPU join. */
    private TargetState down(TargetState previous, Reason reason, long start) {
        return new TargetState(target, previous.baseLabels(), Map.of(), previous.models(), Optional.of(reason),
                Optional.of(seconds(start)));
    }

    /**
     * The label-value limit on what the adapter made of the answers: JSON model names (Triton, TorchServe,
     * Ollama) are not read by the text parser, which checks its own label values as it reads.
     */
    private void checkLabelValues(Normalized n) throws PollFailure {
        List<Map<String, String>> labelSets = new ArrayList<>();
        n.values().forEach(v -> labelSets.add(v.labels()));
        n.histograms().forEach(h -> labelSets.add(h.labels()));
        for (String model : n.models()) {
            tooLong("model", model);
        }
        for (Map<String, String> labels : labelSets) {
            for (Map.Entry<String, String> e : labels.entrySet()) {
                tooLong(e.getKey(), e.getValue());
            }
        }
    }

    private void tooLong(String label, String value) throws PollFailure {
        int limit = polling.maxLabelValueLength();
        if (value.length() > limit / 3 && value.getBytes(StandardCharsets.UTF_8).length > limit) {
            throw new PollFailure(Reason.LABEL_TOO_LONG, target.name() + ": the value of label " + label
                    + " is longer than " + limit + " bytes");
        }
    }

    /** Logs when the set of missing parts (and their reasons) changes, not on every poll. */
    private void logMissing(TargetState previous, TargetState next) {
        List<String> before = previous.missing().stream().map(m -> m.part() + " (" + m.reason().label() + ")").toList();
        List<String> now = next.missing().stream().map(m -> m.part() + " (" + m.reason().label() + ")").toList();
        if (before.equals(now)) {
            return;
        }
        if (now.isEmpty()) {
            LOG.log(Level.INFO, "model server " + target.name() + " answers every part again");
            return;
        }
        LOG.log(Level.WARNING, "model server " + target.name() + " is up without " + String.join(", ", now) + ": "
                + next.missing().stream().map(Normalized.Missing::message).collect(Collectors.joining("; ")));
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
