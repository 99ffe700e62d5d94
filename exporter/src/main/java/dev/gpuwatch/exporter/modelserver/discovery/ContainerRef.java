package dev.gpuwatch.exporter.modelserver.discovery;

import java.util.Optional;

/**
 * Where a process runs, as its cgroup path tells: a container ({@code runtime://id}, the form kube-state-metrics
 * uses in {@code kube_pod_container_info}) and, under Kubernetes, the pod's UID. Both absent on the host.
 */
public record ContainerRef(Optional<String> containerId, Optional<String> podUid) {
    public static final ContainerRef NONE = new ContainerRef(Optional.empty(), Optional.empty());

    public boolean isEmpty() {
        return containerId.isEmpty() && podUid.isEmpty();
    }
}
