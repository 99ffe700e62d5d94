package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.postgres.PostgresServer;
import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.AlertmanagerCluster;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Production HA on loopback: a real Alertmanager cluster of three peers gossiping with each other, each posting to
 * a different receiver replica (child JVMs) on one real PostgreSQL, the alerts pushed to every peer as Prometheus
 * does. Whichever peers send (each may, until gossip has settled), every group's notification reaches the local
 * Slack exactly once, and its resolve updates that message in place with one resolved reply in its thread.
 */
class AlertmanagerClusterTest {

    private static final String PASSWORD = "cluster-Pw-4242";
    private static final int PEERS = 3;
    private static final int GROUPS = 30;
    private static final Pattern GROUP = Pattern.compile("Cluster\\d+");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void threePeersEachPostingToAReplicaDeliverEveryGroupOnceAndResolveInPlace() throws Exception {
        try (PostgresServer pg = PostgresServer.start(PASSWORD);
                LocalSlackServer slack = LocalSlackServer.start(0)) {
            Path token = Files.writeString(dir.resolve("slack-token"), slack.token() + "\n");
            Path config = Replicas.config(dir, Optional.of(pg), List.of(), """
                    receivers:
                      - name: default
                        slack_configs: [{bot_token_file: %s, channel: "#%s", api_url: %s}]
                    """.formatted(token, LocalSlackServer.DEFAULT_CHANNEL, slack.apiUrl()));
            try (Replicas replicas = Replicas.start(dir, config, PEERS)) {
                List<ServerOptions> peers = new ArrayList<>();
                for (int i = 0; i < PEERS; i++) {
                    ChildReceiver replica = replicas.get(i);
                    Path amConfig = Files.writeString(dir.resolve("alertmanager-" + i + ".yml"), """
                            route:
                              receiver: gpuwatch
                              group_by: [alertname]
                              group_wait: 1s
                              group_interval: 1s
                              repeat_interval: 24h
                            receivers:
                              - name: gpuwatch
                                webhook_configs:
                                  - url: http://127.0.0.1:%d/api/v1/alerts
                                    send_resolved: true
                            """.formatted(replica.port()));
                    // a short peer timeout: a later peer sends after this wait if the first one's entry has not
                    // reached it by gossip, which is when a receiver sees HA copies
                    peers.add(ServerOptions.of(amConfig, dir.resolve("am-data-" + i), dir.resolve("am-" + i + ".out"))
                            .withFlags(List.of("--cluster.peer-timeout=1s", "--cluster.settle-timeout=10s")));
                }
                try (AlertmanagerCluster cluster = AlertmanagerCluster.start(peers)) {
                    Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60);
                    pushToEveryPeer(cluster, start, null);
                    await("a message per group", () -> Replicas.topLevel(slack).size() >= GROUPS);
                    Thread.sleep(2_000); // HA copies arrive within the peer timeouts: any posted twice show now
                    List<LocalSlackServer.Message> firing = Replicas.topLevel(slack);
                    Map<String, Long> perGroup = firing.stream()
                            .collect(Collectors.groupingBy(m -> Replicas.group(GROUP, m.text()), TreeMap::new,
                                    Collectors.counting()));
                    assertEquals(GROUPS, perGroup.size(), perGroup.toString());
                    assertTrue(perGroup.values().stream().allMatch(n -> n == 1), "each group posted once: " + perGroup);
                    Map<String, Long> perDelivery = firing.stream().collect(Collectors.groupingBy(
                            Replicas::deliveryId, TreeMap::new, Collectors.counting()));
                    assertEquals(GROUPS, perDelivery.size(), perDelivery.toString());

                    pushToEveryPeer(cluster, start, Instant.now().minusSeconds(1));
                    await("every message resolved in place, with its reply",
                            () -> Replicas.topLevel(slack).stream().allMatch(m -> m.updates() >= 1)
                                    && slack.messages().size() >= 2 * GROUPS);
                    Thread.sleep(2_000);
                    List<LocalSlackServer.Message> after = Replicas.topLevel(slack);
                    assertEquals(GROUPS, after.size(), "resolves update in place, no new message");
                    assertTrue(after.stream().allMatch(m -> m.updates() == 1), "each message updated once");
                    Map<String, Long> replies = slack.messages().stream().filter(m -> m.threadTs().isPresent())
                            .collect(Collectors.groupingBy(m -> Replicas.group(GROUP, m.text()), TreeMap::new,
                                    Collectors.counting()));
                    assertEquals(GROUPS, replies.size(), replies.toString());
                    assertTrue(replies.values().stream().allMatch(n -> n == 1), "one resolved reply each: " + replies);
                    long accepted = replicas.all().stream().mapToLong(r -> notifications(r, "accepted")).sum();
                    long duplicates = replicas.all().stream().mapToLong(r -> notifications(r, "duplicate")).sum();
                    System.out.printf("AlertmanagerClusterTest: %d peers, %d groups firing and resolving; the replicas"
                            + " accepted %d notifications (%d expected) and answered %d HA copies duplicate; Slack got"
                            + " %d messages, each resolved in place%n", PEERS, GROUPS, accepted, 2 * GROUPS, duplicates,
                            after.size());
                    assertEquals(2 * GROUPS, accepted, "each notification stored once however many peers sent it");
                }
            }
        }
    }

    /** Every alert to every peer, as Prometheus sends them; resolved when {@code endsAt} is given. */
    private void pushToEveryPeer(AlertmanagerCluster cluster, Instant startsAt, Instant endsAt) throws Exception {
        List<String> alerts = new ArrayList<>();
        for (int g = 0; g < GROUPS; g++) {
            alerts.add("""
                    {"labels":{"alertname":"Cluster%d","severity":"critical"},"annotations":{"summary":"group %d"},\
                    "startsAt":"%s"%s,"generatorURL":"http://prometheus:9090/graph"}""".formatted(g, g, startsAt,
                    endsAt == null ? "" : ",\"endsAt\":\"" + endsAt.truncatedTo(ChronoUnit.SECONDS) + "\""));
        }
        String body = "[" + String.join(",", alerts) + "]";
        for (Alertmanager peer : cluster.peers()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/api/v2/alerts"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    /** The notifications this replica's /metrics counts with {@code outcome} (accepted: stored). */
    private static long notifications(ChildReceiver r, String outcome) {
        return r.metric("gpuwatch_receiver_notifications_total", "\"" + outcome + "\"");
    }
}
