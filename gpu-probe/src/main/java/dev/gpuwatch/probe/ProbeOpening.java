package dev.gpuwatch.probe;

/** The outcome of opening a backend: a working probe, or a one-line reason a person can act on. */
public sealed interface ProbeOpening {

    record Opened(GpuProbe probe) implements ProbeOpening {}

    /** {@code reason} names what was searched and what to install; it is logged as one line, no stack trace. */
    record Unavailable(String backend, String reason) implements ProbeOpening {}
}
