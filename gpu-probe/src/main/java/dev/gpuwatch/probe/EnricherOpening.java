package dev.gpuwatch.probe;

/** The outcome of opening a {@link SnapshotEnricher} such as the CUDA driver: working, or a one-line reason. */
public sealed interface EnricherOpening {

    record Opened(SnapshotEnricher enricher) implements EnricherOpening {}

    record Unavailable(String source, String reason) implements EnricherOpening {}
}
