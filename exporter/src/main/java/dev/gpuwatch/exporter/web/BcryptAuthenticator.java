package dev.gpuwatch.exporter.web;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.sun.net.httpserver.BasicAuthenticator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP basic auth against {@code basic_auth_users} bcrypt hashes. Every attempt costs one bcrypt verification,
 * an unknown user included (against a dummy hash), so timing does not tell which users exist. Successful
 * (user, password) pairs are remembered as a SHA-256 digest, as exporter-toolkit does, so that a Prometheus
 * scraping every few seconds does not pay a bcrypt verification per scrape.
 */
final class BcryptAuthenticator extends BasicAuthenticator {
    private static final int CACHE_LIMIT = 256;
    private final Map<String, char[]> users;
    /** A hash of a random password at the users' cost, verified for unknown users to spend the same time. */
    private final char[] dummyHash;
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    BcryptAuthenticator(Map<String, String> users) {
        super("gpuwatch", StandardCharsets.UTF_8);
        this.users = new ConcurrentHashMap<>();
        users.forEach((user, hash) -> this.users.put(user, hash.toCharArray()));
        int cost = users.values().stream().findFirst().map(h -> Integer.parseInt(h.substring(4, 6))).orElse(10);
        byte[] random = new byte[16];
        new java.security.SecureRandom().nextBytes(random);
        this.dummyHash = BCrypt.withDefaults().hashToChar(cost, java.util.HexFormat.of().formatHex(random).toCharArray());
    }

    @Override
    public boolean checkCredentials(String user, String password) {
        char[] hash = users.get(user);
        String key = cacheKey(user, password, hash);
        if (hash != null && verified.contains(key)) {
            return true;
        }
        boolean ok = BCrypt.verifyer().verify(password.toCharArray(), hash != null ? hash : dummyHash).verified;
        if (ok && hash != null) {
            if (verified.size() >= CACHE_LIMIT) {
                verified.clear();
            }
            verified.add(key);
        }
        return ok && hash != null;
    }

    private static String cacheKey(String user, String password, char[] hash) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(user.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(password.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            if (hash != null) {
                sha.update(new String(hash).getBytes(StandardCharsets.UTF_8));
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
