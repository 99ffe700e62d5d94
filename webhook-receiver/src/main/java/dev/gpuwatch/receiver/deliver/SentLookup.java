package dev.gpuwatch.receiver.deliver;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** What the target said about deliveries that may already have reached it ({@link Channel#findSent}). */
public sealed interface SentLookup {

    /**
     * The deliveries found at the target, each with the receipt its delivery would have returned (for one folded
     * into a digest, the digest's receipt marked {@link Receipt#asDigest()}); the others were not found.
     */
    record Found(Map<Long, Receipt> sent) implements SentLookup {
        public Found {
            sent = Map.copyOf(sent);
        }
    }

    /** The target could not be asked (429, 5xx, timeout, a missing scope): nothing is known. */
    record Failed(String reason, Optional<Duration> retryAfter) implements SentLookup {}
}
