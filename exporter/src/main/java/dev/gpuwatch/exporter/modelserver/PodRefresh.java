package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.kubernetes.KubernetesPods;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Refreshes the node's pod list at most once per {@code kubernetes.refresh_interval}, from the process scan: the
 * scan runs more often than pods change, and each refresh is a request to the API server.
 */
final class PodRefresh {
    private final Optional<KubernetesPods> pods;
    private final Duration every;
    private final LongSupplier nanoTime;
    private Optional<Long> last = Optional.empty(); // the scan thread's only

    PodRefresh(Optional<KubernetesPods> pods, Duration every, LongSupplier nanoTime) {
        this.pods = pods;
        this.every = every;
        this.nanoTime = nanoTime;
    }

    /** Refreshes the pod list when the last refresh is older than the interval (or there was none). */
    void whenDue() {
        pods.ifPresent(k -> {
            long now = nanoTime.getAsLong();
            if (last.isEmpty() || now - last.get() >= every.toNanos()) {
                last = Optional.of(now);
                k.refresh();
            }
        });
    }
}
