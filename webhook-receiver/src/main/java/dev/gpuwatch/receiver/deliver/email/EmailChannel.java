package dev.gpuwatch.receiver.deliver.email;

import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.MessageModel;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.deliver.message.Templates.Escaping;
import dev.gpuwatch.receiver.deliver.message.Trim;
import dev.gpuwatch.receiver.deliver.message.ValueRules;
import dev.gpuwatch.receiver.deliver.secret.Secret;
import dev.gpuwatch.receiver.enrich.LiveView;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

/**
 * Delivers by SMTP through Jakarta Mail (Angus): STARTTLS (required, never a silent fall back to clear
 * text), implicit TLS or none, with optional AUTH. A multipart text + HTML message whose every value is
 * HTML-escaped in the HTML part. The Message-ID is derived from the delivery id, so a retried send is the same
 * message to the recipient's mail system; a follow-up of the group (the resolve) replies in the same thread
 * (In-Reply-To and References set to the first message's id, "Re: " + its subject). SMTP 4xx and connection
 * problems are retried, 5xx and authentication failures are permanent. Each value is cut to
 * {@link #MAX_VALUE_BYTES} and the subject to {@link #MAX_SUBJECT} characters, with {@code …[truncated N bytes]},
 * so a huge annotation cannot make a mail the smarthost refuses for its size. Thread-safe.
 */
public final class EmailChannel implements Channel {

    static final Duration TIMEOUT = Duration.ofSeconds(15);
    static final int MAX_VALUE_BYTES = 16 * 1024;
    /** Short enough for every mail client's list, and one header line before folding (RFC 5322: 998). */
    static final int MAX_SUBJECT = 250;
    private static final ValueRules VALUES = ValueRules.plain(MAX_VALUE_BYTES);
    private static final Pattern SMTP_CODE = Pattern.compile("\\b([45])\\d\\d\\b");

    private final EmailSettings settings;
    private final Optional<String> password;
    private final Templates templates;
    private final Session session;

    private EmailChannel(EmailSettings settings, Optional<String> password, Templates templates, Session session) {
        this.settings = settings;
        this.password = password;
        this.templates = templates;
        this.session = session;
    }

    /**
     * Resolves the SMTP password now from the file or variable named in {@code settings}.
     *
     * @throws dev.gpuwatch.config.InvalidValue at the key (relative to the settings) when it is missing
     */
    public static Channel create(EmailSettings settings, Templates templates) {
        Optional<String> password = settings.authenticates()
                ? Optional.of(Secret.resolve("auth_password_file", settings.authPasswordFile(),
                        "auth_password_env", settings.authPasswordEnv()))
                : Optional.empty();
        return new EmailChannel(settings, password, templates, Session.getInstance(properties(settings)));
    }

    @Override
    public String integration() {
        return "email";
    }

    @Override
    public String toString() {
        return "EmailChannel[" + settings.smarthost() + " -> " + settings.to() + "]";
    }

    @Override
    public DeliveryOutcome deliver(Delivery delivery) {
        Optional<String> previousId = delivery.isDigest() ? Optional.empty() : delivery.previous().flatMap(r -> r.get("message_id"));
        String messageId = messageId(delivery.deliveryId());
        MimeMessage message;
        String subject;
        try {
            Map<String, Object> model = MessageModel.digest(delivery.notifications(), VALUES);
            String title = delivery.isDigest()
                    ? templates.render("digest-title", Escaping.NONE, model)
                    : templates.render("title", Escaping.NONE, MessageModel.of(delivery.notifications().getFirst(), VALUES));
            subject = Trim.toChars(Trim.oneLine(title.strip()), MAX_SUBJECT);
            String threadSubject = previousId.isPresent()
                    ? delivery.previous().flatMap(r -> r.get("subject")).orElse(subject)
                    : subject;
            message = new FixedIdMessage(session, messageId);
            message.setFrom(new InternetAddress(settings.from()));
            for (String to : settings.to()) {
                message.addRecipient(Message.RecipientType.TO, new InternetAddress(to));
            }
            message.setSubject(previousId.isPresent() ? "Re: " + threadSubject : subject, StandardCharsets.UTF_8.name());
            message.setSentDate(new Date());
            message.setHeader("Auto-Submitted", "auto-generated");
            if (previousId.isPresent()) {
                message.setHeader("In-Reply-To", previousId.get());
                message.setHeader("References", previousId.get());
                subject = threadSubject;
            }
            // graph and live context of a single notification (a digest has none): inline, multipart/related
            LiveView live = delivery.isDigest() ? LiveView.none() : delivery.notifications().getFirst().live();
            Optional<String> graphCid = live.graph().map(g -> "graph." + messageId.replaceAll("[<>]", ""));
            MimeBodyPart text = new MimeBodyPart();
            text.setText(LiveParts.text(templates.render("email-text", Escaping.NONE, model), live),
                    StandardCharsets.UTF_8.name(), "plain");
            MimeBodyPart html = LiveParts.htmlPart(LiveParts.html(templates.render("email-html", Escaping.HTML, model),
                    live, graphCid), live.graph(), graphCid);
            MimeMultipart alternative = new MimeMultipart("alternative");
            alternative.addBodyPart(text);
            alternative.addBodyPart(html);
            message.setContent(alternative);
            message.saveChanges();
        } catch (MessagingException | RuntimeException e) {
            return new DeliveryOutcome.Failed("email: cannot build message: " + e.getMessage());
        }
        try (Transport transport = session.getTransport(settings.tlsMode() == EmailSettings.Tls.IMPLICIT ? "smtps" : "smtp")) {
            transport.connect(settings.host(), settings.port(), password.isPresent() ? settings.authUsername() : null, password.orElse(null));
            transport.sendMessage(message, message.getAllRecipients());
        } catch (MessagingException e) {
            return classify(e);
        }
        String rootId = previousId.orElse(messageId);
        Receipt receipt = new Receipt(Map.of("message_id", rootId, "subject", subject));
        if (delivery.isDigest()) {
            // each folded group's resolve or next firing replies in the digest's thread
            return DeliveryOutcome.Delivered.digest(delivery, receipt);
        }
        // a reply in a digest's thread stays marked, so the group's thread root remains the digest
        boolean inDigestThread = previousId.isPresent() && delivery.previous().orElseThrow().isDigest();
        return new DeliveryOutcome.Delivered(inDigestThread ? receipt.asDigest() : receipt);
    }

