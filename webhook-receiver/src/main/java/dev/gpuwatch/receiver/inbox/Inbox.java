package dev.gpuwatch.receiver.inbox;

import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.route.RoutingTree;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.NotificationStore.StoredNotification;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The web inbox under {@code /inbox/}: server-rendered pages of what the receiver got and did with it (the
 * notifications and their deliveries, each delivery's attempts, the dead letters with Replay, a route tester).
 * No script: links, GET forms and one POST form, so it works in any browser and from a terminal browser. It
 * sits behind the API's authentication (the guard is {@code ReceiverHttp}'s), since it shows and replays what
 * the API does. Handlers are thin: {@link Views} builds what the templates show, the store and the routing tree
 * answer.
 */
public final class Inbox {

    private static final Logger LOG = Logger.getLogger(Inbox.class.getName());

    /** Where the inbox is served; {@code ReceiverHttp} guards it. */
    public static final String PATH = "/inbox";
    /** A page's bound: the list reads this many notifications at most, the next page is a link. */
    static final int PAGE_SIZE = 50;
    private static final Pattern BACK = Pattern.compile("dead-letters|notifications/[0-9]{1,18}");
    /** Pages hold no script and are framed nowhere (a framed Replay button could be clicked by a trick). */
    private static final String CSP = "default-src 'none'; style-src 'self'; form-action 'self';"
            + " frame-ancestors 'none'; base-uri 'none'";

    /** As many as a page shows and a store reads at once; older ones stay in the store until the retention. */
    private static final int ACTIONS_SHOWN = 200;

    private final NotificationStore store;
    private final RoutingTree routes;
    private final Map<String, List<Target>> targets;
    private final Clock clock;
    private final Duration maxAge;
    private final String alertmanagerUrl;
    private final Pages pages = new Pages();
    private final Views views = new Views();
    private final String stylesheet = Pages.stylesheet();

    /**
     * @param targets each receiver's channels, as ingest stores deliveries for them
     * @param maxAge a replayed dead letter's new deadline from now, as the API's replay
     * @param alertmanagerUrl {@code enrichment.alertmanager_url}, where the buttons' silences are; empty: none
     */
    public Inbox(NotificationStore store, RoutingTree routes, Map<String, List<Target>> targets, Clock clock,
            Duration maxAge, String alertmanagerUrl) {
        this.store = store;
        this.routes = routes;
        this.targets = Map.copyOf(targets);
        this.clock = clock;
        this.maxAge = maxAge;
        this.alertmanagerUrl = alertmanagerUrl;
    }

    /** Adds the inbox's routes; the caller has put its authentication in front of {@link #PATH}. */
    public void register(RoutesConfig config) {
        // one route for /inbox and /inbox/ (Javalin ignores a trailing slash); relative links need the slash
        config.get(PATH, this::notifications);
        config.get(PATH + "/inbox.css", ctx -> ctx.contentType("text/css; charset=utf-8")
                .header("Cache-Control", "max-age=3600").header("X-Content-Type-Options", "nosniff")
                .result(stylesheet));
        config.get(PATH + "/notifications/{id}", this::notification);
        config.get(PATH + "/dead-letters", this::deadLetters);
        config.post(PATH + "/dead-letters/{id}/replay", this::replay);
        config.get(PATH + "/route", this::routeTester);
        config.get(PATH + "/actions", this::actions);
    }

    private void notifications(Context ctx) {
        if (!ctx.req().getRequestURI().endsWith("/")) {
            ctx.status(301).header("Location", "inbox/");
            return;
        }
        OptionalLong before = number(ctx.queryParam("before"));
        Instant now = clock.instant();
        List<StoredNotification> page = store.notifications(before, PAGE_SIZE);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("rows", page.stream().map(n -> views.row(n, now)).toList());
        model.put("older", page.size() == PAGE_SIZE ? String.valueOf(page.getLast().id()) : "");
        model.put("paged", before.isPresent());
        model.put("missing", "");
        model.put("now", Times.show(now, now));
        html(ctx, 200, pages.render("notifications", "Notifications", "", "", alarms(), model));
    }

    private void notification(Context ctx) {
        OptionalLong id = number(ctx.pathParam("id"));
        Optional<StoredNotification> stored = id.isPresent() ? store.notification(id.getAsLong()) : Optional.empty();
        if (stored.isEmpty()) {
            notFound(ctx, "../", "No notification " + ctx.pathParam("id")
                    + " (deleted by the retention, or never received).");
            return;
        }
        StoredNotification n = stored.get();
        Instant now = clock.instant();
        Optional<Notification> parsed = views.parse(n);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("n", views.row(n, now));
        model.put("alerts", parsed.map(p -> views.alerts(p, now)).orElse(List.of()));
        model.put("unreadable", parsed.isEmpty());
        model.put("common", parsed.map(p -> Views.labels(p.commonLabels())).orElse(List.of()));
        model.put("deliveries", views.histories(n, store.attempts(n.id()), now));
        model.put("flash", flash(ctx));
        html(ctx, 200, pages.render("notification", "Notification " + n.id(), "../", "", alarms(), model));
    }

    /** The silences and acknowledgements made with the Slack buttons, newest first. */
    private void actions(Context ctx) {
        Instant now = clock.instant();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("rows", store.actions(ACTIONS_SHOWN).stream().map(a -> views.action(a, now, alertmanagerUrl))
                .toList());
        html(ctx, 200, pages.render("actions", "Slack actions", "", "actions", alarms(), model));
    }

