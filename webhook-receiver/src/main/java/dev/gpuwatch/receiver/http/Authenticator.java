package dev.gpuwatch.receiver.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

/**
 * Checks the {@code Authorization} header the way Alertmanager's {@code http_config} sends it: a bearer token
 * ({@code authorization: {credentials_file: ...}}) or basic auth. Comparisons take constant time, so a
 * timing side channel cannot reveal how much of a guess was right.
 */
public final class Authenticator {

    private final Optional<byte[]> bearer;
    private final Optional<byte[]> basic;

    private Authenticator(Optional<String> bearerToken, Optional<String> basicUserColonPassword) {
        this.bearer = bearerToken.map(t -> t.getBytes(StandardCharsets.UTF_8));
        this.basic = basicUserColonPassword.map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    public static Authenticator open() {
        return new Authenticator(Optional.empty(), Optional.empty());
    }

    public static Authenticator of(Optional<String> bearerToken, Optional<String> basicUser,
            Optional<String> basicPassword) {
        Optional<String> basic = basicUser.isPresent()
                ? Optional.of(basicUser.get() + ":" + basicPassword.orElse(""))
                : Optional.empty();
        return new Authenticator(bearerToken, basic);
    }

    public boolean required() {
        return bearer.isPresent() || basic.isPresent();
    }

    public boolean permits(Optional<String> authorization) {
        if (!required()) {
            return true;
        }
        if (authorization.isEmpty()) {
            return false;
        }
        String header = authorization.get().strip();
        int space = header.indexOf(' ');
        if (space < 0) {
            return false;
        }
        String scheme = header.substring(0, space);
        String credentials = header.substring(space + 1).strip();
        if (scheme.equalsIgnoreCase("Bearer") && bearer.isPresent()) {
            return MessageDigest.isEqual(bearer.get(), credentials.getBytes(StandardCharsets.UTF_8));
        }
        if (scheme.equalsIgnoreCase("Basic") && basic.isPresent()) {
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(credentials);
            } catch (IllegalArgumentException e) {
                return false;
            }
            return MessageDigest.isEqual(basic.get(), decoded);
        }
        return false;
    }

    /** The {@code WWW-Authenticate} value of a 401. */
    public String challenge() {
        return bearer.isPresent() ? "Bearer realm=\"gpuwatch-receiver\"" : "Basic realm=\"gpuwatch-receiver\"";
    }
}
