package dev.gpuwatch.stack;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/** How the stack's tests wait for something the whole chain makes: once a second, failing with the stack's dump. */
final class StackAwait {
    private StackAwait() {}

    /** Polls every second until {@code probe} finds something; fails with everything the stack knows. */
    static <T> T await(LocalStack stack, String what, Duration limit, Supplier<Optional<T>> probe)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            Optional<T> found = probe.get();
            if (found.isPresent()) {
                System.out.println("[test] got " + what);
                return found.get();
            }
            if (System.nanoTime() > deadline) {
                fail("no " + what + " within " + limit.toSeconds() + "s. What the stack knows:\n" + stack.dump());
            }
            Thread.sleep(1000);
        }
    }
}