    private void deadLetters(Context ctx) {
        Instant now = clock.instant();
        Map<String, Object> model = new LinkedHashMap<>();
        // bounded like the API's list; the oldest first, as they died
        model.put("rows", store.deadLetters(1000).stream().map(d -> views.deadLetter(d, now)).toList());
        model.put("flash", flash(ctx));
        html(ctx, 200, pages.render("dead-letters", "Dead letters", "", "dead-letters", alarms(), model));
    }

    /** The API's replay behind a same-origin check, then back to the page the button was on (POST-redirect-GET). */
    private void replay(Context ctx) {
        Optional<String> refused = SameOrigin.refusal(Optional.ofNullable(ctx.header("Sec-Fetch-Site")),
                Optional.ofNullable(ctx.header("Origin")), Optional.ofNullable(ctx.header("Host")));
        if (refused.isPresent()) {
            LOG.warning("inbox replay refused remote=" + ctx.ip() + ": " + refused.get());
            ctx.status(403).contentType("text/plain; charset=utf-8").result("refused: " + refused.get() + "\n");
            return;
        }
        OptionalLong id = number(ctx.pathParam("id"));
        String back = Optional.ofNullable(ctx.formParam("back")).filter(b -> BACK.matcher(b).matches())
                .orElse("dead-letters");
        String outcome;
        if (id.isEmpty()) {
            outcome = "missing=" + 0;
        } else {
            Instant now = clock.instant();
            boolean replayed = store.replay(id.getAsLong(), now, now.plus(maxAge)).join();
            outcome = (replayed ? "replayed=" : "missing=") + id.getAsLong();
            if (replayed) {
                LOG.info("dead letter " + id.getAsLong() + " replayed from the inbox remote=" + ctx.ip());
            }
        }
        // the form's path is dead-letters/{id}/replay under /inbox/: two levels up is /inbox/
        ctx.status(303).header("Location", "../../" + back + "?" + outcome);
    }

    private void routeTester(Context ctx) {
        Instant now = clock.instant();
        String text = Optional.ofNullable(ctx.queryParam("labels")).orElse("");
        OptionalLong picked = number(ctx.queryParam("notification"));
        List<StoredNotification> recent = store.notifications(OptionalLong.empty(), PAGE_SIZE);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("labelsText", text);
        model.put("choices", recent.stream().map(n -> {
            Views.Row row = views.row(n, now);
            return Map.of("id", n.id(), "text", "#" + n.id() + " " + row.status() + " " + row.alerts() + " ("
                    + row.received().age() + ")", "selected", picked.isPresent() && picked.getAsLong() == n.id());
        }).toList());
        model.put("error", "");
        model.put("result", List.of());
        model.put("source", "");
        if (picked.isPresent()) {
            Optional<Notification> parsed = store.notification(picked.getAsLong()).flatMap(views::parse);
            if (parsed.isEmpty()) {
                model.put("error", "no notification " + picked.getAsLong() + " to route");
            } else {
                model.put("source", "notification #" + picked.getAsLong()
                        + ": its common labels with its group labels over them, as ingest routes it");
                model.put("result", List.of(Views.route(routes.explain(parsed.get().commonLabels(),
                        parsed.get().groupLabels()), targets)));
            }
        } else if (!text.isBlank()) {
            switch (LabelsInput.parse(text)) {
                case LabelsInput.Parsed.Invalid invalid -> model.put("error", invalid.problem());
                case LabelsInput.Parsed.Labels labels -> {
                    model.put("source", "the pasted labels");
                    model.put("result", List.of(Views.route(routes.explain(labels.labels(), Map.of()), targets)));
                }
            }
        }
        html(ctx, 200, pages.render("route", "Route tester", "", "route", alarms(), model));
    }

    /** The message a redirect after Replay carries; only numbers cross, so nothing from the URL is echoed. */
    private static String flash(Context ctx) {
        OptionalLong replayed = number(ctx.queryParam("replayed"));
        if (replayed.isPresent()) {
            return "Delivery " + replayed.getAsLong() + " replayed: pending again, sent by the next dispatch.";
        }
        OptionalLong missing = number(ctx.queryParam("missing"));
        if (missing.isPresent()) {
            return "Delivery " + missing.getAsLong() + " is no dead letter (replayed already?).";
        }
        return "";
    }

    private void notFound(Context ctx, String root, String message) {
        Instant now = clock.instant();
        html(ctx, 404, pages.render("notifications", "Not found", root, "", alarms(), Map.of("rows", List.of(),
                "older", "", "paged", false, "missing", message, "now", Times.show(now, now))));
    }

    /** The dead letters beside their nav entry on every page: one count over the store's partial index. */
    private Map<String, Long> alarms() {
        return Map.of("dead-letters", store.countByIntegration(NotificationStore.DeliveryStatus.DEAD).values()
                .stream().mapToLong(Long::longValue).sum());
    }

    private static OptionalLong number(String text) {
        if (text == null || text.isBlank()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(text.strip()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static void html(Context ctx, int status, String page) {
        ctx.status(status).contentType("text/html; charset=utf-8")
                .header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff")
                .header("Cache-Control", "no-store")
                .result(page);
    }
}
