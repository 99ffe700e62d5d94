package dev.gpuwatch.exporter.modelserver;

import java.lang.System.Logger.Level;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One {@link TargetPoller} per target (static or discovered), by name. Once {@link #start()}ed, each polls on a
 * virtual thread of its own every {@code polling.interval}; before that, polls happen only when asked for.
 */
final class Pollers implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Pollers.class.getName());

    private final HttpClient client;
    private final InferenceSettings.Polling polling;
    private final ScrapeTimeouts scrapeTimeouts;
    private final Runnable published;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final ConcurrentSkipListMap<String, Running> running = new ConcurrentSkipListMap<>();
    private boolean started; // guarded by this

    /** A poller and the thread that runs it (none before start). */
    private record Running(TargetPoller poller, Optional<Thread> thread) {}

    /** @param published told after every poll result is published and after a target goes away */
    Pollers(HttpClient client, InferenceSettings.Polling polling, ScrapeTimeouts scrapeTimeouts, Runnable published) {
        this.client = client;
        this.polling = polling;
        this.scrapeTimeouts = scrapeTimeouts;
        this.published = published;
    }

    synchronized void add(TargetSettings t) {
        TargetPoller p = new TargetPoller(t, client, polling, scrapeTimeouts, published);
        running.put(t.name(), new Running(p, started ? Optional.of(loop(p)) : Optional.empty()));
    }

    /** Starts polling every target in the background, and every target added from now on. */
    synchronized void start() {
        started = true;
        running.replaceAll((name, r) -> new Running(r.poller(), Optional.of(loop(r.poller()))));
    }

    /** Stops the discovered targets that are not {@code wanted} and starts the wanted ones not polled yet. */
    synchronized void reconcile(Map<String, TargetSettings> wanted) {
        for (Map.Entry<String, Running> e : running.entrySet()) {
            TargetSettings t = e.getValue().poller().target();
            if (t.discovered() && !t.equals(wanted.get(t.name()))) {
                running.remove(e.getKey());
                e.getValue().thread().ifPresent(Thread::interrupt);
                LOG.log(Level.INFO, "discovered model server " + t.name() + " is gone");
                published.run(); // its series go now, not with the next poll of another target
            }
        }
        for (TargetSettings t : wanted.values()) {
            if (!running.containsKey(t.name())) {
                add(t);
                LOG.log(Level.INFO, "discovered model server " + t.name() + " (" + t.type().label() + ") at " + t.url());
            }
        }
    }

    /** The last result of every target, in name order. */
    List<TargetState> states() {
        List<TargetState> out = new ArrayList<>(running.size());
        for (Running r : running.values()) {
            out.add(r.poller().state());
        }
        return out;
    }

    Optional<TargetPoller> poller(String name) {
        return Optional.ofNullable(running.get(name)).map(Running::poller);
    }

    /** Polls every target once, concurrently, and waits for all of them. */
    void pollAll() {
        List<Thread> polls = new ArrayList<>();
        for (Running r : running.values()) {
            polls.add(Thread.ofVirtual().start(r.poller()::pollOnce));
        }
        for (Thread t : polls) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        closed.countDown();
        running.values().forEach(r -> r.thread().ifPresent(Thread::interrupt));
    }

    private Thread loop(TargetPoller p) {
        return Thread.ofVirtual().name("inference-poll-" + p.target().name()).start(() -> pollLoop(p));
    }

    private void pollLoop(TargetPoller p) {
        long interval = polling.interval().toNanos();
        long next = System.nanoTime();
        while (closed.getCount() > 0 && !Thread.currentThread().isInterrupted()) {
            p.pollOnce();
            next += interval;
            long wait = next - System.nanoTime();
            if (wait < 0) {
                next = System.nanoTime(); // a poll overran its interval: do not try to catch up
                wait = 0;
            }
            try {
                if (closed.await(wait, TimeUnit.NANOSECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return; // stopped: closed, or the target went away
            }
        }
    }
}
