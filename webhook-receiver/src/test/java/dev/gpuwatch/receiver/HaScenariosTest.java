package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.postgres.PostgresServer;
import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.AlertmanagerCluster;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.io.IOException;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's scenarios against the real things: a real Alertmanager cluster of three gossiping peers, each posting
 * to a different receiver replica (child JVMs) on one real PostgreSQL, with the shipped routing example
 * (examples/alertmanager/alertmanager.yml, only its addresses and timings changed), and every group routed by the
 * receiver to both the local Slack and the local PagerDuty. Alerts are pushed to every peer's /api/v2/alerts as
 * Prometheus does, and resolved by pushing them again with {@code endsAt} in the past. In each scenario: every
 * group's firing message reaches Slack once, its resolve updates that message in place (chat.update, one resolved
 * reply in its thread, no second top-level message), and PagerDuty has one incident per group, triggered and
 * resolved under one dedup_key.
 *
 * <p>One PostgreSQL, Slack, PagerDuty and set of three replicas serve the whole class (a replica killed in one
 * scenario is replaced before the next); each scenario has alert names of its own and a fresh cluster, since a
 * cluster's peers post to the replicas' ports and a killed peer does not come back.
 *
 * <p>Rate limits and digests: a digest folds many notifications into one message by design, and Slack's default
 * 1 message/s (PagerDuty's 2/s) would stretch a 500-group storm over minutes, so the receivers here run with no
 * rate limit and a digest threshold no storm reaches; "exactly once" is then one Slack message and one PagerDuty
 * incident per group. The shared send slots that hold a limit for all replicas together are tested in
 * PostgresStoreTest.
 */
class HaScenariosTest {

    private static final String PASSWORD = "ha-Scenarios-Pw-777";
    private static final int PEERS = 3;
    private static final String ROUTING_KEY = "0123456789abcdef0123456789abcdef";
    /**
     * Short, so a survivor takes a killed replica's channel over within seconds; not shorter, because a live
     * replica's send that outlasts its lease is taken over too (a cold JVM's first Slack call on a loaded 2-core
     * machine took over 3 s), and a resolve taken over between its chat.update and its thread reply is updated twice.
     */
    private static final Duration LEASE = Duration.ofSeconds(10);
    private static final Duration PATIENCE = Duration.ofSeconds(120);
    /** 200 Slack calls at this pace take 6 s or more: a kill after half of them lands mid-storm. */
    private static final Duration SLOW_ANSWER = Duration.ofMillis(30);

    @TempDir
    static Path dir;

    private static PostgresServer pg;
    private static LocalSlackServer slack;
    private static LocalPagerDutyServer pagerDuty;
    private static Replicas replicas;
    /** The replica each peer posts to: peer i to {@code serving.get(i)}. */
    private static final List<ChildReceiver> serving = new ArrayList<>();

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startTheSharedParts() throws Exception {
        pg = PostgresServer.start(PASSWORD);
        slack = LocalSlackServer.start(0);
        pagerDuty = LocalPagerDutyServer.start(0);
        Path token = Files.writeString(dir.resolve("slack-token"), slack.token() + "\n");
        Path routingKey = Files.writeString(dir.resolve("pd-key"), ROUTING_KEY + "\n");
        Path config = Replicas.config(dir, Optional.of(pg),
                List.of("lease: " + LEASE.toSeconds() + "s"), """
                        receivers:
                          - name: default
                            slack_configs: [{bot_token_file: %s, channel: "#%s", api_url: %s}]
                            pagerduty_configs: [{routing_key_file: %s, url: %s}]
                        """.formatted(token, LocalSlackServer.DEFAULT_CHANNEL, slack.apiUrl(), routingKey,
                        pagerDuty.enqueueUrl()));
        replicas = Replicas.start(dir, config, PEERS);
        serving.addAll(replicas.all());
    }

    @AfterAll
    static void stopTheSharedParts() {
        if (replicas != null) {
            replicas.close();
        }
        if (pagerDuty != null) {
            pagerDuty.close();
        }
        if (slack != null) {
            slack.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** A replica killed by the scenario before is replaced, so that each peer has a live one to post to. */
    @BeforeEach
    void everyPeerHasALiveReplica() {
        for (int i = 0; i < serving.size(); i++) {
            if (!serving.get(i).isAlive()) {
                serving.set(i, replicas.startAnother());
            }
        }
    }

    @Test
    void fiveHundredGroupsFireAndResolve() throws Exception {
        Scenario s = new Scenario("Storm", 500);
        Map<ChildReceiver, Long> before = acceptedByReplica();
        try (AlertmanagerCluster cluster = cluster(s)) {
            push(cluster.peers(), s, false);
            awaitFiring(s);
            push(cluster.peers(), s, true);
            assertEveryNotificationOnce(s, true);
        }
        long stored = serving.stream().mapToLong(r -> accepted(r) - before.getOrDefault(r, 0L)).sum();
        assertEquals(2L * s.groups(), stored, "each notification stored once, however many peers sent it");
    }

    @Test
    void killNineOfTheSendingReplicaMidStorm() throws Exception {
        Scenario s = new Scenario("ReplicaKill", 200);
        Map<ChildReceiver, Long> before = slackDeliveredByReplica();
        // slow enough answers that the storm lasts seconds, and the kill lands with sends in flight
        slack.answerAfter(SLOW_ANSWER);
        try (AlertmanagerCluster cluster = cluster(s)) {
            push(cluster.peers(), s, false);
            await("half the groups posted", () -> s.topLevel().size() >= s.groups() / 2);
            // one replica at a time sends on a channel: the one whose Slack deliveries grew since the start
            ChildReceiver victim = serving.stream()
                    .max(Comparator.comparingLong(r -> slackDelivered(r) - before.getOrDefault(r, 0L))).orElseThrow();
            victim.kill();
            slack.answerAfter(Duration.ZERO); // the rest need not be slow
            int postedAtKill = s.topLevel().size();
            System.out.printf("HaScenariosTest: replica on port %d killed at %d of %d groups posted%n", victim.port(),
                    postedAtKill, s.groups());
            assertTrue(postedAtKill < s.groups(), "the kill landed mid-storm");
            awaitFiring(s);
            push(cluster.peers(), s, true);
            // a trigger in flight at the kill is sent to PagerDuty again (same dedup_key: the same incident)
            assertEveryNotificationOnce(s, false);
        } finally {
            slack.answerAfter(Duration.ZERO);
        }
    }

    @Test
    void killNineOfTheSendingAlertmanagerPeerMidStorm() throws Exception {
        Scenario s = new Scenario("PeerKill", 200);
        Map<ChildReceiver, Long> before = acceptedByReplica();
        try (AlertmanagerCluster cluster = cluster(s)) {
            push(cluster.peers(), s, false);
            await("half the groups posted", () -> s.topLevel().size() >= s.groups() / 2);
            // the peer that sends first (the others wait their peer timeout) is the one whose replica stored most
            int victim = IntStream.range(0, PEERS).boxed().max(Comparator.comparingLong(
                    i -> accepted(serving.get(i)) - before.getOrDefault(serving.get(i), 0L))).orElseThrow();
            cluster.peers().get(victim).process().kill();
            System.out.printf("HaScenariosTest: Alertmanager peer %d killed at %d of %d groups posted%n", victim,
                    s.topLevel().size(), s.groups());
            awaitFiring(s);
            List<Alertmanager> alive = new ArrayList<>(cluster.peers());
            alive.remove(victim);
            push(alive, s, true);
            assertEveryNotificationOnce(s, true);
            assertTrue(serving.get(victim).isAlive(), "the dead peer's replica keeps serving");
        }
    }

    @Test
    void postgresStoppedForThirtySecondsWhileAlertsFlow() throws Exception {
        Scenario s = new Scenario("DbDown", 200);
        List<ChildReceiver> before = replicas.all();
        try (AlertmanagerCluster cluster = cluster(s)) {
            // the first half fires before the outage, the second half during it
            push(cluster.peers(), s, 0, s.groups() / 2, false);
            await("a quarter of the groups posted", () -> s.topLevel().size() >= s.groups() / 4);
            pg.stop();
            Instant stopped = Instant.now();
            long failedBefore = webhookFailures(cluster.peers());
            try {
                push(cluster.peers(), s, s.groups() / 2, s.groups(), false);
                String probe = Payloads.notification("DbDownProbe", "firing", 1);
                for (ChildReceiver r : serving) {
                    assertEquals(503, post(r, probe).statusCode(), "ingest while the database is down");
                    assertEquals(503, get(r, "/readyz").statusCode(), "/readyz while the database is down");
                }
                // the peers post the second half, are refused, and retry
                await("Alertmanager's webhook posts refused", () -> webhookFailures(cluster.peers()) > failedBefore);
                // the outage is the scenario's stimulus, not a wait for something to happen
                Thread.sleep(Math.max(0, Duration.ofSeconds(30).minus(Duration.between(stopped, Instant.now()))
                        .toMillis()));
                for (ChildReceiver r : serving) {
                    assertEquals(503, get(r, "/readyz").statusCode(), "/readyz still 503 after 30 s down");
                }
            } finally {
                pg.start();
            }
            await("every replica ready again", () -> serving.stream().allMatch(r -> status(r, "/readyz") == 200));
            awaitFiring(s);
            push(cluster.peers(), s, true);
            // a trigger sent while the database was down could not be recorded; its lease expired during the
            // outage, and the replica that took it over first sent it again (same dedup_key: the same incident)
            assertEveryNotificationOnce(s, false);
            assertEquals(before, replicas.all(), "no replica restarted");
            assertTrue(before.stream().allMatch(ChildReceiver::isAlive), "no replica restarted");
            System.out.printf("HaScenariosTest: PostgreSQL down 30 s; the peers' webhook posts refused: %d%n",
                    webhookFailures(cluster.peers()) - failedBefore);
        }
    }

    /** The groups of one scenario: alert names {@code prefix0}... of their own, so scenarios do not mix. */
    private record Scenario(String prefix, int groups, Instant startsAt) {

        Scenario(String prefix, int groups) {
            this(prefix, groups, Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60));
        }

        Pattern pattern() {
            return Pattern.compile("\\b" + prefix + "\\d+\\b");
        }

        Optional<String> groupIn(String text) {
            Matcher m = pattern().matcher(text);
            return m.find() ? Optional.of(m.group()) : Optional.empty();
        }

        List<LocalSlackServer.Message> topLevel() {
            return Replicas.topLevel(slack).stream().filter(m -> groupIn(m.text()).isPresent()).toList();
        }

        List<LocalSlackServer.Message> replies() {
            return slack.messages().stream()
                    .filter(m -> m.threadTs().isPresent() && groupIn(m.text()).isPresent()).toList();
        }

        /** The PagerDuty events of this scenario's incidents: a resolve carries only the trigger's dedup_key. */
        List<LocalPagerDutyServer.Event> events() {
            List<LocalPagerDutyServer.Event> all = pagerDuty.events();
            Set<String> keys = all.stream().filter(e -> groupIn(e.json()).isPresent())
                    .map(LocalPagerDutyServer.Event::dedupKey).collect(Collectors.toSet());
            return all.stream().filter(e -> keys.contains(e.dedupKey())).toList();
        }

        /** The group each of this scenario's incidents is about, by the alert name in its triggers. */
        Map<String, Set<String>> dedupKeysPerGroup() {
            return pagerDuty.events().stream().filter(e -> groupIn(e.json()).isPresent())
                    .collect(Collectors.groupingBy(e -> groupIn(e.json()).orElseThrow(), TreeMap::new,
                            Collectors.mapping(LocalPagerDutyServer.Event::dedupKey, Collectors.toSet())));
        }
    }

    private void awaitFiring(Scenario s) throws InterruptedException {
        await("a Slack message and a PagerDuty trigger per group", () -> s.topLevel().size() >= s.groups()
                && s.events().stream().map(LocalPagerDutyServer.Event::dedupKey).distinct().count() >= s.groups());
    }

    /**
     * Waits until every group's resolve has reached both targets and the store has nothing left to send, sees that
     * nothing more arrives for the peers' timeouts (HA copies come within them), and checks each group: one Slack
     * message, updated once in place, one resolved reply in its thread; one PagerDuty incident, resolved, whose
     * events are one trigger and one resolve ({@code strictPagerDuty}), or at least those (after a replica's
     * kill -9 a trigger in flight is sent again: PagerDuty folds it into the same incident by its dedup_key).
     */
    private void assertEveryNotificationOnce(Scenario s, boolean strictPagerDuty) throws Exception {
        await("every group resolved in place at Slack and at PagerDuty", () -> {
            List<LocalSlackServer.Message> top = s.topLevel();
            Set<String> dedupKeys = s.events().stream().map(LocalPagerDutyServer.Event::dedupKey)
                    .collect(Collectors.toSet());
            return top.size() >= s.groups() && top.stream().allMatch(m -> m.updates() >= 1)
                    && s.replies().size() >= s.groups() && dedupKeys.size() >= s.groups()
                    && dedupKeys.stream().allMatch(k -> pagerDuty.incident(k).map(i -> i.status().equals("resolved"))
                            .orElse(false))
                    && openDeliveries() == 0;
        });
        int messages = slack.messages().size();
        int events = pagerDuty.events().size();
        awaitQuiet(Duration.ofSeconds(3), () -> slack.messages().size() == messages
                && pagerDuty.events().size() == events && openDeliveries() == 0);

        List<LocalSlackServer.Message> top = s.topLevel();
        Map<String, Long> perGroup = top.stream().collect(Collectors.groupingBy(m -> s.groupIn(m.text()).orElseThrow(),
                TreeMap::new, Collectors.counting()));
        assertEquals(s.groups(), perGroup.size(), "every group at Slack, none lost: " + perGroup.keySet());
        assertEquals(Map.of(), only(perGroup, n -> n != 1), "one Slack message per group");
        assertEquals(s.groups(), top.stream().map(Replicas::deliveryId).distinct().count(), "no delivery posted twice");
        assertEquals(List.of(), top.stream().filter(m -> m.updates() != 1).map(m -> m.text() + " " + m.updates())
                .toList(), () -> "each message updated once, in place, by its resolve; the replicas said:\n"
                + notable());
        Map<String, Long> replies = s.replies().stream().collect(Collectors.groupingBy(
                m -> s.groupIn(m.text()).orElseThrow(), TreeMap::new, Collectors.counting()));
        assertEquals(perGroup.keySet(), replies.keySet(), "a resolved reply in each group's thread");
        assertEquals(Map.of(), only(replies, n -> n != 1), "one resolved reply per group");

        Map<String, Set<String>> keysPerGroup = s.dedupKeysPerGroup();
        assertEquals(perGroup.keySet(), keysPerGroup.keySet(), "every group at PagerDuty");
        assertEquals(Map.of(), keysPerGroup.entrySet().stream().filter(e -> e.getValue().size() != 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)),
                "one incident (dedup_key) per group");
        Map<String, List<String>> actions = s.events().stream().collect(Collectors.groupingBy(
                LocalPagerDutyServer.Event::dedupKey, TreeMap::new,
                Collectors.mapping(LocalPagerDutyServer.Event::action, Collectors.toList())));
        long repeated = actions.values().stream().filter(a -> a.size() > 2).count();
        System.out.printf("HaScenariosTest %s: %d groups fired and resolved; Slack %d messages, each updated once;"
                + " PagerDuty %d incidents, %d with a trigger sent again%n", s.prefix(), s.groups(), top.size(),
                actions.size(), repeated);
        for (Map.Entry<String, List<String>> e : actions.entrySet()) {
            List<String> a = e.getValue();
            assertEquals("resolve", a.getLast(), "the incident's last event resolves it: " + e);
            assertTrue(a.getFirst().equals("trigger") && a.stream().allMatch(x -> x.equals("trigger")
                    || x.equals("resolve")), e.toString());
            if (strictPagerDuty) {
                assertEquals(List.of("trigger", "resolve"), a, "its trigger and its resolve, once each: " + e.getKey());
            }
            assertEquals("resolved", pagerDuty.incident(e.getKey()).orElseThrow().status());
        }
    }

    /** What the replicas logged about doubt, takeovers and store failures: why a message went out twice. */
    private static String notable() {
        return replicas.all().stream().flatMap(r -> r.output().lines())
                .filter(l -> l.contains("doubt") || l.contains("before the restart") || l.contains("store failed")
                        || l.contains("giving up") || l.contains("stopped") || l.contains("resuming"))
                .collect(Collectors.joining("\n"));
    }

    private static <K> Map<K, Long> only(Map<K, Long> counts, java.util.function.LongPredicate keep) {
        return counts.entrySet().stream().filter(e -> keep.test(e.getValue()))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    /**
     * A fresh cluster for {@code s}: the shipped example with each peer's webhook addresses on its own replica,
     * and timings short enough for a test (a repeat_interval inside the receiver's dedup window, so a reminder
     * that falls due in a scenario must come out a duplicate, not a second message).
     */
    private AlertmanagerCluster cluster(Scenario s) throws IOException {
        String example = Files.readString(example());
        List<ServerOptions> peers = new ArrayList<>();
        for (int i = 0; i < PEERS; i++) {
            String config = example.replace("http://127.0.0.1:9095/", "http://127.0.0.1:" + serving.get(i).port() + "/")
                    .replaceAll("group_wait: \\S+", "group_wait: 1s")
                    .replaceAll("group_interval: \\S+", "group_interval: 1s")
                    .replaceAll("repeat_interval: \\S+", "repeat_interval: 1m");
            assertTrue(!config.equals(example) && config.contains(":" + serving.get(i).port() + "/api/v1/alerts"),
                    "the example's addresses and timings were found");
            Path file = Files.writeString(dir.resolve(s.prefix() + "-alertmanager-" + i + ".yml"), config);
            // a short peer timeout: a later peer sends after it when the first one's entry has not reached it by
            // gossip (or the first one is dead), which is when a receiver sees HA copies
            peers.add(ServerOptions.of(file, dir.resolve(s.prefix() + "-am-data-" + i),
                    dir.resolve(s.prefix() + "-am-" + i + ".out"))
                    .withFlags(List.of("--cluster.peer-timeout=1s", "--cluster.settle-timeout=10s")));
        }
        return AlertmanagerCluster.start(peers);
    }

    private static Path example() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("examples/alertmanager/alertmanager.yml");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("examples/alertmanager/alertmanager.yml not found above the working directory");
    }

    /** Every group's alert to each of {@code peers}, critical (the example pages them), resolved when asked. */
    private void push(List<Alertmanager> peers, Scenario s, boolean resolved) throws Exception {
        push(peers, s, 0, s.groups(), resolved);
    }

    /** As {@link #push(List, Scenario, boolean)} for the groups from {@code from} (inclusive) to {@code to}. */
    private void push(List<Alertmanager> peers, Scenario s, int from, int to, boolean resolved) throws Exception {
        String endsAt = resolved ? ",\"endsAt\":\"" + Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(1)
                + "\"" : "";
        String body = IntStream.range(from, to).mapToObj(g -> """
                {"labels":{"alertname":"%s%d","severity":"critical","instance":"node-%d:9400"},\
                "annotations":{"summary":"%s%d is hot"},"startsAt":"%s"%s,\
                "generatorURL":"http://prometheus:9090/graph"}""".formatted(s.prefix(), g, g % 7, s.prefix(), g,
                s.startsAt(), endsAt)).collect(Collectors.joining(",", "[", "]"));
        for (Alertmanager peer : peers) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/api/v2/alerts"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        }
    }

    private static int openDeliveries() {
        try {
            return Integer.parseInt(pg.psql("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'in_flight')")
                    .strip());
        } catch (RuntimeException e) {
            return -1; // the database is not answering (yet)
        }
    }

    /** What the peers count as webhook posts that failed (refused, 5xx): Alertmanager retries those. */
    private long webhookFailures(List<Alertmanager> peers) {
        long sum = 0;
        for (Alertmanager peer : peers) {
            try {
                String metrics = http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
                sum += Math.round(metrics.lines()
                        .filter(l -> l.startsWith("alertmanager_notification_requests_failed_total{")
                                && l.contains("integration=\"webhook\""))
                        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum());
            } catch (IOException e) {
                // a killed peer has nothing to say
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return sum;
    }

    private static long slackDelivered(ChildReceiver r) {
        return r.isAlive() ? r.metric("gpuwatch_receiver_deliveries_total", "integration=\"slack\"",
                "outcome=\"delivered\"") : 0;
    }

    private static long accepted(ChildReceiver r) {
        return r.metric("gpuwatch_receiver_notifications_total", "\"accepted\"");
    }

    private static Map<ChildReceiver, Long> slackDeliveredByReplica() {
        return serving.stream().collect(Collectors.toMap(r -> r, HaScenariosTest::slackDelivered));
    }

    private static Map<ChildReceiver, Long> acceptedByReplica() {
        return serving.stream().collect(Collectors.toMap(r -> r, HaScenariosTest::accepted));
    }

    private HttpResponse<String> post(ChildReceiver r, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.port() + "/api/v1/alerts"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(ChildReceiver r, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.port() + path))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private int status(ChildReceiver r, String path) {
        return Polling.status(http, URI.create("http://127.0.0.1:" + r.port() + path));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + PATIENCE + " waiting for " + what + "\n"
                        + replicas.outputs());
            }
            Thread.sleep(100);
        }
    }

    /**
     * Holds {@code quiet} for {@code span} without a break: a copy posted twice would show up within the peers'
     * timeouts. Deterministic in its verdict (it cannot fail a correct run), only bounded in what it can see.
     */
    private static void awaitQuiet(Duration span, BooleanSupplier quiet) throws InterruptedException {
        long until = System.nanoTime() + span.toNanos();
        while (System.nanoTime() < until) {
            if (!quiet.getAsBoolean()) {
                return; // something arrived: the assertions that follow say whether it was a duplicate
            }
            Thread.sleep(100);
        }
    }
}
