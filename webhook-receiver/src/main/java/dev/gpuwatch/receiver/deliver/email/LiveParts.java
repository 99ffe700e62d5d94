package dev.gpuwatch.receiver.deliver.email;

import dev.gpuwatch.receiver.enrich.LiveView;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The graph and live context in an email: the context as text lines and an HTML list, the graph as an inline
 * image, a {@code multipart/related} part of the HTML with its {@code Content-ID}, which the HTML's
 * {@code <img src="cid:…">} names (RFC 2387 / 2392), so mail clients show it without fetching anything.
 */
final class LiveParts {

    private LiveParts() {}

    /** The text body with the context lines after it. */
    static String text(String body, LiveView live) {
        if (live.context().isEmpty()) {
            return body;
        }
        StringBuilder out = new StringBuilder(body.stripTrailing()).append("\n\n");
        for (LiveView.Context c : live.context()) {
            out.append(c.title()).append(":\n");
            c.lines().forEach(l -> out.append("  ").append(l).append('\n'));
        }
        return out.toString();
    }

    /** The HTML body with the context and the graph's {@code <img>} before {@code </body>}. */
    static String html(String body, LiveView live, Optional<String> contentId) {
        StringBuilder add = new StringBuilder();
        for (LiveView.Context c : live.context()) {
            add.append("<p><b>").append(escape(c.title())).append("</b></p>\n<ul>\n");
            c.lines().forEach(l -> add.append("<li>").append(escape(l)).append("</li>\n"));
            add.append("</ul>\n");
        }
        contentId.ifPresent(cid -> add.append("<p><img src=\"cid:").append(cid).append("\" alt=\"")
                .append(escape(live.graph().map(LiveView.Graph::alt).orElse("graph"))).append("\" width=\"800\"></p>\n"));
        if (add.isEmpty()) {
            return body;
        }
        int end = body.lastIndexOf("</body>");
        return end < 0 ? body + add : body.substring(0, end) + add + body.substring(end);
    }

    /** The HTML part, and the graph as an inline part of a {@code multipart/related} when there is one. */
    static MimeBodyPart htmlPart(String html, Optional<LiveView.Graph> graph, Optional<String> contentId)
            throws MessagingException {
        MimeBodyPart htmlPart = new MimeBodyPart();
        htmlPart.setText(html, StandardCharsets.UTF_8.name(), "html");
        if (graph.isEmpty() || contentId.isEmpty()) {
            return htmlPart;
        }
        MimeBodyPart image = new MimeBodyPart();
        image.setDataHandler(new DataHandler(new ByteArrayDataSource(graph.get().png(), "image/png")));
        image.setContentID("<" + contentId.get() + ">");
        image.setDisposition(MimeBodyPart.INLINE);
        image.setFileName(graph.get().fileName());
        MimeMultipart related = new MimeMultipart("related");
        related.addBodyPart(htmlPart);
        related.addBodyPart(image);
        MimeBodyPart wrapper = new MimeBodyPart();
        wrapper.setContent(related);
        return wrapper;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
    }
}
