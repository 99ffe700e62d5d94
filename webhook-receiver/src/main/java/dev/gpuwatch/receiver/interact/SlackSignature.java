package dev.gpuwatch.receiver.interact;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Slack's request signing: {@code X-Slack-Signature: v0=<hex>}, the hex HMAC-SHA256 under the app's signing secret
 * of {@code "v0:" + X-Slack-Request-Timestamp + ":" + raw body}. A timestamp more than {@link #MAX_AGE} from now
 * is refused whatever the signature (a replayed request), and signatures compare in constant time.
 */
final class SlackSignature {

    static final Duration MAX_AGE = Duration.ofMinutes(5);

    /** Why a request was refused, for the log line; the secrets are never in it. */
    sealed interface Verdict {
        record Valid() implements Verdict {}

        record Refused(String reason) implements Verdict {}
    }

    private final List<byte[]> secrets;

    /** @param secrets every configured signing secret: a request signed with any of them is Slack's */
    SlackSignature(List<String> secrets) {
        this.secrets = secrets.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
    }

    Verdict verify(Optional<String> timestamp, Optional<String> signature, byte[] body, Instant now) {
        if (timestamp.isEmpty() || signature.isEmpty()) {
            return new Verdict.Refused("X-Slack-Request-Timestamp or X-Slack-Signature missing");
        }
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.get().strip());
        } catch (NumberFormatException e) {
            return new Verdict.Refused("X-Slack-Request-Timestamp is not a number");
        }
        if (Math.abs(now.getEpochSecond() - seconds) > MAX_AGE.toSeconds()) {
            return new Verdict.Refused("X-Slack-Request-Timestamp more than " + MAX_AGE.toMinutes() + " minutes from now");
        }
        byte[] given = signature.get().strip().getBytes(StandardCharsets.US_ASCII);
        for (byte[] secret : secrets) {
            byte[] expected = sign(secret, timestamp.get().strip(), body).getBytes(StandardCharsets.US_ASCII);
            if (MessageDigest.isEqual(expected, given)) {
                return new Verdict.Valid();
            }
        }
        return new Verdict.Refused("X-Slack-Signature does not match");
    }

    /** {@code v0=<hex>} of {@code body} at {@code timestamp}: what Slack sends, and what the local Slack signs with. */
    static String sign(byte[] secret, String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(("v0:" + timestamp + ":").getBytes(StandardCharsets.UTF_8));
            return "v0=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
