package dev.gpuwatch.exporter.inference.discovery;

import java.util.List;
import java.util.Set;

/**
 * A process tree that holds GPU memory: its root (the topmost ancestor in the same cgroup, so the API server
 * above an engine process), every pid in the tree, and the ports the tree listens on.
 *
 * @param startTime the root's start time in clock ticks since boot: with the pid, it names the process for
 *                  good (a reused pid has another start time)
 */
public record ServerProcess(int rootPid, long startTime, Set<Integer> pids, List<Endpoint> endpoints) {
    public ServerProcess {
        pids = Set.copyOf(pids);
        endpoints = List.copyOf(endpoints);
    }
}
