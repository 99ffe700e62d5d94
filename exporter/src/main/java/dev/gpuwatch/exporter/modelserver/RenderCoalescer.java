package dev.gpuwatch.exporter.modelserver;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Renders the model-server series for scrapes after polls end, once for all the polls that end within
 * {@code wait} of each other. Targets polled on the same interval finish within milliseconds of each other, so one
 * render (and one compression) covers all of them instead of one per poll (measured: two renders of 850 KB per
 * 5 s cycle with 4 targets, each taking a core from scrapes on a 2-core node; see docs/benchmarks.md).
 */
final class RenderCoalescer {
    private static final System.Logger LOG = System.getLogger(RenderCoalescer.class.getName());

    private final Duration wait;
    private final Runnable render;
    private final AtomicBoolean pending = new AtomicBoolean();

    /** @param wait how long a render waits for other polls to end; zero renders at once on the caller's thread */
    RenderCoalescer(Duration wait, Runnable render) {
        this.wait = wait;
        this.render = render;
    }

    /** A poll result was published (or a target went away): render soon, on a thread of its own. */
    void request() {
        if (wait.isZero()) {
            renderNow();
            return;
        }
        if (pending.compareAndSet(false, true)) {
            Thread.ofVirtual().name("inference-render").start(() -> {
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    return; // closing
                }
                pending.set(false); // a poll publishing from here on is in this render or schedules the next
                renderNow();
            });
        }
    }

    private void renderNow() {
        try {
            render.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "rendering the model-server series failed; scrapes keep the previous ones: " + e);
        }
    }
}
