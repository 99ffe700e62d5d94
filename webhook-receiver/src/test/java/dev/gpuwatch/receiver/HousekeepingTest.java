package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.receiver.store.NotificationStore;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HousekeepingTest {

    private Housekeeping housekeeping;

    @AfterEach
    void stop() {
        housekeeping.stop();
    }

    /**
     * A store that is not writable and counts the probes; its first {@code writable()} check throws what
     * {@code first} gives.
     */
    private static NotificationStore unwritableStore(Supplier<Error> first, AtomicInteger checks,
            AtomicInteger probes) {
        return (NotificationStore) Proxy.newProxyInstance(NotificationStore.class.getClassLoader(),
                new Class<?>[] {NotificationStore.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "writable" -> {
                        if (checks.getAndIncrement() == 0) {
                            throw first.get();
                        }
                        yield false;
                    }
                    case "probeWritable" -> {
                        probes.incrementAndGet();
                        yield false;
                    }
                    case "purgeDelivered" -> CompletableFuture.completedFuture(0);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void anErrorInOneRoundIsOneFailedRoundAndTheProbesGoOn() throws Exception {
        var checks = new AtomicInteger();
        var probes = new AtomicInteger();
        housekeeping = new Housekeeping(
                unwritableStore(() -> new OutOfMemoryError("test: no memory for this round"), checks, probes),
                Duration.ofDays(7), Clock.systemUTC(), Duration.ofMillis(10));
        housekeeping.start();
        Polling.await("a probe after the failed round", () -> probes.get() >= 2);
        assertEquals(Optional.empty(), housekeeping.stopped());
    }

    @Test
    void aLoopThatStopsAnywaySaysSo() throws Exception {
        housekeeping = new Housekeeping(unwritableStore(UnloggableError::new, new AtomicInteger(), new AtomicInteger()),
                Duration.ofDays(7), Clock.systemUTC(), Duration.ofMillis(10));
        housekeeping.start();
        Polling.await("the loop to stop", () -> housekeeping.stopped().isPresent());
        assertEquals(Optional.of("housekeeping stopped"), housekeeping.stopped());
    }
}
