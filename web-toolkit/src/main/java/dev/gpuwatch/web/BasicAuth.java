package dev.gpuwatch.web;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP basic auth against {@code basic_auth_users} bcrypt hashes, the one check both servers call with the
 * request's {@code Authorization} header.
 *
 * <p>Which users exist does not show in the time an answer takes: the name is compared with every user's, in
 * constant time, and an unknown user costs one bcrypt verification too (against a dummy hash at the users' highest
 * cost). Verified (user, password, hash) triples are remembered as SHA-256 digests, as exporter-toolkit caches them,
 * so a Prometheus scraping every few seconds does not pay a bcrypt verification (~70 ms at cost 10) per scrape.
 */
public final class BasicAuth {

    /** The realm both servers name in a 401. */
    public static final String REALM = "gpuwatch";
    /** The {@code WWW-Authenticate} value of a 401, the same on both servers. */
    public static final String CHALLENGE = "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"";

    private static final int CACHE_LIMIT = 256;

    private record User(String name, byte[] nameDigest, char[] hash) {}

    private final List<User> users;
    private final char[] dummyHash;
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    /** {@code users}: name to bcrypt hash, already checked by {@link WebConfigFile}. */
    BasicAuth(Map<String, String> users) {
        List<User> list = new ArrayList<>();
        users.forEach((name, hash) -> list.add(new User(name, sha256(name), hash.toCharArray())));
        this.users = List.copyOf(list);
        int cost = users.values().stream().mapToInt(h -> Integer.parseInt(h.substring(4, 6))).max().orElse(10);
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        this.dummyHash = BCrypt.withDefaults().hashToChar(cost, HexFormat.of().formatHex(random).toCharArray());
    }

    /**
     * The user an {@code Authorization} header proves, or empty for a missing, malformed or wrong one (answer 401
     * with {@link #CHALLENGE}).
     */
    public Optional<String> verifiedUser(Optional<String> authorization) {
        if (authorization.isEmpty()) {
            return Optional.empty();
        }
        String header = authorization.get().strip();
        int space = header.indexOf(' ');
        if (space < 0 || !header.substring(0, space).equalsIgnoreCase("Basic")) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(space + 1).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int colon = decoded.indexOf(':'); // RFC 7617: a user name has no colon, a password may
        if (colon < 0) {
            return Optional.empty();
        }
        String user = decoded.substring(0, colon);
        return check(user, decoded.substring(colon + 1)) ? Optional.of(user) : Optional.empty();
    }

    boolean check(String name, String password) {
        Optional<User> user = lookup(name);
        char[] hash = user.map(User::hash).orElse(dummyHash);
        String key = cacheKey(name, password, hash);
        if (user.isPresent() && verified.contains(key)) {
            return true;
        }
        boolean ok = BCrypt.verifyer().verify(password.toCharArray(), hash).verified;
        if (ok && user.isPresent()) {
            if (verified.size() >= CACHE_LIMIT) {
                verified.clear();
            }
            verified.add(key);
        }
        return ok && user.isPresent();
    }

    /** Compares {@code name} with every user's, without stopping at a match. */
    private Optional<User> lookup(String name) {
        byte[] digest = sha256(name);
        User found = null;
        for (User u : users) {
            if (MessageDigest.isEqual(digest, u.nameDigest()) & found == null) {
                found = u;
            }
        }
        return Optional.ofNullable(found);
    }

    private static String cacheKey(String user, String password, char[] hash) {
        MessageDigest sha = sha256();
        sha.update(user.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(password.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(new String(hash).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest());
    }

    private static byte[] sha256(String text) {
        return sha256().digest(text.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