    /**
     * {@code <hex sha-256 of the delivery id, 32 digits>.gpuwatch@<from domain>}: the same for every retry of
     * one delivery, so receiving systems can drop a duplicate.
     */
    static String messageId(String deliveryId, String from) {
        String domain = from.substring(from.lastIndexOf('@') + 1).replaceAll("[^A-Za-z0-9.-]", "");
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(deliveryId.getBytes(StandardCharsets.UTF_8));
            return "<" + HexFormat.of().formatHex(hash).substring(0, 32) + ".gpuwatch@" + (domain.isEmpty() ? "localhost" : domain) + ">";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private String messageId(String deliveryId) {
        String address = settings.from();
        try {
            address = new InternetAddress(settings.from()).getAddress();
        } catch (MessagingException e) {
            // validated in EmailSettings; keep the raw value
        }
        return messageId(deliveryId, address);
    }

    /** Jakarta Mail replaces Message-ID on every save; this keeps ours. */
    private static final class FixedIdMessage extends MimeMessage {
        private final String id;

        FixedIdMessage(Session session, String id) {
            super(session);
            this.id = id;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", id);
        }
    }

    static DeliveryOutcome classify(MessagingException e) {
        for (Throwable t = e; t != null; t = next(t)) {
            if (t instanceof AuthenticationFailedException) {
                return new DeliveryOutcome.Failed("email: SMTP authentication failed");
            }
            int code = switch (t) {
                case SMTPSendFailedException s -> s.getReturnCode();
                case SMTPAddressFailedException s -> s.getReturnCode();
                case SMTPSenderFailedException s -> s.getReturnCode();
                default -> -1;
            };
            if (code >= 400) {
                String reason = "email: SMTP " + code + " " + oneLine(Optional.ofNullable(t.getMessage()).orElse(""));
                return code < 500 ? new DeliveryOutcome.RetryLater(reason, Optional.empty()) : new DeliveryOutcome.Failed(reason);
            }
            if (t instanceof SSLException) {
                return new DeliveryOutcome.Failed("email: TLS failed: " + oneLine(String.valueOf(t.getMessage())));
            }
            if (t instanceof SocketTimeoutException) {
                return new DeliveryOutcome.RetryLater("email: timeout", Optional.empty());
            }
        }
        String message = oneLine(Optional.ofNullable(e.getMessage()).orElse(e.getClass().getSimpleName()));
        if (message.contains("STARTTLS")) {
            // The server does not offer STARTTLS though tls: starttls requires it: a configuration problem.
            return new DeliveryOutcome.Failed("email: " + message);
        }
        if (e instanceof SendFailedException || !(rootCause(e) instanceof IOException)) {
            Matcher m = SMTP_CODE.matcher(message);
            if (m.find() && m.group(1).equals("5")) {
                return new DeliveryOutcome.Failed("email: " + message);
            }
        }
        return new DeliveryOutcome.RetryLater("email: " + message, Optional.empty());
    }

    private static Throwable next(Throwable t) {
        if (t instanceof MessagingException m && m.getNextException() != null && m.getNextException() != t) {
            return m.getNextException();
        }
        return t.getCause() == t ? null : t.getCause();
    }

    private static Throwable rootCause(Throwable t) {
        Throwable r = t;
        while (next(r) != null) {
            r = next(r);
        }
        return r;
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("[\\r\\n\\t]+", " ");
    }

    private static Properties properties(EmailSettings s) {
        Properties p = new Properties();
        String timeout = Long.toString(TIMEOUT.toMillis());
        for (String protocol : new String[] {"smtp", "smtps"}) {
            String prefix = "mail." + protocol + ".";
            p.setProperty(prefix + "host", s.host());
            p.setProperty(prefix + "port", Integer.toString(s.port()));
            p.setProperty(prefix + "localhost", s.hello());
            p.setProperty(prefix + "connectiontimeout", timeout);
            p.setProperty(prefix + "timeout", timeout);
            p.setProperty(prefix + "writetimeout", timeout);
            p.setProperty(prefix + "auth", Boolean.toString(s.authenticates()));
            if (s.tlsInsecureSkipVerify()) {
                p.setProperty(prefix + "ssl.trust", "*");
                p.setProperty(prefix + "ssl.checkserveridentity", "false");
            } else {
                p.setProperty(prefix + "ssl.checkserveridentity", "true");
            }
        }
        switch (s.tlsMode()) {
            case STARTTLS -> {
                p.setProperty("mail.smtp.starttls.enable", "true");
                p.setProperty("mail.smtp.starttls.required", "true");
            }
            case IMPLICIT -> p.setProperty("mail.smtps.ssl.enable", "true");
            case NONE -> { }
        }
        return p;
    }
}
