package dev.gpuwatch.receiver.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Replay form's cross-site check, case by case as Go's CrossOriginProtection decides them. */
class SameOriginTest {

    private static final Optional<String> HOST = Optional.of("receiver:9095");

    @Test
    void aBrowserSaysWhereTheFormCameFrom() {
        assertEquals(Optional.empty(), SameOrigin.refusal(Optional.of("same-origin"), Optional.empty(), HOST));
        assertEquals(Optional.empty(), SameOrigin.refusal(Optional.of("none"), Optional.empty(), HOST),
                "typed or bookmarked by the user");
        assertTrue(SameOrigin.refusal(Optional.of("cross-site"), Optional.of("http://receiver:9095"), HOST)
                .isPresent(), "Sec-Fetch-Site decides when present");
        assertTrue(SameOrigin.refusal(Optional.of("same-site"), Optional.empty(), HOST).isPresent(),
                "another host of the same site is another origin");
    }

    @Test
    void withoutSecFetchSiteTheOriginMustNameThisHost() {
        assertEquals(Optional.empty(), SameOrigin.refusal(Optional.empty(), Optional.of("http://receiver:9095"), HOST));
        assertEquals(Optional.empty(), SameOrigin.refusal(Optional.empty(), Optional.of("https://RECEIVER:9095"), HOST));
        assertTrue(SameOrigin.refusal(Optional.empty(), Optional.of("http://receiver:9096"), HOST).isPresent());
        assertTrue(SameOrigin.refusal(Optional.empty(), Optional.of("null"), HOST).isPresent(),
                "a sandboxed frame's opaque origin");
        assertTrue(SameOrigin.refusal(Optional.empty(), Optional.of("http://receiver:9095"), Optional.empty())
                .isPresent());
    }

    @Test
    void aRequestWithNeitherHeaderComesFromNoBrowser() {
        assertEquals(Optional.empty(), SameOrigin.refusal(Optional.empty(), Optional.empty(), HOST));
    }
}
