package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.AdapterOptions;
import dev.gpuwatch.exporter.modelserver.adapter.Adapters;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.adapter.ServerAdapter;
import java.lang.System.Logger.Level;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Polls one target and keeps the result of its last poll. One poller per target, on its own schedule, so a target
 * is polled once per interval however many Prometheus servers scrape, and a slow target delays no one else.
 */
final class TargetPoller {
    private static final System.Logger LOG = System.getLogger(TargetPoller.class.getName());

    private final TargetSettings target;
    private final ServerAdapter adapter;
    private final HttpClient client;
    private final InferenceSettings.Polling polling;
    private final ScrapeTimeouts scrapeTimeouts;
    private final AtomicReference<TargetState> state;
    private final Runnable published;

    /** @param published told after every poll result is published, on the polling thread */
    TargetPoller(TargetSettings target, HttpClient client, InferenceSettings.Polling polling,
            ScrapeTimeouts scrapeTimeouts, Runnable published) {
        this.target = target;
        this.adapter = Adapters.forType(target.type(), target.mapping());
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

    /** Polls once, synchronously, publishes the result and tells {@code published}. */
    TargetState pollOnce() {
        long start = System.nanoTime();
        TargetState previous = state.get();
        TargetState next;
        try {
            HttpFetcher fetcher = new HttpFetcher(client, target, deadline(), polling.maxResponseBytes(),
                    polling.maxSeries());
            Normalized n = adapter.poll(fetcher, new AdapterOptions(target.loraAdapters()));
            int series = n.values().size() + n.histograms().stream().mapToInt(h -> h.upperBounds().length + 2).sum();
            if (series > polling.maxSeries()) {
                throw new PollFailure(Reason.TOO_MANY_SERIES, target.name() + ": " + series + " normalised series");
            }
            next = new TargetState(target, previous.baseLabels(), Exposure.prepare(n, previous.baseLabels()),
                    n.models(), Optional.empty(), Optional.of(seconds(start)), n.missing());
            if (previous.lastError().isPresent()) {
                LOG.log(Level.INFO, "model server " + target.name() + " is up again");
            }
            logMissing(previous, next);
        } catch (PollFailure f) {
            next = new TargetState(target, previous.baseLabels(), java.util.Map.of(), previous.models(),
                    Optional.of(f.reason()), Optional.of(seconds(start)));
            if (!previous.lastError().equals(next.lastError())) {
                LOG.log(Level.WARNING, "model server " + target.name() + " is down (" + f.reason().label() + "): "
                        + f.getMessage());
            }
        } catch (RuntimeException e) {
            // an adapter bug must not kill the poller; report it as unparseable input
            next = new TargetState(target, previous.baseLabels(), java.util.Map.of(), previous.models(),
                    Optional.of(Reason.PARSE_ERROR), Optional.of(seconds(start)));
            LOG.log(Level.WARNING, "model server " + target.name() + ": unexpected answer: " + e);
        }
        state.set(next);
        published.run();
        return next;
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
