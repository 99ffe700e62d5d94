package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.testkit.postgres.PostgresServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Receiver replicas as the crash and HA tests run them: child JVMs ({@link ChildReceiver}) on one configuration
 * that a test writes with {@link #config}, each with its own output file, and the look at what they sent to the
 * local Slack that all those tests make. They share one {@code --storage.path}: unused on PostgreSQL, and on
 * SQLite the tests run one replica at a time, so a restart finds the data of the run it replaces.
 */
final class Replicas implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Far longer than seeing a held call and killing its sender takes on a busy machine. */
    private static final Duration HELD_ANSWER = Duration.ofSeconds(5);

    private final Path dir;
    private final Path config;
    private final List<ChildReceiver> started = new ArrayList<>();

    private Replicas(Path dir, Path config) {
        this.dir = dir;
        this.config = config;
    }

    /**
     * Writes {@code receiver.yml} in {@code dir}: on {@code pg} when given (its password in a file beside it), on
     * the {@code --storage.path} SQLite file otherwise; a {@code dispatch} section with no Slack rate limit and no
     * digest on Slack and PagerDuty, so that each notification is one message (one event) a test can count, plus {@code dispatchLines} (e.g.
     * {@code lease: 3s}); then {@code receivers} as given (YAML from {@code receivers:} on).
     */
    static Path config(Path dir, Optional<PostgresServer> pg, List<String> dispatchLines, String receivers) {
        StringBuilder yaml = new StringBuilder();
        if (pg.isPresent()) {
            Path password = write(dir.resolve("pg.pw"), pg.get().password() + "\n");
            yaml.append("""
                    storage:
                      postgres:
                        url: %s
                        user: %s
                        password_file: %s
                        pool_size: 4
                    """.formatted(pg.get().jdbcUrl(), pg.get().user(), password));
        }
        yaml.append("dispatch:\n  rate_limits: {slack: 0, pagerduty: 0}\n  digest_threshold: 100000\n");
        dispatchLines.forEach(line -> yaml.append("  ").append(line).append('\n'));
        yaml.append(receivers);
        return write(dir.resolve("receiver.yml"), yaml.toString());
    }

    /** Starts {@code count} replicas of {@code config}, named {@code r0}, {@code r1}...; each listens on return. */
    static Replicas start(Path dir, Path config, int count) {
        Replicas replicas = new Replicas(dir, config);
        try {
            for (int i = 0; i < count; i++) {
                replicas.startAnother();
            }
            return replicas;
        } catch (RuntimeException e) {
            replicas.close();
            throw e;
        }
    }

    /** One more replica (a restart of one killed, or an extra one), closed with the others. */
    ChildReceiver startAnother() {
        String name = "r" + started.size();
        ChildReceiver replica = ChildReceiver.start(config, sqliteFile(), dir.resolve(name + ".out"));
        started.add(replica);
        return replica;
    }

    /** The SQLite file the replicas are given (the store itself without a {@code postgres} section). */
    Path sqliteFile() {
        return dir.resolve("receiver.db");
    }

    ChildReceiver get(int i) {
        return started.get(i);
    }

    /** Every replica started, killed ones included. */
    List<ChildReceiver> all() {
        return List.copyOf(started);
    }

    /** The output of every replica started, for a failed assertion's message. */
    String outputs() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < started.size(); i++) {
            String output = started.get(i).output();
            out.append("--- r").append(i).append('\n').append(output, Math.max(0, output.length() - 4_000),
                    output.length());
        }
        return out.toString();
    }

    @Override
    public void close() {
        started.forEach(ChildReceiver::close);
    }

    /**
     * Kills {@code victim} at a moment Slack has acted on one of its calls (the message posted) and holds the answer,
     * so that call's outcome cannot have been committed: the kill lands with a message in doubt however busy the
     * machine. A slow answer alone makes that likely, not certain. Slack answers after {@code thereafter} again.
     */
    static void killWithACallHeld(ChildReceiver victim, LocalSlackServer slack, Duration thereafter)
            throws InterruptedException {
        slack.answerAfter(HELD_ANSWER);
        int acted = slack.acted().size(); // read after the switch: a call counted later is held
        Polling.await("a call Slack has acted on and holds the answer to", () -> slack.acted().size() > acted);
        victim.kill();
        slack.answerAfter(thereafter);
    }

    /** The top-level messages in the local Slack (not the replies in threads). */
    static List<LocalSlackServer.Message> topLevel(LocalSlackServer slack) {
        return slack.messages().stream().filter(m -> m.threadTs().isEmpty()).toList();
    }

    /** The store and delivery id in a message's metadata: what names one delivery at Slack. */
    static String deliveryId(LocalSlackServer.Message m) {
        try {
            JsonNode payload = JSON.readTree(m.metadataJson()).path("event_payload");
            return payload.path("store").asText() + "/" + payload.path("delivery_id").asText();
        } catch (Exception e) {
            throw new AssertionError("message without metadata: " + m, e);
        }
    }

    /** The group name {@code pattern} finds in {@code text}. */
    static String group(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        assertTrue(m.find(), text);
        return m.group();
    }

    /** How many lines of {@code output} contain {@code line}. */
    static int count(String output, String line) {
        return (int) output.lines().filter(l -> l.contains(line)).count();
    }

    private static Path write(Path file, String text) {
        try {
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
