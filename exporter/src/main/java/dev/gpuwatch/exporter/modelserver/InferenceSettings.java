package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.config.ByteSize;
import dev.gpuwatch.config.Durations;
import dev.gpuwatch.exporter.modelserver.YamlTree.ListNode;
import dev.gpuwatch.exporter.modelserver.YamlTree.MapNode;
import dev.gpuwatch.exporter.modelserver.YamlTree.Node;
import dev.gpuwatch.exporter.modelserver.YamlTree.Scalar;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Settings of the model-server module: the {@code model_servers} list and the {@code model_server_discovery}
 * section of the exporter's YAML file (the exporter's own parser skips both keys). Every value is checked; a bad
 * one fails {@link #load} with an {@link IllegalArgumentException} naming the file, the line and the field.
 * See docs/model-servers.md for every key and its default.
 */
public record InferenceSettings(List<TargetSettings> targets, Discovery discovery, Polling polling,
        Attribution attribution) {

    public InferenceSettings {
        targets = List.copyOf(targets);
    }

    /**
     * How targets are polled. {@code timeout} is the default per-target deadline (below a typical 10 s scrape
     * timeout; further clamped below the smallest {@code X-Prometheus-Scrape-Timeout-Seconds} seen).
     */
    public record Polling(Duration interval, Duration timeout, long maxResponseBytes, int maxSeries,
            boolean loraAdapters) {}

    /** Finding model servers from the processes that hold GPU memory. */
    public record Discovery(boolean enabled, Duration interval, Path procRoot) {}

    /**
     * Container and pod labels on the GPU-memory series. {@code kubernetes} is present when pod names are
     * resolved through the Kubernetes API.
     */
    public record Attribution(boolean containers, Optional<Kubernetes> kubernetes) {}

    /** The Kubernetes API, read with the pod's service-account token, for the pods of this node. */
    public record Kubernetes(URI apiUrl, String nodeName, Path tokenFile, Optional<Path> caFile,
            Duration refreshInterval) {}

    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);
    static final long DEFAULT_MAX_BYTES = 16L << 20;
    static final int DEFAULT_MAX_SERIES = 10_000;
    private static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,127}");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    /** Labels the module sets itself; a target may not override them. */
    private static final Set<String> RESERVED_LABELS = Set.of("target", "server", "model", "outcome", "state",
            "device", "lora", "reason", "gpu", "uuid", "le", "container_id", "pod_uid", "namespace", "pod",
            "container", "job", "instance");

    /** Defaults: no static targets, discovery on, container labels on, Kubernetes when running in a pod. */
    public static InferenceSettings defaults() {
        return load(Optional.empty());
    }

    /** Reads the two sections from the exporter's config file; without a file, the defaults. */
    public static InferenceSettings load(Optional<Path> exporterConfigFile) {
        return load(exporterConfigFile, System.getenv());
    }

    static InferenceSettings load(Optional<Path> file, Map<String, String> env) {
        if (file.isEmpty()) {
            return fromTree(new MapNode(Map.of(), Map.of(), 0), "(defaults)", env);
        }
        String name = file.get().toString();
        String text;
        try {
            text = Files.readString(file.get());
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": cannot read: " + e.getMessage(), e);
        }
        Node root;
        try {
            root = YamlTree.parse(text);
        } catch (YamlTree.YamlError e) {
            throw new IllegalArgumentException(name + ":" + e.line + ": " + e.getMessage());
        }
        return fromTree(root, name, env);
    }

    private static InferenceSettings fromTree(Node root, String file, Map<String, String> env) {
        Reader r = new Reader(file);
        MapNode top = r.map(root, "");
        MapNode d = top.entries().containsKey("model_server_discovery")
                ? r.map(top.entries().get("model_server_discovery"), "model_server_discovery")
                : new MapNode(Map.of(), Map.of(), top.line());
        r.onlyKeys(d, "model_server_discovery", Set.of("enabled", "interval", "proc_root", "poll_interval", "timeout",
                "max_response_bytes", "max_series", "lora_adapters", "container_labels", "kubernetes"));
        String p = "model_server_discovery.";
        Polling polling = new Polling(
                r.duration(d, p + "poll_interval", DEFAULT_INTERVAL),
                r.duration(d, p + "timeout", DEFAULT_TIMEOUT),
                r.bytes(d, p + "max_response_bytes", DEFAULT_MAX_BYTES),
                (int) r.whole(d, p + "max_series", DEFAULT_MAX_SERIES, 1, 10_000_000),
                r.bool(d, p + "lora_adapters", false));
        Discovery discovery = new Discovery(
                r.bool(d, p + "enabled", true),
                r.duration(d, p + "interval", Duration.ofSeconds(30)),
                Path.of(r.string(d, p + "proc_root", "/proc")));
        Attribution attribution = new Attribution(r.bool(d, p + "container_labels", true), kubernetes(r, d, env));

        List<TargetSettings> targets = new ArrayList<>();
        Node list = top.entries().get("model_servers");
        if (list != null && !(list instanceof Scalar s && s.isNull())) {
            if (!(list instanceof ListNode items)) {
                throw r.error(list.line(), "model_servers", "expected a list of targets");
            }
            Set<String> names = new HashSet<>();
            for (int i = 0; i < items.items().size(); i++) {
                TargetSettings t = target(r, items.items().get(i), "model_servers[" + i + "]", polling);
                if (!names.add(t.name())) {
                    throw r.error(items.items().get(i).line(), "model_servers[" + i + "].name",
                            "duplicate target name \"" + t.name() + "\"");
                }
                targets.add(t);
            }
        }
        return new InferenceSettings(targets, discovery, polling, attribution);
    }

    private static TargetSettings target(Reader r, Node node, String path, Polling polling) {
        MapNode m = r.map(node, path);
        r.onlyKeys(m, path, Set.of("name", "type", "url", "metrics_url", "timeout", "authorization", "labels",
                "lora_adapters"));
        String name = r.required(m, path, "name");
        if (!NAME.matcher(name).matches()) {
            throw r.error(m.keyLines().get("name"), path + ".name",
                    "expected letters, digits, '_', '.', ':' or '-' (at most 128), got \"" + name + "\"");
        }
        String typeText = r.required(m, path, "type");
        ServerType type = ServerType.parse(typeText).orElseThrow(() -> r.error(m.keyLines().get("type"),
                path + ".type", "expected one of " + ServerType.choices() + ", got \"" + typeText + "\""));
        URI url = r.url(m, path + ".url", r.required(m, path, "url"));
        Optional<URI> metricsUrl = m.entries().containsKey("metrics_url")
                ? Optional.of(r.url(m, path + ".metrics_url", r.string(m, path + ".metrics_url", "")))
                : TargetSettings.defaultMetricsUrl(type, url);
        Duration timeout = r.duration(m, path + ".timeout", polling.timeout());
        Map<String, String> labels = new LinkedHashMap<>();
        if (m.entries().containsKey("labels")) {
            MapNode l = r.map(m.entries().get("labels"), path + ".labels");
            for (String key : l.entries().keySet()) {
                if (!LABEL.matcher(key).matches() || key.startsWith("__") || RESERVED_LABELS.contains(key)) {
                    throw r.error(l.keyLines().get(key), path + ".labels." + key,
                            "not a label name the target may set (reserved: " + String.join(", ",
                                    RESERVED_LABELS.stream().sorted().toList()) + ")");
                }
                labels.put(key, r.string(l, path + ".labels." + key, ""));
            }
        }
        return new TargetSettings(name, type, url, metricsUrl, timeout, authorization(r, m, path), labels,
                r.bool(m, path + ".lora_adapters", polling.loraAdapters()), false);
    }

    /** {@code authorization: {type: Bearer, credentials: ...}} or {@code credentials_file}, as Prometheus has it. */
    private static Optional<String> authorization(Reader r, MapNode m, String path) {
        if (!m.entries().containsKey("authorization")) {
            return Optional.empty();
        }
        String p = path + ".authorization";
        MapNode a = r.map(m.entries().get("authorization"), p);
        r.onlyKeys(a, p, Set.of("type", "credentials", "credentials_file"));
        String type = r.string(a, p + ".type", "Bearer");
        boolean inline = a.entries().containsKey("credentials");
        boolean fromFile = a.entries().containsKey("credentials_file");
        if (inline == fromFile) {
            throw r.error(a.line(), p, "set exactly one of credentials and credentials_file");
        }
        String credentials;
        if (inline) {
            credentials = r.string(a, p + ".credentials", "");
        } else {
            Path f = Path.of(r.string(a, p + ".credentials_file", ""));
            try {
                credentials = Files.readString(f).strip();
            } catch (IOException e) {
                throw r.error(a.keyLines().get("credentials_file"), p + ".credentials_file", "cannot read " + f);
            }
        }
        return Optional.of(type + " " + credentials);
    }

    private static Optional<Kubernetes> kubernetes(Reader r, MapNode d, Map<String, String> env) {
        String p = "model_server_discovery.kubernetes";
        MapNode k = d.entries().containsKey("kubernetes") ? r.map(d.entries().get("kubernetes"), p)
                : new MapNode(Map.of(), Map.of(), d.line());
        r.onlyKeys(k, p, Set.of("enabled", "api_url", "node_name", "token_file", "ca_file", "refresh_interval"));
        String enabled = r.string(k, p + ".enabled", "auto").toLowerCase(Locale.ROOT);
        if (!Set.of("auto", "true", "false").contains(enabled)) {
            throw r.error(k.keyLines().get("enabled"), p + ".enabled", "expected auto, true or false, got \"" + enabled + "\"");
        }
        String host = env.getOrDefault("KUBERNETES_SERVICE_HOST", "");
        String defaultApi = host.isEmpty() ? "" : "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        String api = r.string(k, p + ".api_url", defaultApi);
        String node = r.string(k, p + ".node_name", env.getOrDefault("NODE_NAME", ""));
        Path token = Path.of(r.string(k, p + ".token_file", SERVICE_ACCOUNT.resolve("token").toString()));
        Path ca = Path.of(r.string(k, p + ".ca_file", SERVICE_ACCOUNT.resolve("ca.crt").toString()));
        Duration refresh = r.duration(k, p + ".refresh_interval", Duration.ofSeconds(60));
        boolean usable = !api.isEmpty() && !node.isEmpty() && Files.isReadable(token);
        if (enabled.equals("false") || (enabled.equals("auto") && !usable)) {
            return Optional.empty();
        }
        if (!usable) {
            throw r.error(k.line(), p, "enabled: true needs api_url (or KUBERNETES_SERVICE_HOST), node_name (or "
                    + "NODE_NAME from the downward API) and a readable token_file (" + token + ")");
        }
        return Optional.of(new Kubernetes(r.url(k, p + ".api_url", api), node, token,
                Files.isReadable(ca) ? Optional.of(ca) : Optional.empty(), refresh));
    }

    /** Typed reads with errors at the right line. */
    private record Reader(String file) {
        IllegalArgumentException error(Integer line, String path, String problem) {
            return new IllegalArgumentException(file + ":" + (line == null ? 0 : line) + ": " + path + ": " + problem);
        }

        MapNode map(Node n, String path) {
            if (n instanceof MapNode m) {
                return m;
            }
            if (n instanceof Scalar s && s.isNull()) {
                return new MapNode(Map.of(), Map.of(), s.line());
            }
            throw error(n.line(), path.isEmpty() ? "(top level)" : path, "expected a mapping");
        }

        void onlyKeys(MapNode m, String path, Set<String> known) {
            for (String key : m.entries().keySet()) {
                if (!known.contains(key)) {
                    throw error(m.keyLines().get(key), path + "." + key,
                            "unknown field (known fields: " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }

        /** A scalar value; {@code path} is the dotted field whose last part is the key in {@code m}. */
        String string(MapNode m, String path, String fallback) {
            Node n = m.entries().get(path.substring(path.lastIndexOf('.') + 1));
            if (n == null || (n instanceof Scalar s0 && s0.isNull())) {
                return fallback;
            }
            if (!(n instanceof Scalar s)) {
                throw error(n.line(), path, "expected a single value");
            }
            return s.text();
        }

        String required(MapNode m, String path, String key) {
            String v = string(m, path + "." + key, "");
            if (v.isBlank()) {
                throw error(m.line(), path + "." + key, "is required");
            }
            return v.strip();
        }

        private int lineOf(MapNode m, String path) {
            return m.keyLines().getOrDefault(path.substring(path.lastIndexOf('.') + 1), m.line());
        }

        boolean bool(MapNode m, String path, boolean fallback) {
            String v = string(m, path, "");
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "" -> fallback;
                case "true" -> true;
                case "false" -> false;
                default -> throw error(lineOf(m, path), path, "expected true or false, got \"" + v + "\"");
            };
        }

        long whole(MapNode m, String path, long fallback, long min, long max) {
            String v = string(m, path, "");
            if (v.isEmpty()) {
                return fallback;
            }
            try {
                long n = Long.parseLong(v.replace("_", ""));
                if (n >= min && n <= max) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw error(lineOf(m, path), path, "expected a whole number from " + min + " to " + max + ", got \"" + v + "\"");
        }

        /** The shared duration grammar ({@link Durations}: 500ms, 3s, 1m30s, 1d), longer than zero. */
        Duration duration(MapNode m, String path, Duration fallback) {
            String v = string(m, path, "");
            if (v.isEmpty()) {
                return fallback;
            }
            Optional<Duration> d = Durations.parse(v.strip()).filter(x -> !x.isZero());
            if (d.isEmpty()) {
                throw error(lineOf(m, path), path, Durations.EXPECTED + " (longer than 0s), got \"" + v + "\"");
            }
            return d.get();
        }

        /** The shared size grammar ({@link ByteSize}: 16MiB, 512KB, or a plain number of bytes), above zero. */
        long bytes(MapNode m, String path, long fallback) {
            String v = string(m, path, "");
            if (v.isEmpty()) {
                return fallback;
            }
            Optional<ByteSize> size = ByteSize.parse(v).filter(x -> x.bytes() > 0);
            if (size.isEmpty()) {
                throw error(lineOf(m, path), path, ByteSize.EXPECTED + " (above 0), got \"" + v + "\"");
            }
            return size.get().bytes();
        }

        URI url(MapNode m, String path, String v) {
            try {
                URI u = new URI(v.strip());
                if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) {
                    return u;
                }
            } catch (URISyntaxException e) {
                // reported below
            }
            throw error(lineOf(m, path), path, "expected an http:// or https:// URL with a host, got \"" + v + "\"");
        }
    }
}
