package dev.gpuwatch.exporter.modelserver.adapter;

import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which model server a Prometheus body comes from, by the metric names only that server uses: the one table behind
 * discovery's fingerprint and the adapters' wrong-type check. A name counts whether it has samples or is only
 * declared ({@code # TYPE} without samples), as labelled families are before a server's first request.
 */
public final class MetricFamilies {
    private record Marks(ServerType type, List<String> prefixes) {}

    /**
     * Triton first: its metrics port also carries {@code vllm:} series when it runs the vLLM backend. Triton's
     * {@code nv_} covers its per-model families and the GPU, CPU and pinned-memory ones it exports with no model
     * loaded; TorchServe's frontend counters are {@code ts_*} in Prometheus mode and {@code Requests2XX} (and 4XX,
     * 5XX) in both modes.
     */
    private static final List<Marks> MARKS = List.of(
            new Marks(ServerType.TRITON, List.of("nv_")),
            new Marks(ServerType.TORCHSERVE, List.of("ts_inference_", "ts_queue_latency_", "Requests2XX",
                    "Requests4XX", "Requests5XX")),
            new Marks(ServerType.VLLM, List.of("vllm:")),
            new Marks(ServerType.SGLANG, List.of("sglang:")),
            new Marks(ServerType.TGI, List.of("tgi_")),
            new Marks(ServerType.LLAMACPP, List.of("llamacpp:")));

    private MetricFamilies() {}

    /** The server type whose names the body carries, Triton's first; empty when it carries none of them. */
    public static Optional<ServerType> typeOf(Exposition e) {
        return MARKS.stream().filter(m -> carries(e, m)).map(Marks::type).findFirst();
    }

    /**
     * Refuses a body that has series or families but none of {@code type}'s names: a server of another type (or no
     * model server at all) answers there, and reading it as {@code type} would give an up target with no series.
     * An empty body passes: an idle server may render nothing before its first request.
     */
    static void expect(Exposition e, ServerType type) throws PollFailure {
        if (e.sampleNames().isEmpty() && e.declaredFamilies().isEmpty()) {
            return;
        }
        Marks own = MARKS.stream().filter(m -> m.type() == type).findFirst().orElseThrow();
        if (!carries(e, own)) {
            throw new PollFailure(PollFailure.Reason.WRONG_TYPE, "the metrics have none of " + type.label()
                    + "'s series; they look like " + typeOf(e).map(ServerType::label).orElse("no known model server"));
        }
    }

    private static boolean carries(Exposition e, Marks m) {
        return Stream.concat(e.sampleNames().stream(), e.declaredFamilies().stream())
                .anyMatch(n -> m.prefixes().stream().anyMatch(n::startsWith));
    }
}
