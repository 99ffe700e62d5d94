package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.discovery.Endpoint;
import dev.gpuwatch.exporter.modelserver.discovery.ServerProcess;
import java.net.http.HttpClient;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Turns a process tree that listens on ports into the targets to poll, by fingerprinting each port
 * ({@link Fingerprint}). A process keeps its server type for life, so a port is fingerprinted once per process
 * (root pid and start time) and forgotten when a scan no longer offers it.
 */
final class Discovery {
    private final Supplier<HttpClient> client;
    private final InferenceSettings.Polling polling;
    private final Map<String, Optional<Fingerprint.Found>> fingerprints = new ConcurrentHashMap<>();

    Discovery(Supplier<HttpClient> client, InferenceSettings.Polling polling) {
        this.client = client;
        this.polling = polling;
    }

    /** One scan's identifications; {@link Round#end()} forgets the processes the scan did not ask about. */
    Round round() {
        return new Round();
    }

    final class Round {
        private final Set<String> live = new HashSet<>();

        private Round() {}

        /** The targets {@code sp} serves, from its ports' fingerprints (cached per process and port). */
        List<TargetSettings> identify(ServerProcess sp) {
            Map<Endpoint, Fingerprint.Found> found = new LinkedHashMap<>();
            for (Endpoint e : sp.endpoints()) {
                String key = sp.rootPid() + "/" + sp.startTime() + "/" + e.authority();
                live.add(key);
                fingerprints.computeIfAbsent(key, k -> Fingerprint.identify(client.get(), e)).ifPresent(f -> found.put(e, f));
            }
            return Fingerprint.targets(sp, found, polling);
        }

        void end() {
            fingerprints.keySet().retainAll(live);
        }
    }
}
