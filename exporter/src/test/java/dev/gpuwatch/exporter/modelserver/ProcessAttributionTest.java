package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.modelserver.ProcessAttribution.Listener;
import dev.gpuwatch.exporter.modelserver.ProcessAttribution.Result;
import dev.gpuwatch.exporter.modelserver.ProcessAttribution.StaticTarget;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.exporter.modelserver.discovery.Endpoint;
import dev.gpuwatch.exporter.modelserver.discovery.ServerProcess;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The attribution as a function: candidates innermost first, as ProcessScanner offers them. */
class ProcessAttributionTest {
    private static final ServerProcess SERVER_A = new ServerProcess(11, 100, Set.of(11, 12),
            List.of(new Endpoint("127.0.0.1", 8000)));
    private static final ServerProcess SERVER_B = new ServerProcess(21, 200, Set.of(21, 22),
            List.of(new Endpoint("127.0.0.1", 8001)));
    /** The supervisor above both: its subtree listens on both ports. */
    private static final ServerProcess SUPERVISOR = new ServerProcess(10, 50, Set.of(10, 11, 12, 21, 22),
            List.of(new Endpoint("127.0.0.1", 8000), new Endpoint("127.0.0.1", 8001)));
    private static final List<ServerProcess> TREE = List.of(SERVER_A, SERVER_B, SUPERVISOR);

    @Test
    void eachGpuProcessGoesToTheNearestServedCandidate() {
        Result r = ProcessAttribution.attribute(Set.of(12, 22), TREE,
                List.of(local("a", 8000), local("b", 8001)), sp -> List.of());
        assertEquals(Map.of("a", Set.of(12), "b", Set.of(22)), r.targetPids());
        assertEquals(Map.of(), r.discovered());
    }

    @Test
    void anOuterCandidateTakesWhatNoNearerOneClaims() {
        Result r = ProcessAttribution.attribute(Set.of(10, 12, 22), TREE, List.of(local("a", 8000)), sp -> List.of());
        assertEquals(Map.of("a", Set.of(10, 12, 22)), r.targetPids());
    }

    @Test
    void aTargetAtAnotherHostServesOnlyEndpointsAtThatHost() {
        StaticTarget remote = new StaticTarget("r", List.of(new Listener(8000, Optional.of("10.0.0.5"))));
        assertEquals(Map.of(), ProcessAttribution.attribute(Set.of(12), List.of(SERVER_A), List.of(remote),
                sp -> List.of()).targetPids());
        ServerProcess there = new ServerProcess(11, 100, Set.of(11, 12), List.of(new Endpoint("10.0.0.5", 8000)));
        assertEquals(Map.of("r", Set.of(12)), ProcessAttribution.attribute(Set.of(12), List.of(there),
                List.of(remote), sp -> List.of()).targetPids());
    }

    @Test
    void staticTargetsMatchTheirUrlsPortsLocalHostsAtAnyAddress() {
        TargetSettings t = target("a", "http://localhost:8000", false);
        assertEquals(new StaticTarget("a", List.of(new Listener(8000, Optional.empty()),
                new Listener(8000, Optional.empty()))), StaticTarget.of(t));
    }

    @Test
    void discoveryIsAskedNearestFirstAndOnlyWhileGpuProcessesAreUnclaimed() {
        List<ServerProcess> asked = new ArrayList<>();
        TargetSettings found = target("vllm-8000", "http://127.0.0.1:8000", true);
        Result r = ProcessAttribution.attribute(Set.of(12), TREE, List.of(), sp -> {
            asked.add(sp);
            return sp == SERVER_A ? List.of(found) : List.of();
        });
        assertEquals(List.of(SERVER_A), asked); // B has no GPU process, the supervisor's is claimed
        assertEquals(Map.of("vllm-8000", Set.of(12)), r.targetPids());
        assertEquals(Map.of("vllm-8000", found), r.discovered());
    }

    @Test
    void aDiscoveredTargetNamedLikeAStaticOneIsLeftOut() {
        TargetSettings clash = target("a", "http://127.0.0.1:8001", true);
        Result r = ProcessAttribution.attribute(Set.of(22), TREE, List.of(local("a", 9999)),
                sp -> List.of(clash));
        assertEquals(Map.of(), r.targetPids());
        assertEquals(Map.of(), r.discovered());
    }

    private static StaticTarget local(String name, int port) {
        return new StaticTarget(name, List.of(new Listener(port, Optional.empty())));
    }

    private static TargetSettings target(String name, String url, boolean discovered) {
        URI u = URI.create(url);
        return new TargetSettings(name, ServerType.VLLM, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(5),
                Optional.empty(), Map.of(), false, discovered);
    }
}
