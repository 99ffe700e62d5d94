package dev.gpuwatch.receiver.deliver.email;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import dev.gpuwatch.receiver.enrich.LiveView;
import jakarta.mail.BodyPart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The graph inline in the HTML (multipart/related, Content-ID named by the img), the context in both parts. */
class EmailGraphTest {

    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 7, 8, 9};

    @RegisterExtension
    static final GreenMailExtension MAIL = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

    private dev.gpuwatch.receiver.deliver.Channel channel() {
        return EmailChannel.create(new EmailSettings("127.0.0.1:" + MAIL.getSmtp().getPort(),
                "gpuwatch@alerts.example", List.of("oncall@team.example"), "", "", "", "none", "gpuwatch.test", false),
                Templates.defaults());
    }

    private static EnrichedNotification withGraph() {
        return Fixtures.enrich(Fixtures.notification("firing", List.of(Fixtures.xid("firing", "node-1", "0"))))
                .withLive(new LiveView(Optional.of(new LiveView.Graph(PNG, "gpuxiderror-20261204-101500.png",
                        "GpuXidError: up == 0", "GpuXidError <over> the last hour", Optional.empty())),
                        List.of(new LiveView.Context("Top processes on this GPU (memory)", List.of("python3 <4242>: 65 GiB")))));
    }

    @Test
    void theGraphIsAnInlinePartTheHtmlNamesByContentId() throws Exception {
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel().deliver(Fixtures.delivery("d-graph", withGraph(),
                Optional.empty())));
        assertTrue(MAIL.waitForIncomingEmail(5000, 1));
        MimeMessage m = MAIL.getReceivedMessages()[0];
        MimeMultipart alternative = (MimeMultipart) m.getContent();
        assertTrue(m.getContentType().startsWith("multipart/alternative"), m.getContentType());
        String text = ((String) alternative.getBodyPart(0).getContent()).replace("\r\n", "\n");
        assertTrue(text.contains("Top processes on this GPU (memory):\n  python3 <4242>: 65 GiB\n"), text);

        BodyPart second = alternative.getBodyPart(1);
        assertTrue(second.getContentType().startsWith("multipart/related"), second.getContentType());
        MimeMultipart related = (MimeMultipart) second.getContent();
        assertEquals(2, related.getCount());
        String html = (String) related.getBodyPart(0).getContent();
        assertTrue(related.getBodyPart(0).getContentType().startsWith("text/html"));
        assertTrue(html.contains("<li>python3 &lt;4242&gt;: 65 GiB</li>"), html);
        Matcher img = Pattern.compile("<img src=\"cid:([^\"]+)\" alt=\"GpuXidError &lt;over&gt; the last hour\"").matcher(html);
        assertTrue(img.find(), html);

        var image = (jakarta.mail.internet.MimeBodyPart) related.getBodyPart(1);
        assertTrue(image.getContentType().startsWith("image/png"), image.getContentType());
        assertEquals("<" + img.group(1) + ">", image.getContentID(), "the img names the image part");
        assertEquals(Part.INLINE, image.getDisposition());
        assertArrayEquals(PNG, image.getInputStream().readAllBytes());
    }
}
