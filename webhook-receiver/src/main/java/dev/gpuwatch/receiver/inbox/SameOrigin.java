package dev.gpuwatch.receiver.inbox;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * Cross-site request forgery protection for the inbox's forms (Replay), as Go's
 * {@code net/http.CrossOriginProtection}: a browser says where a request comes from, in {@code Sec-Fetch-Site}
 * (every current browser) or else {@code Origin}; a request from another site is refused.
 *
 * <p>Why headers and not a token in the form: the receiver's users are basic-auth or bearer credentials, not
 * sessions, so a per-session token has no session to live in, and an HMAC token needs a key that every replica
 * on a shared PostgreSQL agrees on. The headers need no state, hold on every replica, and a page cannot forge
 * them: browsers set them, scripts cannot. A request with neither header comes from no browser (curl, a script
 * with the credentials), which a forged form cannot be; it is let through like the API's POST.
 */
final class SameOrigin {

    private SameOrigin() {}

    /**
     * @param host the request's {@code Host} header, which an {@code Origin} must name
     * @return empty when the request may go ahead, else why not
     */
    static Optional<String> refusal(Optional<String> secFetchSite, Optional<String> origin, Optional<String> host) {
        if (secFetchSite.isPresent()) {
            String site = secFetchSite.get().strip().toLowerCase(Locale.ROOT);
            // "none": the user typed or bookmarked it; "same-origin": this receiver's own page
            return site.equals("same-origin") || site.equals("none") ? Optional.empty()
                    : Optional.of("a form from another site (Sec-Fetch-Site: " + site + ")");
        }
        if (origin.isEmpty()) {
            return Optional.empty();
        }
        String originHost;
        try {
            originHost = Optional.ofNullable(URI.create(origin.get().strip()).getRawAuthority()).orElse("");
        } catch (IllegalArgumentException e) {
            originHost = "";
        }
        return host.isPresent() && originHost.equalsIgnoreCase(host.get().strip()) ? Optional.empty()
                : Optional.of("a form from another origin (Origin: " + origin.get() + ")");
    }
}
