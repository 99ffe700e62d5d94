package dev.gpuwatch.exporter.sampling;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What {@code /-/healthy} and {@code /-/ready} answer. Both are derived from the sampler's state alone:
 *
 * <ul>
 *   <li><b>ready</b>: the exporter serves GPU data that is fresh: a sample succeeded, and the last success is no
 *       older than {@link #staleAfter()}. Not ready before the first sample, while sampling keeps failing, or when
 *       there is no GPU backend at all. Also not ready while one of the extra {@link #withChecks checks} names
 *       a problem (a model-server poller that has stopped).
 *   <li><b>healthy</b> (liveness): the sampling thread runs and its last attempt (successful or not) finished
 *       within {@link #staleAfter()}, i.e. it is not stuck in a driver call. Without a GPU backend the exporter is
 *       healthy: restarting it would not make NVML appear.
 * </ul>
 */
public final class Health {
    /** Below this, a few slow samples in a row would already fail liveness. */
    private static final Duration MIN_STALE_AFTER = Duration.ofSeconds(15);

    /** One answer: HTTP 200 when {@code ok}, else 503; {@code message} is the body. */
    public record Verdict(boolean ok, String message) {}

    private final Optional<Sampler> sampler;
    private final Optional<String> noBackendReason;
    private final InstantSource clock;
    private final List<Supplier<Optional<String>>> checks;

    private Health(Optional<Sampler> sampler, Optional<String> noBackendReason, InstantSource clock,
            List<Supplier<Optional<String>>> checks) {
        this.sampler = sampler;
        this.noBackendReason = noBackendReason;
        this.clock = clock;
        this.checks = List.copyOf(checks);
    }

    public static Health of(Sampler sampler, InstantSource clock) {
        return new Health(Optional.of(sampler), Optional.empty(), clock, List.of());
    }

    public static Health withoutBackend(String reason, InstantSource clock) {
        return new Health(Optional.empty(), Optional.of(reason), clock, List.of());
    }

    /**
     * This health with more readiness checks, each asked on every {@code /-/ready}: a check names what is wrong,
     * or is empty when all is well. The GPU verdict comes first.
     */
    public Health withChecks(List<Supplier<Optional<String>>> more) {
        List<Supplier<Optional<String>>> all = new ArrayList<>(checks);
        all.addAll(more);
        return new Health(sampler, noBackendReason, clock, all);
    }

    /** Three sample intervals, at least 15 s. */
    public Duration staleAfter() {
        Duration three = sampler.map(s -> s.interval().multipliedBy(3)).orElse(MIN_STALE_AFTER);
        return three.compareTo(MIN_STALE_AFTER) < 0 ? MIN_STALE_AFTER : three;
    }

    public Verdict ready() {
        if (sampler.isEmpty()) {
            return new Verdict(false, "not ready: no GPU backend: " + noBackendReason.orElse("unknown") + "\n");
        }
        Sampler.State st = sampler.get().state();
        if (st.lastSuccess().isEmpty()) {
            return new Verdict(false, st.lastError()
                    .map(e -> "not ready: no sample could be taken yet: " + e + "\n")
                    .orElse("not ready: waiting for the first GPU sample\n"));
        }
        Duration age = Duration.between(st.lastSuccess().get(), clock.instant());
        if (age.compareTo(staleAfter()) > 0) {
            return new Verdict(false, "not ready: the last good sample is " + age.toSeconds() + "s old"
                    + st.lastError().map(e -> " (" + e + ")").orElse("") + "\n");
        }
        for (Supplier<Optional<String>> check : checks) {
            Optional<String> problem = check.get();
            if (problem.isPresent()) {
                return new Verdict(false, "not ready: " + problem.get() + "\n");
            }
        }
        return new Verdict(true, "ready: " + st.gpus().size() + " GPUs, sampled " + age.toMillis() + "ms ago\n");
    }

    public Verdict live() {
        if (sampler.isEmpty()) {
            return new Verdict(true, "healthy (no GPU backend: " + noBackendReason.orElse("unknown") + ")\n");
        }
        Sampler s = sampler.get();
        if (!s.isRunning()) {
            return new Verdict(false, "unhealthy: the sampling thread is not running\n");
        }
        Instant last = s.state().lastAttemptEnd().orElse(s.createdAt());
        Duration age = Duration.between(last, clock.instant());
        if (age.compareTo(staleAfter()) > 0) {
            return new Verdict(false, "unhealthy: no sampling attempt finished for " + age.toSeconds() + "s\n");
        }
        return new Verdict(true, "healthy\n");
    }
}
