package dev.gpuwatch.exporter.modelserver.discovery;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * From the pids that hold GPU memory to the processes that may serve them, nearest first.
 *
 * <p>A GPU process is often a worker (vLLM's EngineCore or tensor-parallel workers) whose API server is an
 * ancestor, or a sibling under a launcher (TGI's router and shards, Ray's proxy and replicas). So for every GPU
 * process the scan walks up through itself and its ancestors within the same cgroup (the same container or systemd
 * unit, so it never climbs into containerd-shim, sshd or init), and offers each of them whose subtree listens on a
 * port as a candidate, with those ports. Candidates come innermost (smallest subtree) first, so the caller gives
 * each GPU process to the nearest ancestor whose subtree listens on a target's port: two servers started under one
 * supervisor or shell, or under pid 1 in a container, keep their own GPU processes. Listening sockets are matched
 * by inode against the subtree's open file descriptors. A tree in another network namespace (a pod) is reached on
 * its pod IP, except ports bound to its loopback, which the exporter cannot reach.
 */
public final class ProcessScanner {
    private final ProcFs proc;

    public ProcessScanner(ProcFs proc) {
        this.proc = proc;
    }

    /** The candidates of every visible GPU process, smallest subtree (innermost) first; none without a port. */
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
        Optional<String> ours = proc.netns("self");
        Map<Integer, Tree> trees = new HashMap<>(); // by topmost ancestor
        Map<Integer, ServerProcess> candidates = new LinkedHashMap<>();
        for (int pid : new TreeSet<>(gpuPids)) {
            if (!stats.containsKey(pid)) {
                continue; // not visible from here (another pid namespace)
            }
            List<Integer> chain = chain(pid, stats);
            int top = chain.getLast();
            Tree tree = trees.computeIfAbsent(top, t -> tree(t, children));
            for (int c : chain) {
                if (!candidates.containsKey(c)) {
                    Set<Integer> subtree = new LinkedHashSet<>();
                    collect(c, children, subtree);
                    candidates.put(c, new ServerProcess(c, stats.get(c).startTime(), subtree,
                            endpoints(c, subtree, tree, ours)));
                }
            }
        }
        List<ServerProcess> out = new ArrayList<>(candidates.values());
        out.removeIf(p -> p.endpoints().isEmpty()); // nothing to match or fingerprint
        out.sort(Comparator.comparingInt((ServerProcess p) -> p.pids().size()).thenComparingInt(ServerProcess::rootPid));
        return List.copyOf(out);
    }

    /** {@code pid} and its ancestors in the same cgroup, the topmost last. */
    private List<Integer> chain(int pid, Map<Integer, ProcFs.Stat> stats) {
        Optional<String> cgroup = proc.cgroup(pid);
        List<Integer> chain = new ArrayList<>(List.of(pid));
        int current = pid;
        for (int depth = 0; depth < 64; depth++) {
            int parent = stats.get(current).ppid();
            if (parent <= 1 || !stats.containsKey(parent) || !Objects.equals(proc.cgroup(parent), cgroup)) {
                break;
            }
            chain.add(parent);
            current = parent;
        }
        return chain;
    }

    /** Under one topmost ancestor: each process's socket inodes and the listening sockets. */
    private record Tree(Map<Integer, Set<Long>> inodes, List<ProcFs.Listen> listening) {}

    private Tree tree(int top, Map<Integer, List<Integer>> children) {
        Set<Integer> pids = new LinkedHashSet<>();
        collect(top, children, pids);
        Map<Integer, Set<Long>> inodes = new HashMap<>();
        for (int pid : pids) {
            inodes.put(pid, proc.socketInodes(pid));
        }
        return new Tree(inodes, proc.listening(top));
    }

    private static void collect(int pid, Map<Integer, List<Integer>> children, Set<Integer> into) {
        if (into.add(pid) && into.size() < 4096) {
            for (int child : children.getOrDefault(pid, List.of())) {
                collect(child, children, into);
            }
        }
    }

    /** @param ours the exporter's own network namespace, read once per scan */
    private List<Endpoint> endpoints(int root, Set<Integer> subtree, Tree tree, Optional<String> ours) {
        Set<Long> inodes = new HashSet<>();
        for (int pid : subtree) {
            inodes.addAll(tree.inodes().getOrDefault(pid, Set.of()));
        }
        Optional<String> theirs = proc.netns(String.valueOf(root));
        boolean sameNamespace = ours.isEmpty() || theirs.isEmpty() || ours.equals(theirs);
        List<String> podAddresses = sameNamespace ? List.of() : proc.localAddresses(root);
        Set<Endpoint> out = new LinkedHashSet<>();
        for (ProcFs.Listen l : tree.listening()) {
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
