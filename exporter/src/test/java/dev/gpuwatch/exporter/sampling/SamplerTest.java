package dev.gpuwatch.exporter.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.TestGpus;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private final AtomicReference<Instant> now = new AtomicReference<>(TestGpus.T0);
    private final InstantSource clock = now::get;

    @Test
    void aFailedSampleMarksEveryKnownGpuUnreadableInsteadOfServingStaleValues() {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of(TestGpus.full(0), TestGpus.full(1)));
        Sampler sampler = new Sampler(probe, Duration.ofSeconds(5), clock);
        Sampler.State first = sampler.sampleOnce();
        assertTrue(first.lastSucceeded());
        assertEquals(Optional.of(TestGpus.T0), first.lastSuccess());

        now.set(TestGpus.T0.plusSeconds(5));
        probe.fail(new IllegalStateException("NVML_ERROR_UNKNOWN"));
        Sampler.State failed = sampler.sampleOnce();
        assertFalse(failed.lastSucceeded());
        assertEquals(Optional.of(TestGpus.T0), failed.lastSuccess(), "the last good sample time is kept");
        assertEquals(Optional.of("IllegalStateException: NVML_ERROR_UNKNOWN"), failed.lastError());
        assertEquals(2, failed.gpus().size());
        for (GpuSnapshot s : failed.gpus()) {
            assertEquals(DeviceState.UNREADABLE, s.state());
            assertEquals(Optional.of(TestGpus.uuid(s.index())), s.uuid());
            assertTrue(s.gpuUtilization().isEmpty(), "no stale values");
        }
    }

    @Test
    void aGpuThatLosesItsUuidKeepsTheOneLastSeenAtItsIndex() {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of(TestGpus.full(0)));
        Sampler sampler = new Sampler(probe, Duration.ofSeconds(5), clock);
        sampler.sampleOnce();
        probe.set(List.of(GpuSnapshot.builder(0, TestGpus.T0).state(DeviceState.UNREADABLE, "handle error").build()));
        assertEquals(Optional.of(TestGpus.uuid(0)), sampler.sampleOnce().gpus().getFirst().uuid());
    }

    @Test
    void readyOnlyWithAFreshSample() {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of(TestGpus.full(0)));
        Sampler sampler = new Sampler(probe, Duration.ofSeconds(5), clock);
        Health health = Health.of(sampler, clock);
        assertEquals(new Health.Verdict(false, "not ready: waiting for the first GPU sample\n"), health.ready());

        sampler.sampleOnce();
        now.set(TestGpus.T0.plusSeconds(1));
        assertEquals(new Health.Verdict(true, "ready: 1 GPUs, sampled 1000ms ago\n"), health.ready());

        probe.fail(new IllegalStateException("driver gone"));
        now.set(TestGpus.T0.plusSeconds(16));
        sampler.sampleOnce();
        assertEquals(new Health.Verdict(false,
                "not ready: the last good sample is 16s old (IllegalStateException: driver gone)\n"), health.ready());
    }

    @Test
    void notReadyWhileACheckNamesAProblem() {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of(TestGpus.full(0)));
        Sampler sampler = new Sampler(probe, Duration.ofSeconds(5), clock);
        AtomicReference<Optional<String>> problem = new AtomicReference<>(Optional.empty());
        Health health = Health.of(sampler, clock).withChecks(List.of(problem::get));
        sampler.sampleOnce();
        assertTrue(health.ready().ok());
        problem.set(Optional.of("the poller of model server(s) vllm-a has stopped"));
        assertEquals(new Health.Verdict(false, "not ready: the poller of model server(s) vllm-a has stopped\n"),
                health.ready());
    }

    @Test
    void neverReadyWithoutABackendButHealthy() {
        Health health = Health.withoutBackend("libnvidia-ml.so.1 not found", clock);
        assertEquals(new Health.Verdict(false, "not ready: no GPU backend: libnvidia-ml.so.1 not found\n"), health.ready());
        assertTrue(health.live().ok());
    }

    @Test
    void liveWhileTheThreadRunsAndFinishesAttempts() throws InterruptedException {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of(TestGpus.full(0)));
        Sampler sampler = new Sampler(probe, Duration.ofHours(1), clock);
        Health health = Health.of(sampler, clock);
        assertEquals(new Health.Verdict(false, "unhealthy: the sampling thread is not running\n"), health.live());
        sampler.start();
        try {
            while (sampler.state().lastAttemptEnd().isEmpty()) {
                Thread.sleep(5);
            }
            assertEquals(new Health.Verdict(true, "healthy\n"), health.live());
            assertEquals(Duration.ofHours(3), health.staleAfter());
            now.set(TestGpus.T0.plus(Duration.ofHours(3)).plusSeconds(1));
            assertEquals(new Health.Verdict(false, "unhealthy: no sampling attempt finished for 10801s\n"), health.live());
        } finally {
            sampler.close();
        }
        assertFalse(sampler.isRunning());
    }
}
