package dev.gpuwatch.probe;

import dev.gpuwatch.probe.cuda.CudaEnricher;
import dev.gpuwatch.probe.cuda.CudaOptions;
import dev.gpuwatch.probe.nvml.NvmlOptions;
import dev.gpuwatch.probe.nvml.NvmlProbe;
import dev.gpuwatch.probe.simulated.SimulatedFleet;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Opens the backend the user asked for: {@code nvml} (libnvidia-ml.so.1 via FFM, enriched with CUDA facts when
 * the CUDA driver loads), {@code simulated}, or {@code auto} (NVML when it loads, otherwise the simulated fleet).
 *
 * <p>Every caller opens probes this one way.
 */
public final class GpuProbes {
    private GpuProbes() {}

    /** The backends a user can ask for ({@code --gpu.backend}). */
    public enum Backend {
        /** NVML when it loads, otherwise the simulated fleet (with a note saying why). */
        AUTO,
        /** The real GPUs through NVML; when NVML does not load, no GPU at all (never simulated data). */
        NVML,
        /** The deterministic simulated fleet. */
        SIMULATED;

        /** The lower-case name users type and logs show. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses {@code auto|nvml|simulated}, case-insensitive; empty when the text is none of them. */
        public static Optional<Backend> parse(String text) {
            for (Backend b : values()) {
                if (b.label().equalsIgnoreCase(text.strip())) {
                    return Optional.of(b);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * What to open.
     *
     * @param cuda how to use the CUDA driver next to NVML; empty: do not load it
     */
    public record Request(Backend backend, NvmlOptions nvml, SimulationOptions simulation, Optional<CudaOptions> cuda) {
        public Request {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(nvml, "nvml");
            Objects.requireNonNull(simulation, "simulation");
            Objects.requireNonNull(cuda, "cuda");
        }
    }

    /**
     * What opening a backend gave: a probe or the reason there is none, and notes a person should see in the log
     * and on the landing page (NVML unavailable so the simulated fleet is used, CUDA facts unavailable, ...).
     */
    public record Result(ProbeOpening opening, List<String> notes) {
        public Result {
            Objects.requireNonNull(opening, "opening");
            notes = List.copyOf(notes);
        }
    }

    public static Result open(Request request) {
        List<String> notes = new ArrayList<>();
        if (request.backend() == Backend.SIMULATED) {
            return new Result(new ProbeOpening.Opened(SimulatedFleet.open(request.simulation())), notes);
        }
        ProbeOpening nvml = NvmlProbe.open(request.nvml());
        return switch (nvml) {
            case ProbeOpening.Opened opened -> new Result(new ProbeOpening.Opened(withCuda(opened.probe(), request, notes)), notes);
            case ProbeOpening.Unavailable unavailable when request.backend() == Backend.AUTO -> {
                notes.add("NVML is unavailable (" + unavailable.reason() + "), so --gpu.backend=auto serves the SIMULATED fleet: "
                        + "these are not real GPUs");
                yield new Result(new ProbeOpening.Opened(SimulatedFleet.open(request.simulation())), notes);
            }
            case ProbeOpening.Unavailable unavailable -> new Result(unavailable, notes);
        };
    }

    private static GpuProbe withCuda(GpuProbe nvml, Request request, List<String> notes) {
        if (request.cuda().isEmpty()) {
            return nvml;
        }
        return switch (CudaEnricher.open(request.cuda().get())) {
            case EnricherOpening.Opened opened -> new EnrichedProbe(nvml, opened.enricher());
            case EnricherOpening.Unavailable unavailable -> {
                notes.add("CUDA facts (SM count, compute capability, health check) are unavailable: " + unavailable.reason());
                yield nvml;
            }
        };
    }

    /** The primary backend's snapshots with a second source's facts added. */
    private record EnrichedProbe(GpuProbe primary, SnapshotEnricher enricher) implements GpuProbe {
        @Override
        public String backend() {
            return primary.backend();
        }

        @Override
        public String description() {
            String extra = enricher instanceof CudaEnricher cuda ? cuda.description() : enricher.name();
            return primary.description() + "; " + extra;
        }

        @Override
        public List<GpuSnapshot> sample() {
            return enricher.enrich(primary.sample());
        }

        @Override
        public void close() {
            try {
                enricher.close();
            } finally {
                primary.close();
            }
        }
    }
}
