package dev.gpuwatch.exporter.inference.discovery;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * From the pids that hold GPU memory to the model servers' process trees and the ports they listen on.
 *
 * <p>A GPU process is often a worker (vLLM's EngineCore or tensor-parallel workers) whose API server is an
 * ancestor: the scan climbs to the topmost ancestor in the same cgroup (the same container or systemd unit, so it
 * never climbs into containerd-shim, sshd or init), then takes that root and all its descendants. Listening sockets
 * are matched by inode against the tree's open file descriptors. A tree in another network namespace (a pod) is
 * reached on its pod IP, except ports bound to its loopback, which the exporter cannot reach.
 */
public final class ProcessScanner {
    private final ProcFs proc;

    public ProcessScanner(ProcFs proc) {
        this.proc = proc;
    }

    public List<ServerProcess> scan(Set<Integer> gpuPids) {
        if (gpuPids.isEmpty()) {
            return List.of();
        }
        Map<Integer, ProcFs.Stat> stats = new HashMap<>();
        Map<Integer, List<Integer>> children = new HashMap<>();
        for (int pid : proc.pids()) {
            proc.stat(pid).ifPresent(s -> {
                stats.put(pid, s);
                children.computeIfAbsent(s.ppid(), k -> new ArrayList<>()).add(pid);
            });
        }
        Map<Integer, ServerProcess> byRoot = new LinkedHashMap<>();
        for (int pid : new TreeSet<>(gpuPids)) {
            if (!stats.containsKey(pid)) {
                continue; // not visible from here (another pid namespace)
            }
            int root = root(pid, stats);
            if (!byRoot.containsKey(root)) {
                Set<Integer> tree = new LinkedHashSet<>();
                collect(root, children, tree);
                byRoot.put(root, new ServerProcess(root, stats.get(root).startTime(), tree, endpoints(root, tree)));
            }
        }
        return List.copyOf(byRoot.values());
    }

    private int root(int pid, Map<Integer, ProcFs.Stat> stats) {
        Optional<String> cgroup = proc.cgroup(pid);
        int current = pid;
        for (int depth = 0; depth < 64; depth++) {
            int parent = stats.get(current).ppid();
            if (parent <= 1 || !stats.containsKey(parent) || !Objects.equals(proc.cgroup(parent), cgroup)) {
                return current;
            }
            current = parent;
        }
        return current;
    }

    private static void collect(int pid, Map<Integer, List<Integer>> children, Set<Integer> into) {
        if (into.add(pid) && into.size() < 4096) {
            for (int child : children.getOrDefault(pid, List.of())) {
                collect(child, children, into);
            }
        }
    }

    private List<Endpoint> endpoints(int root, Set<Integer> tree) {
        Set<Long> inodes = new java.util.HashSet<>();
        for (int pid : tree) {
            inodes.addAll(proc.socketInodes(pid));
        }
        Optional<String> ours = proc.netns("self");
        Optional<String> theirs = proc.netns(String.valueOf(root));
        boolean sameNamespace = ours.isEmpty() || theirs.isEmpty() || ours.equals(theirs);
        List<String> podAddresses = sameNamespace ? List.of() : proc.localAddresses(root);
        Set<Endpoint> out = new LinkedHashSet<>();
        for (ProcFs.Listen l : proc.listening(root)) {
            if (!inodes.contains(l.inode())) {
                continue;
            }
            reachable(l.address(), sameNamespace, podAddresses).ifPresent(h -> out.add(new Endpoint(h, l.port())));
        }
        return new ArrayList<>(out);
    }

    private static Optional<String> reachable(InetAddress bound, boolean sameNamespace, List<String> podAddresses) {
        if (bound.isLoopbackAddress()) {
            return sameNamespace ? Optional.of(bound instanceof java.net.Inet6Address ? "::1" : "127.0.0.1") : Optional.empty();
        }
        if (bound.isAnyLocalAddress()) {
            if (sameNamespace) {
                return Optional.of("127.0.0.1");
            }
            return podAddresses.stream().findFirst();
        }
        return Optional.of(bound.getHostAddress());
    }
}
