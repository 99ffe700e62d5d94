package dev.gpuwatch.config;

import java.util.Optional;

/**
 * {@code --web.listen-address}: {@code [host]:port} as Prometheus writes it ({@code :9445}, {@code 127.0.0.1:9445},
 * {@code [::1]:9445}). An empty host binds every interface; port 0 picks a free port.
 */
public record ListenAddress(Optional<String> host, int port) {

    public static final String EXPECTED = "expected [host]:port, e.g. :9445 or 127.0.0.1:9445";

    public ListenAddress {
        if (port < 0 || port > 65535) {
            throw InvalidValue.here("port out of range: " + port);
        }
    }

    /** Parses {@code [host]:port}; empty when the text is not one. */
    public static Optional<ListenAddress> parse(String text) {
        String s = text.strip();
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            return Optional.empty(); // an IPv6 host must be bracketed
        }
        try {
            int port = Integer.parseInt(s.substring(colon + 1));
            if (port < 0 || port > 65535) {
                return Optional.empty();
            }
            return Optional.of(new ListenAddress(host.isEmpty() ? Optional.empty() : Optional.of(host), port));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The host to bind: the given one, or every interface. */
    public String bindHost() {
        return host.orElse("0.0.0.0");
    }

    @Override
    public String toString() {
        String h = host.map(x -> x.contains(":") ? "[" + x + "]" : x).orElse("");
        return h + ":" + port;
    }
}
