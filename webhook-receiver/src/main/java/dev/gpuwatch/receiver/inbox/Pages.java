package dev.gpuwatch.receiver.inbox;

import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.Template;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inbox's templates (logic-less Mustache, HTML-escaped; {@code src/main/resources/inbox/}) and its one layout.
 * Every page is rendered into {@code layout.mustache} with the nav of {@link #NAV}: a new page is a template, an
 * entry there and a route in {@link Inbox}.
 */
final class Pages {

    /** One nav entry: the path under {@code /inbox/} and its label. */
    record NavItem(String path, String label) {}

    static final List<NavItem> NAV = List.of(
            new NavItem("", "Notifications"),
            new NavItem("dead-letters", "Dead letters"),
            new NavItem("route", "Route tester"),
            new NavItem("actions", "Slack actions"));

    /**
     * A nav entry as rendered: {@code href} relative to the page, {@code current} for the page shown, {@code alarm}
     * a count that needs someone (the dead letters), empty when there is none.
     */
    record NavLink(String href, String label, boolean current, String alarm) {}

    private final Template layout;
    private final Map<String, Template> pages = new LinkedHashMap<>();

    Pages() {
        // strict about names (a missing one throws, so a typo fails the tests), escaping with jmustache's HTML
        // escaper (& < > " ' ` =); empty strings, zeros and empty lists count as false in sections
        Mustache.Compiler compiler = Mustache.compiler().escapeHTML(true).emptyStringIsFalse(true)
                .zeroIsFalse(true);
        layout = compiler.compile(resource("layout.mustache"));
        for (String name : List.of("notifications", "notification", "dead-letters", "route", "actions")) {
            pages.put(name, compiler.compile(resource(name + ".mustache")));
        }
    }

    static String stylesheet() {
        return resource("inbox.css");
    }

    /**
     * @param root the way from the page to {@code /inbox/} ({@code ""} or {@code "../"}): links stay relative, so
     *     the pages work behind a proxy that serves the receiver under a prefix
     * @param current the nav entry's path this page belongs to
     * @param alarms counts shown beside nav entries, by path
     */
    String render(String page, String title, String root, String current, Map<String, Long> alarms,
            Map<String, Object> model) {
        String body = pages.get(page).execute(model);
        Map<String, Object> frame = new LinkedHashMap<>();
        frame.put("title", title);
        frame.put("root", root);
        frame.put("nav", NAV.stream().map(n -> new NavLink(root + (n.path().isEmpty() ? "./" : n.path()), n.label(),
                n.path().equals(current), alarms.getOrDefault(n.path(), 0L) > 0 ? alarms.get(n.path()).toString() : ""))
                .toList());
        frame.put("body", body); // rendered with escaping above, placed unescaped ({{{body}}}) here
        return layout.execute(frame);
    }

    private static String resource(String name) {
        try (InputStream in = Pages.class.getResourceAsStream("/inbox/" + name)) {
            if (in == null) {
                throw new IllegalStateException("inbox resource missing from the jar: " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
