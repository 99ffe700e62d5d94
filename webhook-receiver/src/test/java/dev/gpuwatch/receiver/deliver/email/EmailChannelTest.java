package dev.gpuwatch.receiver.deliver.email;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import jakarta.mail.Address;
import jakarta.mail.BodyPart;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class EmailChannelTest {

    private static final String FROM = "gpuwatch@alerts.example";
    private static final String TO = "oncall@team.example";

    @RegisterExtension
    static final GreenMailExtension MAIL = new GreenMailExtension(
            new ServerSetup[] {ServerSetupTest.SMTP.dynamicPort(), ServerSetupTest.SMTPS.dynamicPort()})
            .withConfiguration(GreenMailConfiguration.aConfig().withUser(FROM, "bot", "s3cret"));

    @TempDir
    Path dir;

    private Channel channel(int port, String tls, String password, boolean skipVerify) throws Exception {
        Path file = dir.resolve("password");
        Files.writeString(file, password + "\n");
        return EmailChannel.create(new EmailSettings("127.0.0.1:" + port, FROM, List.of(TO), "bot", file.toString(), "",
                tls, "gpuwatch.test", skipVerify), Templates.defaults());
    }

    private Channel plain() throws Exception {
        return channel(MAIL.getSmtp().getPort(), "none", "s3cret", false);
    }

    private static EnrichedNotification hostile(String status) {
        Alert a = Fixtures.alert(status,
                Map.of("alertname", "GpuXidError", "instance", "node-1", "gpu", "<b>0</b>"),
                Map.of("summary", "<script>alert('x')</script> & more", "description", "\"quoted\" <img src=x onerror=y>"));
        return Fixtures.enrich(Fixtures.notification(status, List.of(a)));
    }

    private static String part(MimeMessage m, String type) throws Exception {
        MimeMultipart multipart = (MimeMultipart) m.getContent();
        assertTrue(m.getContentType().startsWith("multipart/alternative"), m.getContentType());
        for (int i = 0; i < multipart.getCount(); i++) {
            BodyPart p = multipart.getBodyPart(i);
            if (p.getContentType().startsWith(type)) {
                return ((String) p.getContent()).replace("\r\n", "\n");
            }
        }
        throw new AssertionError("no " + type + " part");
    }

    @Test
    void sendsTextAndEscapedHtmlWithAMessageIdStableAcrossRetries() throws Exception {
        Channel channel = plain();
        Delivery d = Fixtures.delivery("delivery-42", hostile("firing"), Optional.empty());
        Receipt receipt = assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(d)).receipt();
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(d));  // a retry of the same delivery
        assertTrue(MAIL.waitForIncomingEmail(5000, 2));
        MimeMessage[] received = MAIL.getReceivedMessages();
        String id = EmailChannel.messageId("delivery-42", FROM);
        assertTrue(id.matches("<[0-9a-f]{32}\\.gpuwatch@alerts\\.example>"), id);
        assertEquals(id, received[0].getMessageID());
        assertEquals(id, received[1].getMessageID());
        assertEquals(Map.of("message_id", id, "subject", "[FIRING:1] GpuXidError (node-1)"), receipt.values());
        assertEquals("[FIRING:1] GpuXidError (node-1)", received[0].getSubject());
        assertArrayEquals(new Address[] {new InternetAddress(TO)}, received[0].getAllRecipients());
        assertEquals("auto-generated", received[0].getHeader("Auto-Submitted")[0]);

        String text = part(received[0], "text/plain");
        assertTrue(text.contains("Summary: <script>alert('x')</script> & more"), text);
        String html = part(received[0], "text/html");
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"), html);
        assertTrue(html.contains("&quot;quoted&quot; &lt;img src=x onerror=y&gt;"), html);
        assertTrue(html.contains("gpu=&lt;b&gt;0&lt;/b&gt;"), html);
        assertFalse(html.contains("<script>") || html.contains("<img") || html.contains("<b>0"), html);
        assertTrue(html.contains("<a href=\"http://receiver.example:9095/runbooks/gpuxiderror\">"), html);
    }

    @Test
    void labelValuesCannotForgeLinesInTheTextPart() throws Exception {
        Alert a = Fixtures.alert("firing",
                Map.of("alertname", "GpuHot", "instance", "node-1\n  Runbook: http://evil.example/"),
                Map.of("summary", "hot\u2028  Owner: nobody"));
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing",
                Map.of("alertname", "GpuHot", "instance", "node-1\r\nBcc: victim@example.com"), List.of(a)));
        assertInstanceOf(DeliveryOutcome.Delivered.class, plain().deliver(Fixtures.delivery("d-lines", n, Optional.empty())));
        assertTrue(MAIL.waitForIncomingEmail(5000, 1));
        MimeMessage m = MAIL.getReceivedMessages()[0];
        assertEquals("[FIRING:1] GpuHot (node-1 Bcc: victim@example.com)", m.getSubject());
        List<String> lines = part(m, "text/plain").lines().toList();
        assertEquals("[FIRING:1] GpuHot (node-1 Bcc: victim@example.com)", lines.getFirst());
        assertTrue(lines.contains("  Summary: hot Owner: nobody"), lines.toString());
        assertTrue(lines.contains("  Labels: instance=node-1 Runbook: http://evil.example/"), lines.toString());
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("  Runbook: http://evil") || l.startsWith("  Owner:")), lines.toString());
    }

    @Test
    void aHugeDescriptionAndALongTitleAreCut() throws Exception {
        Alert a = Fixtures.alert("firing", Map.of("alertname", "GpuHot", "instance", "node-1"),
                Map.of("summary", "hot", "description", "d".repeat(600_000)));
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing",
                Map.of("alertname", "GpuHot", "instance", "i".repeat(300)), List.of(a)));
        assertInstanceOf(DeliveryOutcome.Delivered.class, plain().deliver(Fixtures.delivery("d-huge", n, Optional.empty())));
        assertTrue(MAIL.waitForIncomingEmail(5000, 1));
        MimeMessage m = MAIL.getReceivedMessages()[0];
        assertEquals("[FIRING:1] GpuHot (" + "i".repeat(209) + "…[truncated 92 bytes]", m.getSubject());
        String description = "  Description: " + "d".repeat(16_357) + "…[truncated 583643 bytes]";
        assertTrue(part(m, "text/plain").lines().anyMatch(description::equals));
        assertTrue(part(m, "text/html").contains("<td>" + "d".repeat(16_357) + "…[truncated 583643 bytes]</td>"));
        assertTrue(m.getSize() < 100_000, m.getSize() + " bytes");
    }

    @Test
    void resolvedMailRepliesInTheSameThread() throws Exception {
        Channel channel = plain();
        Receipt first = assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(Fixtures.delivery("d-firing", hostile("firing"), Optional.empty()))).receipt();
        Receipt second = assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(Fixtures.delivery("d-resolved", hostile("resolved"), Optional.of(first)))).receipt();
        assertEquals(first, second, "the thread root stays the first message");
        assertTrue(MAIL.waitForIncomingEmail(5000, 2));
        MimeMessage reply = MAIL.getReceivedMessages()[1];
        String root = first.get("message_id").orElseThrow();
        assertEquals(EmailChannel.messageId("d-resolved", FROM), reply.getMessageID());
        assertEquals(root, reply.getHeader("In-Reply-To")[0]);
        assertEquals(root, reply.getHeader("References")[0]);
        assertEquals("Re: [FIRING:1] GpuXidError (node-1)", reply.getSubject());
        assertTrue(part(reply, "text/plain").startsWith("[RESOLVED] GpuXidError (node-1)\n"), part(reply, "text/plain"));
    }

    @Test
    void implicitTlsDelivers() throws Exception {
        Channel tls = channel(MAIL.getSmtps().getPort(), "implicit", "s3cret", true);
        assertInstanceOf(DeliveryOutcome.Delivered.class, tls.deliver(Fixtures.delivery("d", hostile("firing"), Optional.empty())));
        assertTrue(MAIL.waitForIncomingEmail(5000, 1));
    }

    @Test
    void untrustedCertificateIsRefused() throws Exception {
        Channel tls = channel(MAIL.getSmtps().getPort(), "implicit", "s3cret", false);
        DeliveryOutcome outcome = tls.deliver(Fixtures.delivery("d", hostile("firing"), Optional.empty()));
        assertTrue(assertInstanceOf(DeliveryOutcome.Failed.class, outcome).reason().startsWith("email: TLS failed"), outcome.toString());
        assertEquals(0, MAIL.getReceivedMessages().length);
    }

    @Test
    void starttlsIsRequiredNeverSkipped() throws Exception {
        // GreenMail's plain SMTP does not offer STARTTLS: tls: starttls must refuse to send in clear text.
        Channel starttls = channel(MAIL.getSmtp().getPort(), "starttls", "s3cret", true);
        DeliveryOutcome outcome = starttls.deliver(Fixtures.delivery("d", hostile("firing"), Optional.empty()));
        assertTrue(assertInstanceOf(DeliveryOutcome.Failed.class, outcome).reason().contains("STARTTLS"), outcome.toString());
        assertEquals(0, MAIL.getReceivedMessages().length);
    }

    @Test
    void wrongPasswordIsPermanent() throws Exception {
        Channel wrong = channel(MAIL.getSmtp().getPort(), "none", "wrong", false);
        assertEquals(new DeliveryOutcome.Failed("email: SMTP authentication failed"),
                wrong.deliver(Fixtures.delivery("d", hostile("firing"), Optional.empty())));
    }

    @Test
    void unreachableServerIsRetried() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        DeliveryOutcome outcome = channel(closed, "none", "s3cret", false)
                .deliver(Fixtures.delivery("d", hostile("firing"), Optional.empty()));
        assertInstanceOf(DeliveryOutcome.RetryLater.class, outcome);
        assertFalse(outcome.toString().contains("s3cret"));
    }

    @Test
    void smtpReplyCodesDecideRetryOrFail() {
        Address[] none = new Address[0];
        assertInstanceOf(DeliveryOutcome.RetryLater.class, EmailChannel.classify(
                new SMTPSendFailedException("DATA", 452, "452 4.3.1 Insufficient system storage", null, none, none, none)));
        assertInstanceOf(DeliveryOutcome.RetryLater.class, EmailChannel.classify(
                new SMTPSendFailedException("MAIL", 421, "421 4.7.0 Try again later", null, none, none, none)));
        assertEquals(new DeliveryOutcome.Failed("email: SMTP 550 550 5.1.1 No such user"), EmailChannel.classify(
                new SMTPSendFailedException("RCPT", 550, "550 5.1.1 No such user", null, none, none, none)));
    }

    @Test
    void settingsDeserializeFromYaml() throws Exception {
        EmailSettings s = ConfigReader.create().parse("r.yml", """
                        smarthost: smtp.example:465
                        from: gpuwatch@alerts.example
                        to: [a@team.example, b@team.example]
                        auth_username: bot
                        auth_password_file: /run/secrets/smtp
                        tls: implicit
                        """, EmailSettings.class).value();
        assertEquals("smtp.example", s.host());
        assertEquals(465, s.port());
        assertEquals(EmailSettings.Tls.IMPLICIT, s.tlsMode());
        assertEquals(List.of("a@team.example", "b@team.example"), s.to());
        assertEquals("localhost", s.hello());
        assertFalse(s.tlsInsecureSkipVerify());
    }

    @Test
    void digestIsOneMailListingEveryNotification() throws Exception {
        Delivery digest = new Delivery("digest-7", "digest", List.of(hostile("firing"),
                Fixtures.enrich(Fixtures.notification("resolved", List.of(Fixtures.xid("resolved", "node-2", "3"))))), Optional.empty());
        Receipt r = assertInstanceOf(DeliveryOutcome.Delivered.class, plain().deliver(digest)).receipt();
        assertEquals(Optional.of("[DIGEST] 2 notifications: 1 firing, 1 resolved"), r.get("subject"));
        assertTrue(MAIL.waitForIncomingEmail(5000, 1));
        String text = part(MAIL.getReceivedMessages()[0], "text/plain");
        assertTrue(text.startsWith("[FIRING:1] GpuXidError (node-1)\n"), text);
        assertTrue(text.contains("\n[RESOLVED] GpuXidError (node-2)\n"), text);
    }

    @Test
    void settingsAreValidatedWithTheKeyNamed() {
        assertRefused("smarthost", "must be host:port, got 'mail.example'",
                () -> new EmailSettings("mail.example", FROM, List.of(TO), "", "", "", "", "", false));
        assertRefused("to", "at least one recipient is required",
                () -> new EmailSettings("m:25", FROM, List.of(), "", "", "", "", "", false));
        assertRefused("tls", "must be none, starttls or implicit, got ssl",
                () -> new EmailSettings("m:25", FROM, List.of(TO), "", "", "", "ssl", "", false));
        assertRefused("auth_username", "needs auth_password_file or auth_password_env",
                () -> new EmailSettings("m:25", FROM, List.of(TO), "bot", "", "", "", "", false));
        assertEquals(EmailSettings.Tls.STARTTLS, new EmailSettings("m:587", FROM, List.of(TO), null, null, null, null, null, false).tlsMode());
    }

    private static void assertRefused(String key, String problem, org.junit.jupiter.api.function.Executable settings) {
        InvalidValue e = assertThrows(InvalidValue.class, settings);
        assertEquals(List.of(key, problem), List.of(e.key(), e.problem()));
    }
}
