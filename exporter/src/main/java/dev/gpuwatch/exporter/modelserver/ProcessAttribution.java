package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.discovery.Endpoint;
import dev.gpuwatch.exporter.modelserver.discovery.ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Which target each GPU process belongs to, as a function of plain values: the GPU pids, the candidate servers
 * of one /proc scan (innermost first, see {@code ProcessScanner}), the static targets, and what discovery makes of
 * a candidate. Each GPU process goes to the nearest candidate above it that a static target serves or that
 * discovery identifies; so two servers under one supervisor keep their own GPU processes.
 */
final class ProcessAttribution {
    private ProcessAttribution() {}

    /** Where a static target is reached: a port, at any local address of this node (no host) or at one host. */
    record Listener(int port, Optional<String> host) {
        boolean accepts(Endpoint e) {
            return e.port() == port && host.map(h -> e.host().equalsIgnoreCase(h)).orElse(true);
        }
    }

    /** A static target as the attribution matches it: by the ports of its URL and of its metrics URL. */
    record StaticTarget(String name, List<Listener> listeners) {
        StaticTarget {
            listeners = List.copyOf(listeners);
        }

        /** The target's listeners; whether its host is local is looked up here (a name may need resolving). */
        static StaticTarget of(TargetSettings t) {
            List<Listener> out = new ArrayList<>(2);
            for (URI u : new URI[] {t.url(), t.metricsUrl().orElse(t.url())}) {
                int port = u.getPort() != -1 ? u.getPort() : u.getScheme().equals("https") ? 443 : 80;
                out.add(new Listener(port, isLocal(u.getHost()) ? Optional.empty() : Optional.of(u.getHost())));
            }
            return new StaticTarget(t.name(), out);
        }

        boolean serves(ServerProcess sp) {
            return listeners.stream().anyMatch(l -> sp.endpoints().stream().anyMatch(l::accepts));
        }
    }

    /**
     * @param targetPids the GPU pids of each target (static or discovered), by target name
     * @param discovered the targets discovery found and that claimed GPU processes, by name, in scan order
     */
    record Result(Map<String, Set<Integer>> targetPids, Map<String, TargetSettings> discovered) {
        Result {
            Map<String, Set<Integer>> pids = new LinkedHashMap<>();
            targetPids.forEach((k, v) -> pids.put(k, Set.copyOf(v)));
            targetPids = Map.copyOf(pids);
            discovered = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(discovered));
        }
    }

    /**
     * @param discover the targets a candidate that no static target serves turns out to be (empty when discovery
     *                 is off); asked only for candidates that still have unclaimed GPU processes, nearest first,
     *                 because identifying one costs requests to its ports
     */
    static Result attribute(Set<Integer> gpuPids, List<ServerProcess> candidates, List<StaticTarget> targets,
            Function<ServerProcess, List<TargetSettings>> discover) {
        Map<String, Set<Integer>> targetPids = new LinkedHashMap<>();
        Set<Integer> claimed = new HashSet<>();
        List<ServerProcess> unclaimed = new ArrayList<>();
        for (ServerProcess sp : candidates) {
            Set<Integer> gpu = unclaimedGpuPids(sp, gpuPids, claimed);
            if (gpu.isEmpty()) {
                continue; // every GPU process below it belongs to a server nearer to it
            }
            Optional<StaticTarget> owner = targets.stream().filter(t -> t.serves(sp)).findFirst();
            if (owner.isPresent()) {
                targetPids.computeIfAbsent(owner.get().name(), k -> new HashSet<>()).addAll(gpu);
                claimed.addAll(gpu);
            } else {
                unclaimed.add(sp);
            }
        }
        Map<String, TargetSettings> discovered = new LinkedHashMap<>();
        for (ServerProcess sp : unclaimed) {
            Set<Integer> gpu = unclaimedGpuPids(sp, gpuPids, claimed);
            if (gpu.isEmpty()) {
                continue; // a server nearer to its GPU processes was found in this scan
            }
            for (TargetSettings t : discover.apply(sp)) {
                boolean clashes = targets.stream().anyMatch(s -> s.name().equals(t.name()));
                if (!clashes && discovered.putIfAbsent(t.name(), t) == null) {
                    targetPids.computeIfAbsent(t.name(), k -> new HashSet<>()).addAll(gpu);
                    claimed.addAll(gpu);
                }
            }
        }
        return new Result(targetPids, discovered);
    }

    private static Set<Integer> unclaimedGpuPids(ServerProcess sp, Set<Integer> gpuPids, Set<Integer> claimed) {
        Set<Integer> out = new HashSet<>();
        for (int pid : sp.pids()) {
            if (gpuPids.contains(pid) && !claimed.contains(pid)) {
                out.add(pid);
            }
        }
        return out;
    }

    private static boolean isLocal(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            InetAddress a = InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
            return a.isLoopbackAddress() || a.isAnyLocalAddress();
        } catch (IOException e) {
            return false;
        }
    }
}
