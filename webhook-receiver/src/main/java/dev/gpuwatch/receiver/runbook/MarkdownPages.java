package dev.gpuwatch.receiver.runbook;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.commonmark.Extension;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.Heading;
import org.commonmark.node.Link;
import org.commonmark.node.Node;
import org.commonmark.node.Text;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

/**
 * Markdown to small HTML pages with commonmark-java. Raw HTML in the Markdown is escaped and unsafe link schemes
 * are dropped, so a page can carry no script. Links between runbooks ({@code gpuxiderror.md#x}) become the
 * served pages' relative links ({@code gpuxiderror#x}), which work behind any external URL; relative links to
 * files outside the set (the repository's rules/README.md) cannot open here and are kept as their text.
 */
final class MarkdownPages {

    private static final List<Extension> EXTENSIONS = List.of(TablesExtension.create());
    private static final Parser PARSER = Parser.builder().extensions(EXTENSIONS).build();
    private static final HtmlRenderer RENDERER = HtmlRenderer.builder().extensions(EXTENSIONS)
            .escapeHtml(true).sanitizeUrls(true).build();
    private static final String STYLE = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;"
            + "padding:0 1rem;line-height:1.5;color:#1f2328}code{background:#f3f4f6;padding:0 .2em;border-radius:3px}"
            + "pre{background:#f3f4f6;padding:.8em;overflow:auto}table{border-collapse:collapse}"
            + "th,td{border:1px solid #d0d7de;padding:.2em .6em}nav{font-size:.9em;margin-bottom:1em}";

    private final Set<String> names;

    MarkdownPages(Set<String> names) {
        this.names = Set.copyOf(names);
    }

    Runbook runbook(String name, String markdown) {
        Node document = parse(markdown);
        String title = title(document).orElse(name);
        return new Runbook(name, title, page(title, "<nav><a href=\"./\">All runbooks</a></nav>\n",
                RENDERER.render(document)));
    }

    String index(String markdown) {
        Node document = parse(markdown);
        return page(title(document).orElse("Runbooks"), "", RENDERER.render(document));
    }

    /** The index when the folder has no README: one link per runbook. */
    String list(Collection<Runbook> runbooks) {
        StringBuilder body = new StringBuilder("<h1>Runbooks</h1>\n<ul>\n");
        for (Runbook r : runbooks) {
            body.append("<li><a href=\"").append(escape(r.name())).append("\">").append(escape(r.title()))
                    .append("</a></li>\n");
        }
        return page("Runbooks", "", body.append("</ul>\n").toString());
    }

    private Node parse(String markdown) {
        Node document = PARSER.parse(markdown);
        document.accept(new AbstractVisitor() {
            @Override
            public void visit(Link link) {
                visitChildren(link);
                rewrite(link);
            }
        });
        return document;
    }

    private void rewrite(Link link) {
        String destination = link.getDestination();
        if (destination.startsWith("#") || destination.contains("://") || destination.startsWith("mailto:")) {
            return;
        }
        int hash = destination.indexOf('#');
        String file = hash < 0 ? destination : destination.substring(0, hash);
        String fragment = hash < 0 ? "" : destination.substring(hash);
        String name = file.endsWith(".md") ? file.substring(0, file.length() - ".md".length()) : file;
        if (names.contains(name)) {
            link.setDestination(name + fragment);
            return;
        }
        // a file of the repository the receiver does not serve: keep the words, drop the dead link
        Node child = link.getFirstChild();
        while (child != null) {
            Node next = child.getNext();
            link.insertBefore(child);
            child = next;
        }
        link.unlink();
    }

    /** The text of the first level-1 heading. */
    private static Optional<String> title(Node document) {
        for (Node n = document.getFirstChild(); n != null; n = n.getNext()) {
            if (n instanceof Heading h && h.getLevel() == 1) {
                StringBuilder text = new StringBuilder();
                h.accept(new AbstractVisitor() {
                    @Override
                    public void visit(Text t) {
                        text.append(t.getLiteral());
                    }
                });
                return Optional.of(text.toString().strip()).filter(s -> !s.isEmpty());
            }
        }
        return Optional.empty();
    }

    private static String page(String title, String nav, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<title>" + escape(title) + "</title>\n<style>" + STYLE + "</style>\n</head>\n<body>\n" + nav
                + "<main>\n" + body + "</main>\n</body>\n</html>\n";
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
