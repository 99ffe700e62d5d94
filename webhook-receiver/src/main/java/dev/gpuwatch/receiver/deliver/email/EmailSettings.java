package dev.gpuwatch.receiver.deliver.email;

import dev.gpuwatch.config.InvalidValue;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One email receiver, as written in the receiver's YAML configuration (keys mirror Alertmanager's
 * {@code email_configs}). Holds where the password is, never the password, so {@code toString()} is safe to
 * log. A value it refuses is an {@link InvalidValue} at its key.
 *
 * @param smarthost {@code host:port} of the SMTP server
 * @param tls {@code starttls} (default: STARTTLS required, never falls back to clear text), {@code implicit}
 *     (TLS from the first byte, usually port 465) or {@code none}
 * @param hello the name sent with EHLO, default {@code localhost}
 * @param tlsInsecureSkipVerify accept any server certificate (test servers only)
 */
public record EmailSettings(
        String smarthost,
        String from,
        List<String> to,
        String authUsername,
        String authPasswordFile,
        String authPasswordEnv,
        String tls,
        String hello,
        // Boxed so that a config without the key reads as false: the config reader refuses null primitives.
        Boolean tlsInsecureSkipVerify) {

    /** How the connection to the smarthost is protected. */
    public enum Tls { NONE, STARTTLS, IMPLICIT }

    public EmailSettings {
        smarthost = orEmpty(smarthost);
        from = orEmpty(from);
        to = to == null ? List.of() : to.stream().filter(Objects::nonNull).map(String::strip).filter(s -> !s.isEmpty()).toList();
        authUsername = orEmpty(authUsername);
        authPasswordFile = orEmpty(authPasswordFile);
        authPasswordEnv = orEmpty(authPasswordEnv);
        tls = orEmpty(tls).isEmpty() ? "starttls" : tls.strip().toLowerCase(Locale.ROOT);
        hello = orEmpty(hello).isEmpty() ? "localhost" : hello.strip();
        tlsInsecureSkipVerify = Boolean.TRUE.equals(tlsInsecureSkipVerify);

        int colon = smarthost.lastIndexOf(':');
        if (colon <= 0 || colon == smarthost.length() - 1) {
            throw InvalidValue.at("smarthost", "must be host:port, got '" + smarthost + "'");
        }
        try {
            int port = Integer.parseInt(smarthost.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw InvalidValue.at("smarthost", "bad port in '" + smarthost + "'");
        }
        address("from", from);
        if (to.isEmpty()) {
            throw InvalidValue.at("to", "at least one recipient is required");
        }
        for (String t : to) {
            address("to", t);
        }
        if (!List.of("none", "starttls", "implicit").contains(tls)) {
            throw InvalidValue.at("tls", "must be none, starttls or implicit, got " + tls);
        }
        boolean hasPassword = !authPasswordFile.isEmpty() || !authPasswordEnv.isEmpty();
        if (!authPasswordFile.isEmpty() && !authPasswordEnv.isEmpty()) {
            throw InvalidValue.here("set auth_password_file or auth_password_env, not both");
        }
        if (hasPassword && authUsername.isEmpty()) {
            throw InvalidValue.at("auth_username", "required with auth_password_file or auth_password_env");
        }
        if (!authUsername.isEmpty() && !hasPassword) {
            throw InvalidValue.at("auth_username", "needs auth_password_file or auth_password_env");
        }
    }

    public String host() {
        return smarthost.substring(0, smarthost.lastIndexOf(':'));
    }

    public int port() {
        return Integer.parseInt(smarthost.substring(smarthost.lastIndexOf(':') + 1));
    }

    public Tls tlsMode() {
        return Tls.valueOf(tls.toUpperCase(Locale.ROOT));
    }

    public boolean authenticates() {
        return !authUsername.isEmpty();
    }

    private static void address(String key, String value) {
        if (value.isEmpty()) {
            throw InvalidValue.at(key, "required");
        }
        try {
            new InternetAddress(value, true);
        } catch (AddressException e) {
            throw InvalidValue.at(key, "not an email address: " + value);
        }
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s.strip();
    }
}
