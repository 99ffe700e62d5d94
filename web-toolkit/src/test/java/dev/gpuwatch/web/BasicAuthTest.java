package dev.gpuwatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The one basic-auth check both servers call with the request's Authorization header. */
class BasicAuthTest {

    private static final String ALICE = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
    private static final String BOB = BCrypt.with(BCrypt.Version.VERSION_2B).hashToString(4, "hunter2:x".toCharArray());
    private final BasicAuth auth = new BasicAuth(Map.of("alice", ALICE, "bob", BOB));

    private static Optional<String> basic(String user, String password) {
        return Optional.of("Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theRightPasswordProvesTheUser() {
        assertEquals(Optional.of("alice"), auth.verifiedUser(basic("alice", "s3cret")));
        assertEquals(Optional.of("alice"), auth.verifiedUser(basic("alice", "s3cret")), "again, from the cache");
        assertEquals(Optional.of("bob"), auth.verifiedUser(basic("bob", "hunter2:x")), "a password may hold a colon");
        assertEquals(Optional.of("alice"), auth.verifiedUser(Optional.of("basic  "
                + basic("alice", "s3cret").orElseThrow().substring(6) + " ")), "the scheme is case-insensitive");
    }

    @Test
    void anythingElseIsRefused() {
        assertEquals(Optional.empty(), auth.verifiedUser(Optional.empty()));
        assertEquals(Optional.empty(), auth.verifiedUser(basic("alice", "wrong")));
        assertEquals(Optional.empty(), auth.verifiedUser(basic("alice", "s3cret!")));
        assertEquals(Optional.empty(), auth.verifiedUser(basic("mallory", "s3cret")), "unknown user");
        assertEquals(Optional.empty(), auth.verifiedUser(basic("bob", "s3cret")), "another user's password");
        assertEquals(Optional.empty(), auth.verifiedUser(basic("Alice", "s3cret")), "user names are exact");
        assertEquals(Optional.empty(), auth.verifiedUser(Optional.of("Basic %%%")));
        assertEquals(Optional.empty(), auth.verifiedUser(Optional.of("Basic")));
        assertEquals(Optional.empty(), auth.verifiedUser(Optional.of("Bearer s3cret")));
        assertEquals(Optional.empty(), auth.verifiedUser(Optional.of("Basic "
                + Base64.getEncoder().encodeToString("alice".getBytes(StandardCharsets.UTF_8)))), "no colon");
    }

    @Test
    void theCacheRemembersOnlyVerifiedTriples() {
        assertTrue(auth.check("alice", "s3cret"));
        assertFalse(auth.check("alice", "s3cret "));
        assertFalse(auth.check("mallory", "s3cret"));
        assertTrue(auth.check("alice", "s3cret"));
    }

    @Test
    void theChallengeIsTheSameOnBothServers() {
        assertEquals("Basic realm=\"gpuwatch\", charset=\"UTF-8\"", BasicAuth.CHALLENGE);
    }
}
