package dev.gpuwatch.exporter.collector;

import io.prometheus.metrics.model.registry.MultiCollector;
import java.util.Objects;

/** A collector and the name its health series carry ({@code gpuwatch_exporter_collector_*{collector="<name>"}}). */
public record NamedCollector(String name, MultiCollector collector) {
    public NamedCollector {
        Objects.requireNonNull(name);
        Objects.requireNonNull(collector);
    }
}
