package dev.gpuwatch.exporter.modelserver;

import java.util.Objects;
import java.util.Optional;

/**
 * The Kubernetes pod whose processes run on a GPU (and their container, when they all share one), as the /proc
 * scan and the pod list tell: what dcgm-exporter's {@code pod}, {@code namespace} and {@code container} labels
 * say, learned from the GPU's processes rather than from the kubelet's device allocation.
 */
public record GpuPod(String namespace, String pod, Optional<String> container) {
    public GpuPod {
        Objects.requireNonNull(namespace);
        Objects.requireNonNull(pod);
        Objects.requireNonNull(container);
    }
}
