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
import java.util.function.Supplier;

/**
 * One {@link TargetPoller} per target (static or discovered), by name. Once {@link #start()}ed, each polls on a
 * virtual thread of its own every {@code polling.interval}; before that, polls happen only when asked for.
 */
final class Pollers implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Pollers.class.getName());

    private final Supplier<HttpClient> client;
    private final InferenceSettings.Polling polling;
    private final ScrapeTimeouts scrapeTimeouts;
    private final Runnable published;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final ConcurrentSkipListMap<String, Running> running = new ConcurrentSkipListMap<>();
    private boolean started; // guarded by this

    /** A poller and the thread that runs it (none before start). */
    private record Running(TargetPoller poller, Optional<Thread> thread) {
        /** Its thread ended though nobody stopped it (a stopped target leaves the map before its thread ends). */
        boolean dead(boolean closing) {
            return !closing && thread.isPresent() && !thread.get().isAlive();
        }
    }

    /** @param published told after every poll result is published and after a target goes away */
    Pollers(Supplier<HttpClient> client, InferenceSettings.Polling polling, ScrapeTimeouts scrapeTimeouts, Runnable published) {
        this.client = client;
        this.polling = polling;
        this.scrapeTimeouts = scrapeTimeouts;
        this.published = published;
    }

    synchronized void add(TargetSettings t) {
        add(new TargetPoller(t, client, polling, scrapeTimeouts, published));
    }

    /** Adds a poller built elsewhere: for testing only (one with an adapter that throws). */
    synchronized void add(TargetPoller p) {
        running.put(p.target().name(), new Running(p, started ? Optional.of(loop(p)) : Optional.empty()));
    }

    /** The thread polling {@code name}, once started: for testing only (a thread that dies). */
    Optional<Thread> thread(String name) {
        return Optional.ofNullable(running.get(name)).flatMap(Running::thread);
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

    /**
     * The last result of every target, in name order. A target whose poller thread has died is down with
     * {@code internal_error}: its last result would otherwise be served as fresh for good.
     */
    List<TargetState> states() {
        List<TargetState> out = new ArrayList<>(running.size());
        boolean closing = closed.getCount() == 0;
        for (Running r : running.values()) {
            out.add(r.dead(closing) ? r.poller().stop() : r.poller().state());
        }
        return out;
    }

    /** The targets whose poller thread has died, in name order; readiness names them. */
    List<String> dead() {
        boolean closing = closed.getCount() == 0;
        return running.values().stream().filter(r -> r.dead(closing)).map(r -> r.poller().target().name()).toList();
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

    /**
     * Polls {@code p} every interval until it is stopped (closed, or interrupted when its target goes away).
     * Nothing a poll throws ends the loop: {@link TargetPoller#pollOnce} turns every failure of the poll into a
     * down target, and what fails around it (telling the renderer, logging) is caught here, the target set down.
     * Should the thread die all the same, {@link #states} and {@link #dead} report it.
     */
    private void pollLoop(TargetPoller p) {
        try {
            polls(p);
        } finally {
            Running r = running.get(p.target().name());
            if (closed.getCount() > 0 && r != null && r.poller() == p) {
                // nobody stopped it: serve it down now, not its last values until something else renders
                p.stop();
                published.run();
            }
        }
    }

    private void polls(TargetPoller p) {
        long interval = polling.interval().toNanos();
        long next = System.nanoTime();
        while (closed.getCount() > 0 && !Thread.currentThread().isInterrupted()) {
            try {
                p.pollOnce();
            } catch (Throwable t) {
                p.failed(t);
            }
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
