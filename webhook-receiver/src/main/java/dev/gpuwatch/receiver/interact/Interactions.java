package dev.gpuwatch.receiver.interact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.pagerduty.PagerDutyChannel;
import dev.gpuwatch.receiver.deliver.slack.SlackChannel;
import dev.gpuwatch.receiver.dispatch.ConfiguredChannel;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.NotificationStore.ActionRecording;
import dev.gpuwatch.receiver.store.NotificationStore.ActionStatus;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryContext;
import dev.gpuwatch.receiver.store.NotificationStore.NewAction;
import dev.gpuwatch.receiver.store.NotificationStore.StoredAction;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Slack's interaction requests for the buttons ({@code POST /api/v1/slack/interactions}): verifies the signature,
 * records the press durably in the store (one record per group and button while it is active, so a second press or
 * a second replica receiving the same one answers with the first), answers at once, and then acts: an Alertmanager
 * silence of the group's labels, or a PagerDuty acknowledge of its dedup_key; then the message is updated in place
 * and a thread reply says who did what, or that it failed and why. A press whose replica died while acting on it
 * is taken over once its lease expires ({@link #LEASE}); a silence it may already have made is found again by the
 * action's marker in the silence's comment, so it is not made twice.
 */
public final class Interactions implements AutoCloseable {

    public static final String PATH = "/api/v1/slack/interactions";
    /** How long the replica that recorded a press has to act on it before another one takes it over. */
    static final Duration LEASE = Duration.ofSeconds(60);
    static final Duration SWEEP_INTERVAL = Duration.ofSeconds(10);
    /** Slack wants its answer within 3 s; the durable record is all that happens before it. */
    static final Duration RECORD_TIMEOUT = Duration.ofSeconds(2);
    private static final Logger LOG = LoggerFactory.getLogger(Interactions.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final DateTimeFormatter UNTIL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC);

    /** What the endpoint answers: a status and a short plain-text body. */
    public record Answer(int status, String body) {}

    private final SlackSignature signature;
    private final Map<String, SlackChannel> slackChannels;
    private final Map<String, PagerDutyChannel> pagerDutyChannels;
    private final NotificationStore store;
    private final Optional<AlertmanagerSilences> alertmanager;
    private final Supplier<String> externalUrl;
    private final ReceiverMetrics metrics;
    private final Clock clock;
    private final PayloadParser parser = new PayloadParser();
    private final ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread sweeper;
    private volatile boolean closed;

    private Interactions(List<String> secrets, Map<String, SlackChannel> slackChannels,
            Map<String, PagerDutyChannel> pagerDutyChannels, NotificationStore store,
            Optional<AlertmanagerSilences> alertmanager, Supplier<String> externalUrl, ReceiverMetrics metrics,
            Clock clock) {
        this.signature = new SlackSignature(secrets);
        this.slackChannels = slackChannels;
        this.pagerDutyChannels = pagerDutyChannels;
        this.store = store;
        this.alertmanager = alertmanager;
        this.externalUrl = externalUrl;
        this.metrics = metrics;
        this.clock = clock;
        this.sweeper = Thread.ofVirtual().name("interactions-sweeper").unstarted(this::sweep);
    }

    /**
     * The interactions of every interactive Slack channel among {@code channels}; empty when there is none (the
     * endpoint then does not exist).
     *
     * @param alertmanagerUrl {@code enrichment.alertmanager_url}, empty when not set
     * @param externalUrl {@code --web.external-url}, named in a silence's comment
     */
    public static Optional<Interactions> create(List<ConfiguredChannel> channels, NotificationStore store,
            String alertmanagerUrl, Supplier<String> externalUrl, ReceiverMetrics metrics, Clock clock) {
        Map<String, SlackChannel> slack = new LinkedHashMap<>();
        Map<String, PagerDutyChannel> pagerDuty = new LinkedHashMap<>();
        for (ConfiguredChannel c : channels) {
            if (c.channel() instanceof SlackChannel s) {
                slack.put(c.key(), s);
            } else if (c.channel() instanceof PagerDutyChannel p) {
                pagerDuty.put(c.key(), p);
            }
        }
        List<String> secrets = slack.values().stream().flatMap(s -> s.signingSecret().stream()).distinct().toList();
        if (secrets.isEmpty()) {
            return Optional.empty();
        }
        Optional<AlertmanagerSilences> am = alertmanagerUrl.isEmpty() ? Optional.empty()
                : Optional.of(new AlertmanagerSilences(alertmanagerUrl,
                        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()));
        return Optional.of(new Interactions(secrets, Map.copyOf(slack), Map.copyOf(pagerDuty), store, am,
                externalUrl, metrics, clock));
    }

    /** Starts taking over presses whose replica died while acting on them. */
    public void start() {
        sweeper.start();
    }

    /**
     * One interaction request. 401 and nothing done when the signature is missing, wrong or stale; 400 for a body
     * that is no press of our buttons; 503 when the press cannot be recorded; else 200 with the work going on.
     */
    public Answer handle(Optional<String> timestamp, Optional<String> slackSignature, byte[] body) {
        Instant now = clock.instant();
        if (signature.verify(timestamp, slackSignature, body, now) instanceof SlackSignature.Verdict.Refused r) {
            LOG.warn("slack interaction refused: {}", r.reason());
            metrics.interaction("none", "refused");
            return new Answer(401, "invalid signature");
        }
        InteractionPayload press;
        switch (InteractionPayload.parse(body)) {
            case InteractionPayload.Parsed.Invalid bad -> {
                return invalid("none", bad.reason());
            }
            case InteractionPayload.Parsed.Press p -> press = p.payload();
        }
        Optional<ButtonAction> action = ButtonAction.of(press.actionId());
        if (action.isEmpty()) {
            return invalid("none", "unknown action_id " + shorten(press.actionId()));
        }
        String label = action.get().actionId;
        String[] reference = press.value().split("/", 2);
        if (reference.length != 2 || !reference[0].equals(store.storeId())) {
            return invalid(label, "the button is not from this receiver's store");
        }
        long deliveryId;
        try {
            deliveryId = Long.parseLong(reference[1]);
        } catch (NumberFormatException e) {
            return invalid(label, "the button's delivery is not a number");
        }
        Optional<DeliveryContext> context = store.deliveryContext(deliveryId);
        if (context.isEmpty() || !slackChannels.containsKey(context.get().channel())) {
            return invalid(label, "delivery " + deliveryId + " is no longer stored, or not a Slack delivery");
        }
        ActionRecording recording;
        try {
            recording = store.recordAction(new NewAction(context.get().groupKey(), label, deliveryId, press.userId(),
                    press.userName(), press.channelId(), press.messageTs(), now, now.plus(action.get().active),
                    now.plus(LEASE))).get(RECORD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("slack interaction not recorded action={} user={}: {}", label, press.userId(), rootMessage(e));
            metrics.interaction(label, "unavailable");
            return new Answer(503, "the press could not be recorded; press again");
        }
        DeliveryContext found = context.get();
        switch (recording) {
            case ActionRecording.Recorded r -> submit(() -> act(r.action(), Optional.of(press), found));
            case ActionRecording.Existing e -> submit(() -> tellExisting(e.action(), press, found));
        }
        return new Answer(200, "");
    }

    private Answer invalid(String action, String reason) {
        LOG.warn("slack interaction not understood: {}", reason);
        metrics.interaction(action, "invalid");
        return new Answer(400, reason);
    }

    private void submit(Runnable task) {
        if (closed) {
            return;  // recorded and leased: another replica, or this one after its restart, takes it over
        }
        work.execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("slack interaction failed: {}", e.toString());
            }
        });
    }

    /** Takes over pending presses whose lease expired, until closed. */
    private void sweep() {
        while (!closed) {
            try {
                Thread.sleep(SWEEP_INTERVAL);
                Instant now = clock.instant();
                for (StoredAction a : store.claimStaleActions(now, now.plus(LEASE), 10).join()) {
                    Optional<DeliveryContext> context = store.deliveryContext(a.deliveryId());
                    if (context.isEmpty()) {
                        store.finishAction(a.claim(), ActionStatus.FAILED, "", "its notification is no longer stored",
                                now).join();
                        continue;
                    }
                    LOG.info("slack interaction taken over action={} id={} attempt={}", a.action(), a.id(), a.attempts());
                    submit(() -> act(a, Optional.empty(), context.get()));
                }
            } catch (InterruptedException e) {
                return;
            } catch (CompletionException e) {
                LOG.warn("slack interactions not swept: {}", rootMessage(e));
            }
        }
    }

    /** Does what the button says, records how it ended, then tells Slack. */
    void act(StoredAction a, Optional<InteractionPayload> press, DeliveryContext context) {
        ButtonAction action = ButtonAction.of(a.action()).orElseThrow();
        Done done = action.silences() ? silence(a, context) : acknowledge(a, context);
        Instant now = clock.instant();
        boolean recorded;
        try {
            recorded = store.finishAction(a.claim(), done.ok() ? ActionStatus.DONE : ActionStatus.FAILED,
                    done.result(), done.error(), now).join();
        } catch (CompletionException e) {
            // the lease expires and the action is taken over; a silence already made is found again by its marker
            LOG.warn("slack interaction outcome not recorded action={} id={}: {}", a.action(), a.id(), rootMessage(e));
            return;
        }
        if (!recorded) {
            return;  // another claim took it over and tells Slack itself
        }
        metrics.interaction(a.action(), done.ok() ? "done" : "failed");
        if (done.ok()) {
            LOG.info("slack interaction done action={} user={} group={} result={}", a.action(), a.userId(),
                    a.groupKey(), done.result());
        } else {
            LOG.warn("slack interaction failed action={} user={} group={}: {}", a.action(), a.userId(), a.groupKey(),
                    done.error());
        }
        SlackChannel slack = slackChannels.get(context.channel());
        if (done.ok()) {
            press.ifPresent(p -> slack.updateMessage(a.slackChannel(), a.messageTs(), p.text(),
                    withStatus(p.blocks(), action, statusLine(action, a)).toString())
                    .ifPresent(reason -> LOG.warn("slack message not updated: {}", reason)));
        }
        slack.replyInThread(a.slackChannel(), a.messageTs(), done.ok() ? doneReply(action, a, done) : failedReply(action, a, done))
                .ifPresent(reason -> LOG.warn("slack thread reply not posted: {}", reason));
    }

    /** How an action ended: {@code result} what it made (a silence id), {@code error} why it failed. */
    private record Done(boolean ok, String result, String error) {
        static Done ok(String result) {
            return new Done(true, result, "");
        }

        static Done failed(String error) {
            return new Done(false, "", error);
        }
    }

    private Done silence(StoredAction a, DeliveryContext context) {
        if (alertmanager.isEmpty()) {
            return Done.failed("no enrichment.alertmanager_url is configured");
        }
        Optional<Notification> n = notification(context);
        if (n.isEmpty()) {
            return Done.failed("the stored notification cannot be read");
        }
        Map<String, String> labels = n.get().groupLabels().isEmpty() ? n.get().commonLabels() : n.get().groupLabels();
        if (labels.isEmpty()) {
            return Done.failed("the group has no labels to match");
        }
        String marker = marker(a);
        if (a.attempts() > 1) {
            // an earlier attempt may have made it before its replica died
            Optional<AlertmanagerSilences.Outcome> earlier = alertmanager.get().findByComment(marker);
            if (earlier.isPresent()) {
                return done(earlier.get());
            }
        }
        String comment = "Silenced from Slack by " + a.userName() + " (" + a.userId() + "): message "
                + slackLink(a) + " (channel " + a.slackChannel() + ", ts " + a.messageTs() + "), via the gpuwatch"
                + " receiver " + externalUrl.get() + " " + marker;
        return done(alertmanager.get().create(labels, clock.instant().truncatedTo(ChronoUnit.SECONDS), a.until(),
                a.userName() + " (" + a.userId() + ")", comment));
    }

    private static Done done(AlertmanagerSilences.Outcome outcome) {
        return switch (outcome) {
            case AlertmanagerSilences.Outcome.Created c -> Done.ok(c.silenceId());
            case AlertmanagerSilences.Outcome.Failed f -> Done.failed(f.reason());
        };
    }

    private Done acknowledge(StoredAction a, DeliveryContext context) {
        Optional<Target> paged = context.targets().stream().filter(t -> t.integration().equals("pagerduty"))
                .filter(t -> pagerDutyChannels.containsKey(t.channel())).findFirst();
        if (paged.isEmpty()) {
            return Done.failed("the group does not go to a configured PagerDuty receiver");
        }
        String dedupKey = store.receipt(context.groupKey(), paged.get().receiver(), paged.get().channel())
                .flatMap(r -> r.get("dedup_key")).orElse(PagerDutyChannel.dedupKey(context.groupKey()));
        return switch (pagerDutyChannels.get(paged.get().channel()).acknowledge(dedupKey)) {
            case DeliveryOutcome.Delivered d -> Done.ok(dedupKey);
            case DeliveryOutcome.RetryLater r -> Done.failed(r.reason());
            case DeliveryOutcome.Failed f -> Done.failed(f.reason());
        };
    }

    /** A second press while the first is active: nothing is done again; the thread says what was done. */
    private void tellExisting(StoredAction first, InteractionPayload press, DeliveryContext context) {
        metrics.interaction(first.action(), "existing");
        ButtonAction action = ButtonAction.of(first.action()).orElseThrow();
        String what = first.status() == ActionStatus.PENDING
                ? (action.silences() ? "already being silenced" : "already being acknowledged")
                : "already " + uncapitalise(statusLine(action, first));
        String text = escape(press.userName()) + " pressed " + action.label + ": " + what
                + (first.result().isEmpty() || !action.silences() ? "" : " (silence " + first.result() + ")")
                + "; nothing done again.";
        slackChannels.get(context.channel()).replyInThread(press.channelId(), press.messageTs(), text)
                .ifPresent(reason -> LOG.warn("slack thread reply not posted: {}", reason));
    }

    private static String statusLine(ButtonAction action, StoredAction a) {
        return action.silences()
                ? "Silenced by " + escape(a.userName()) + " until " + UNTIL.format(a.until())
                : "Acknowledged by " + escape(a.userName());
    }

    private String doneReply(ButtonAction action, StoredAction a, Done done) {
        if (action.silences()) {
            return escape(a.userName()) + " silenced this group for " + action.active.toHours() + "h, until "
                    + UNTIL.format(a.until()) + ": <" + alertmanager.orElseThrow().silencePage(done.result())
                    + "|silence " + done.result() + ">";
        }
        return escape(a.userName()) + " acknowledged this group's PagerDuty incident.";
    }

    private static String failedReply(ButtonAction action, StoredAction a, Done done) {
        return escape(a.userName()) + " pressed " + action.label + ", but it failed: " + escape(done.error())
                + ". Press again to retry.";
    }

    /**
     * The message's blocks with the action's status line (a context block of its own per kind of action,
     * replaced on the next press) just before the buttons; everything else kept as it is.
     */
    static ArrayNode withStatus(ArrayNode blocks, ButtonAction action, String line) {
        String blockId = action.silences() ? "gpuwatch_status_silence" : "gpuwatch_status_ack";
        ArrayNode out = NODES.arrayNode();
        ObjectNode status = NODES.objectNode().put("type", "context").put("block_id", blockId);
        status.putArray("elements").addObject().put("type", "mrkdwn").put("text", line);
        boolean placed = false;
        for (JsonNode b : blocks) {
            if (blockId.equals(b.path("block_id").asText())) {
                continue;
            }
            if (!placed && "actions".equals(b.path("type").asText())) {
                out.add(status);
                placed = true;
            }
            out.add(b);
        }
        if (!placed) {
            out.add(status);
        }
        return out;
    }

    private Optional<Notification> notification(DeliveryContext context) {
        return switch (parser.parse(context.body())) {
            case PayloadParser.Result.Parsed p -> Optional.of(p.notification());
            case PayloadParser.Result.Invalid i -> Optional.empty();
        };
    }

    /** Names the action in its silence's comment, so that a takeover finds a silence already made. */
    private String marker(StoredAction a) {
        return "[gpuwatch action " + store.storeId() + "/" + a.id() + "]";
    }

    /** Slack's link to a message: the archive path with the ts's dot removed. */
    static String slackLink(StoredAction a) {
        return "https://slack.com/archives/" + a.slackChannel() + "/p" + a.messageTs().replace(".", "");
    }

    /** mrkdwn's three control characters, escaped as Slack asks. */
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String uncapitalise(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static String shorten(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "…";
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    @Override
    public void close() {
        closed = true;
        sweeper.interrupt();
        work.shutdown();
        try {
            if (!work.awaitTermination(5, TimeUnit.SECONDS)) {
                work.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            work.shutdownNow();
        }
    }
}
