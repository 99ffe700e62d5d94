package dev.gpuwatch.exporter.modelserver.discovery;

import java.util.List;
import java.util.Set;

/**
 * A process that may serve the GPU processes below it (a GPU process or one of its ancestors in the same cgroup),
 * every pid in its subtree, and the ports its subtree listens on. See {@link ProcessScanner}.
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
