package dev.gpuwatch.web;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * {@code --web.external-url} as Prometheus and Alertmanager read it: the address people reach a server at, used
 * for the links it hands out. Without the flag it is derived from the listen address ({@code http://host:port},
 * {@code https} when the web config has TLS); a wildcard host becomes this machine's name, as in Prometheus.
 * Kept without a trailing slash, so {@code url() + "/path"} is always one slash.
 */
public record ExternalUrl(String url) {

    public static final String EXPECTED = "expected an absolute http(s) URL without query or fragment,"
            + " e.g. https://receiver.example.com/";

    /** The flag's value; empty when it is not an absolute http(s) URL with a host, or has a query or fragment. */
    public static Optional<ExternalUrl> parse(String text) {
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
        boolean http = "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
        if (!http || uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null
                || uri.getRawUserInfo() != null) {
            return Optional.empty();
        }
        return Optional.of(new ExternalUrl(withoutTrailingSlash(uri.toString())));
    }

    /**
     * The default: {@code scheme://host:port} of the address the server listens on; a wildcard or absent host
     * ({@code :9095}, {@code 0.0.0.0}, {@code ::}) is this machine's host name, as Prometheus' default is.
     *
     * @param port the port really bound (port 0 picks one at start)
     */
    public static ExternalUrl derived(Optional<String> listenHost, int port, boolean tls) {
        String host = listenHost.filter(h -> !h.isBlank() && !h.equals("0.0.0.0") && !h.equals("::"))
                .orElseGet(ExternalUrl::hostName);
        String authority = host.contains(":") ? "[" + host + "]" : host;
        return new ExternalUrl((tls ? "https" : "http") + "://" + authority + ":" + port);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static String withoutTrailingSlash(String url) {
        String u = url;
        while (u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        return u;
    }

    /** {@code url} followed by {@code path}, which starts with a slash. */
    public String resolve(String path) {
        return url + path;
    }

    @Override
    public String toString() {
        return url;
    }
}
