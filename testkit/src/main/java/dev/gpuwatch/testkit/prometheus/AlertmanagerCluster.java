package dev.gpuwatch.testkit.prometheus;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Real Alertmanager peers gossiping on loopback, as in production HA: every peer is given every other one with
 * {@code --cluster.peer}, each its own configuration (so each may post to a different receiver). Ready when
 * {@link #start} returns: every peer answers {@code /-/ready} and sees all of them in {@code /api/v2/status}.
 */
public final class AlertmanagerCluster implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Tries of fresh gossip ports: another process may take a free one before a peer binds it. */
    private static final int GOSSIP_PORT_TRIES = 3;

    private final List<Alertmanager> peers;

    private AlertmanagerCluster(List<Alertmanager> peers) {
        this.peers = List.copyOf(peers);
    }

    /**
     * Starts one peer per entry of {@code options}, each with a free gossip port, and waits until they have all
     * joined each other. A peer that exits because its gossip port was taken in between (an ephemeral port of
     * some connection on a busy machine) has the whole cluster started again on fresh ports, as {@link Server}
     * does for the web port.
     *
     * @throws IllegalStateException when a peer cannot start, or the cluster has not formed within 60 s
     */
    public static AlertmanagerCluster start(List<ServerOptions> options) {
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(options);
            } catch (IllegalStateException e) {
                if (attempt >= GOSSIP_PORT_TRIES || !String.valueOf(e.getMessage()).contains("address already in use")) {
                    throw e;
                }
            }
        }
    }

    private static AlertmanagerCluster startOnce(List<ServerOptions> options) {
        List<Integer> gossipPorts = options.stream().map(o -> Server.freePort()).toList();
        List<Alertmanager> started = new ArrayList<>();
        try {
            for (int i = 0; i < options.size(); i++) {
                List<String> flags = new ArrayList<>();
                flags.add("--cluster.listen-address=127.0.0.1:" + gossipPorts.get(i));
                flags.add("--cluster.advertise-address=127.0.0.1:" + gossipPorts.get(i));
                for (int j = 0; j < options.size(); j++) {
                    if (j != i) {
                        flags.add("--cluster.peer=127.0.0.1:" + gossipPorts.get(j));
                    }
                }
                started.add(Alertmanager.start(options.get(i), flags));
            }
            AlertmanagerCluster cluster = new AlertmanagerCluster(started);
            cluster.awaitFormed(Duration.ofSeconds(60));
            return cluster;
        } catch (RuntimeException e) {
            started.forEach(Alertmanager::close);
            throw e;
        }
    }

    public List<Alertmanager> peers() {
        return peers;
    }

    private void awaitFormed(Duration timeout) {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Alertmanager peer : peers) {
            while (clusterSize(http, peer) < peers.size()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Alertmanager cluster not formed in " + timeout + ": peer "
                            + peer.url() + " sees " + clusterSize(http, peer) + " of " + peers.size());
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for the cluster", e);
                }
            }
        }
    }

    /** How many peers {@code peer} sees, itself included; 0 while it cannot say. */
    private static int clusterSize(HttpClient http, Alertmanager peer) {
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/api/v2/status"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            return JSON.readTree(body).path("cluster").path("peers").size();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** Stops every peer. */
    @Override
    public void close() {
        peers.forEach(Alertmanager::close);
    }
}
