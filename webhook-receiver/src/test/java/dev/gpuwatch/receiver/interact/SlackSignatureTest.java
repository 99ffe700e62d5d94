package dev.gpuwatch.receiver.interact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The verifier against signatures computed here independently, with javax.crypto, as Slack documents them. */
class SlackSignatureTest {

    private static final String SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    private static final byte[] BODY = "payload=%7B%22type%22%3A%22block_actions%22%7D".getBytes(StandardCharsets.UTF_8);
    private static final Instant NOW = Instant.ofEpochSecond(1_531_420_618);

    /** HMAC-SHA256 of "v0:ts:body" under the secret, hex, with "v0=" in front. */
    private static String slackSigns(String secret, String ts, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update(("v0:" + ts + ":").getBytes(StandardCharsets.UTF_8));
        return "v0=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    private static SlackSignature.Verdict verify(List<String> secrets, Optional<String> ts, Optional<String> sig,
            Instant now) {
        return new SlackSignature(secrets).verify(ts, sig, BODY, now);
    }

    @Test
    void aSignatureMadeWithTheSecretOverTimestampAndRawBodyIsValid() throws Exception {
        String ts = Long.toString(NOW.getEpochSecond());
        String expected = slackSigns(SECRET, ts, BODY);
        assertEquals(expected, SlackSignature.sign(SECRET.getBytes(StandardCharsets.UTF_8), ts, BODY));
        assertInstanceOf(SlackSignature.Verdict.Valid.class, verify(List.of(SECRET), Optional.of(ts),
                Optional.of(expected), NOW));
        assertInstanceOf(SlackSignature.Verdict.Valid.class, verify(List.of("another app's", SECRET),
                Optional.of(ts), Optional.of(expected), NOW), "any configured secret");
    }

    @Test
    void aWrongSecretAnAlteredBodyOrAMissingHeaderIsRefused() throws Exception {
        String ts = Long.toString(NOW.getEpochSecond());
        assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.of(ts),
                Optional.of(slackSigns(SECRET + "x", ts, BODY)), NOW));
        byte[] altered = "payload=%7B%7D".getBytes(StandardCharsets.UTF_8);
        assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.of(ts),
                Optional.of(slackSigns(SECRET, ts, altered)), NOW));
        assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.of(ts),
                Optional.of(slackSigns(SECRET, Long.toString(NOW.getEpochSecond() + 1), BODY)), NOW),
                "signed for another timestamp");
        assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.empty(),
                Optional.of(slackSigns(SECRET, ts, BODY)), NOW));
        assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.of(ts),
                Optional.empty(), NOW));
        assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.of("soon"),
                Optional.of("v0=00"), NOW));
    }

    @Test
    void aTimestampMoreThanFiveMinutesFromNowIsRefusedEvenWhenSignedRight() throws Exception {
        for (long offset : new long[] {-301, 301, -360}) {
            String ts = Long.toString(NOW.getEpochSecond() + offset);
            assertInstanceOf(SlackSignature.Verdict.Refused.class, verify(List.of(SECRET), Optional.of(ts),
                    Optional.of(slackSigns(SECRET, ts, BODY)), NOW), "offset " + offset);
        }
        String edge = Long.toString(NOW.getEpochSecond() - 300);
        assertInstanceOf(SlackSignature.Verdict.Valid.class, verify(List.of(SECRET), Optional.of(edge),
                Optional.of(slackSigns(SECRET, edge, BODY)), NOW));
    }
}
