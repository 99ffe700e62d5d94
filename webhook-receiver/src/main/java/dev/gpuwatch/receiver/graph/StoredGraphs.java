package dev.gpuwatch.receiver.graph;

import dev.gpuwatch.receiver.store.NotificationStore;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Graphs kept in the store and served by the receiver at {@code <--web.external-url>/graphs/TOKEN.png}, the
 * address PagerDuty's {@code images} fetch: any replica answers, since the PNG is in the shared store. TOKEN is
 * 128 bits from {@link SecureRandom} in base64url: the URL itself is the credential, as PagerDuty cannot send
 * one, so the path is exempt from {@code basic_auth_users}. Purged with the store's retention.
 */
public final class StoredGraphs implements LiveEnricher.Publisher {

    /** {@code /graphs/} + 22 base64url characters (128 bits, no padding) + {@code .png}. */
    private static final Pattern FILE = Pattern.compile("([A-Za-z0-9_-]{22})\\.png");
    /** A store slower than this leaves the graph unlinked rather than hold the delivery. */
    private static final Duration SAVE_TIMEOUT = Duration.ofSeconds(2);

    private final NotificationStore store;
    private final SecureRandom random;
    private final Supplier<String> externalUrl;
    private final Clock clock;

    public StoredGraphs(NotificationStore store, SecureRandom random, Supplier<String> externalUrl, Clock clock) {
        this.store = store;
        this.random = random;
        this.externalUrl = externalUrl;
        this.clock = clock;
    }

    @Override
    public Optional<String> publish(byte[] png) {
        byte[] bits = new byte[16];
        random.nextBytes(bits);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
        try {
            if (!store.saveGraph(token, png, clock.instant()).get(SAVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                return Optional.empty();
            }
        } catch (ExecutionException | TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
        String base = externalUrl.get();
        return Optional.of((base.endsWith("/") ? base : base + "/") + "graphs/" + token + ".png");
    }

    /** The PNG named by the last path segment ({@code TOKEN.png}); empty for a malformed or unknown name. */
    public static Optional<byte[]> serve(NotificationStore store, String file) {
        var m = FILE.matcher(file);
        return m.matches() ? store.graph(m.group(1)) : Optional.empty();
    }
}
