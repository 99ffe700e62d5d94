package dev.gpuwatch.exporter.modelserver;

import static java.util.Objects.requireNonNullElse;
import static java.util.Objects.requireNonNullElseGet;

import dev.gpuwatch.config.ByteSize;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigSource;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.exporter.modelserver.adapter.CustomMapping;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Settings of the model-server module, built from the {@code model_servers} list and the
 * {@code model_server_discovery} section of the exporter's YAML file. The exporter's {@code ConfigReader} binds
 * both sections into {@link TargetEntry} and {@link DiscoveryEntry} in the same pass as the rest of the file (each
 * value checked where it is bound); {@link #from} adds what needs more than one value (defaults a target takes from
 * the discovery section, duplicate names, the Kubernetes environment, credential files), reporting through the
 * file's {@link ConfigSource}. See docs/model-servers.md for every key and its default.
 */
public record InferenceSettings(List<TargetSettings> targets, Discovery discovery, Polling polling,
        Attribution attribution) {

    public InferenceSettings {
        targets = List.copyOf(targets);
    }

    /**
     * How targets are polled. {@code timeout} is the default per-target deadline (below a typical 10 s scrape
     * timeout; further clamped below the {@code X-Prometheus-Scrape-Timeout-Seconds} of recent scrapes).
     */
    public record Polling(Duration interval, Duration timeout, long maxResponseBytes, int maxSeries,
            int maxLabelValueLength, boolean loraAdapters) {
        /** With the default label-value limit. */
        public Polling(Duration interval, Duration timeout, long maxResponseBytes, int maxSeries,
                boolean loraAdapters) {
            this(interval, timeout, maxResponseBytes, maxSeries, DEFAULT_MAX_LABEL_VALUE_BYTES, loraAdapters);
        }
    }

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
    /** Prometheus has no default; 1 KiB holds any real model name, path or version, and bounds each copy. */
    static final int DEFAULT_MAX_LABEL_VALUE_BYTES = 1 << 10;
    /** A model name longer than this is no name; the line buffer grows with the limit (4 values a line). */
    private static final long MAX_LABEL_VALUE_BYTES = 1L << 20;
    private static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,127}");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    /** Labels the module sets itself; a target may not override them. */
    private static final Set<String> RESERVED_LABELS = Set.of("target", "server", "model", "outcome", "state",
            "device", "lora", "reason", "gpu", "uuid", "le", "container_id", "pod_uid", "namespace", "pod",
            "container", "job", "instance");

    /** One entry of {@code model_servers}, as the file writes it; {@code mapping} exactly for {@code type: custom}. */
    public record TargetEntry(String name, String type, String url, String metricsUrl, Duration timeout,
            AuthorizationEntry authorization, Map<String, String> labels, Boolean loraAdapters,
            CustomMapping mapping) {
        public TargetEntry {
            name = required("name", name);
            type = required("type", type);
            url = required("url", url);
            if (!NAME.matcher(name).matches()) {
                throw InvalidValue.at("name",
                        "expected letters, digits, '_', '.', ':' or '-' (at most 128), got \"" + name + "\"");
            }
            if (ServerType.parse(type).isEmpty()) {
                throw InvalidValue.at("type", "expected one of " + ServerType.choices() + ", got \"" + type + "\"");
            }
            boolean custom = ServerType.parse(type).orElseThrow() == ServerType.CUSTOM;
            if (custom && mapping == null) {
                throw InvalidValue.at("mapping", "is required for type custom: which of the app's metrics feed "
                        + "which inference_* series");
            }
            if (!custom && mapping != null) {
                throw InvalidValue.at("mapping", "only for type custom; a " + ServerType.parse(type).orElseThrow()
                        .label() + " target is read by its own adapter");
            }
            httpUrl("url", url);
            if (metricsUrl != null) {
                httpUrl("metrics_url", metricsUrl);
            }
            positive("timeout", timeout);
            labels = labels == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(labels));
            for (String key : labels.keySet()) {
                if (!LABEL.matcher(key).matches() || key.startsWith("__") || RESERVED_LABELS.contains(key)) {
                    throw InvalidValue.at("labels." + key, "not a label name the target may set (reserved: "
                            + String.join(", ", RESERVED_LABELS.stream().sorted().toList()) + ")");
                }
            }
        }
    }

    /** {@code authorization: {type: Bearer, credentials: ...}} or {@code credentials_file}, as Prometheus has it. */
    public record AuthorizationEntry(String type, String credentials, Path credentialsFile) {
        public AuthorizationEntry {
            type = requireNonNullElse(type, "Bearer");
            if ((credentials == null) == (credentialsFile == null)) {
                throw InvalidValue.here("set exactly one of credentials and credentials_file");
            }
        }

        @Override
        public String toString() {
            return "AuthorizationEntry[type=" + type + ", credentials=" + (credentials == null ? "none" : "(secret)")
                    + ", credentialsFile=" + credentialsFile + "]";
        }
    }

    /** The {@code model_server_discovery} section, as the file writes it; every key has its default here. */
    public record DiscoveryEntry(Boolean enabled, Duration interval, String procRoot, Duration pollInterval,
            Duration timeout, ByteSize maxResponseBytes, Integer maxSeries, ByteSize maxLabelValueLength,
            Boolean loraAdapters, Boolean containerLabels, KubernetesEntry kubernetes) {
        public DiscoveryEntry {
            enabled = requireNonNullElse(enabled, true);
            interval = positive("interval", requireNonNullElse(interval, Duration.ofSeconds(30)));
            procRoot = requireNonNullElse(procRoot, "/proc");
            pollInterval = positive("poll_interval", requireNonNullElse(pollInterval, DEFAULT_INTERVAL));
            timeout = positive("timeout", requireNonNullElse(timeout, DEFAULT_TIMEOUT));
            maxResponseBytes = requireNonNullElse(maxResponseBytes, ByteSize.ofBytes(DEFAULT_MAX_BYTES));
            if (maxResponseBytes.bytes() == 0) {
                throw InvalidValue.at("max_response_bytes", "must be above 0");
            }
            maxSeries = requireNonNullElse(maxSeries, DEFAULT_MAX_SERIES);
            if (maxSeries < 1 || maxSeries > 10_000_000) {
                throw InvalidValue.at("max_series", "expected a whole number from 1 to 10000000, got " + maxSeries);
            }
            maxLabelValueLength = requireNonNullElse(maxLabelValueLength,
                    ByteSize.ofBytes(DEFAULT_MAX_LABEL_VALUE_BYTES));
            if (maxLabelValueLength.bytes() < 64 || maxLabelValueLength.bytes() > MAX_LABEL_VALUE_BYTES) {
                throw InvalidValue.at("max_label_value_length", "expected 64 bytes to 1MiB, got "
                        + maxLabelValueLength.bytes() + " bytes");
            }
            loraAdapters = requireNonNullElse(loraAdapters, false);
            containerLabels = requireNonNullElse(containerLabels, true);
            kubernetes = requireNonNullElseGet(kubernetes, () -> new KubernetesEntry(null, null, null, null, null, null));
        }

        /** What a file without the section gives. */
        public static DiscoveryEntry defaults() {
            return new DiscoveryEntry(null, null, null, null, null, null, null, null, null, null, null);
        }
    }

    /** {@code model_server_discovery.kubernetes}; absent values come from the pod's environment in {@link #from}. */
    public record KubernetesEntry(String enabled, String apiUrl, String nodeName, Path tokenFile, Path caFile,
            Duration refreshInterval) {
        public KubernetesEntry {
            enabled = requireNonNullElse(enabled, "auto").toLowerCase(Locale.ROOT);
            if (!Set.of("auto", "true", "false").contains(enabled)) {
                throw InvalidValue.at("enabled", "expected auto, true or false, got \"" + enabled + "\"");
            }
            if (apiUrl != null) {
                httpUrl("api_url", apiUrl);
            }
            tokenFile = requireNonNullElse(tokenFile, SERVICE_ACCOUNT.resolve("token"));
            caFile = requireNonNullElse(caFile, SERVICE_ACCOUNT.resolve("ca.crt"));
            refreshInterval = positive("refresh_interval", requireNonNullElse(refreshInterval, Duration.ofSeconds(60)));
        }
    }

    /** Defaults: no static targets, discovery on, container labels on, Kubernetes when running in a pod. */
    public static InferenceSettings defaults(Map<String, String> env) {
        try {
            return from(List.of(), DiscoveryEntry.defaults(), Optional.empty(), env);
        } catch (ConfigException e) {
            throw new IllegalStateException("the defaults are valid", e);
        }
    }

    /**
     * The runtime settings from the bound sections. {@code source} is the file's, for errors; {@code env} gives
     * the Kubernetes defaults ({@code KUBERNETES_SERVICE_HOST}, {@code KUBERNETES_SERVICE_PORT}, {@code NODE_NAME}).
     */
    public static InferenceSettings from(List<TargetEntry> entries, DiscoveryEntry d, Optional<ConfigSource> source,
            Map<String, String> env) throws ConfigException {
        Polling polling = new Polling(d.pollInterval(), d.timeout(), d.maxResponseBytes().bytes(), d.maxSeries(),
                (int) d.maxLabelValueLength().bytes(), d.loraAdapters());
        Discovery discovery = new Discovery(d.enabled(), d.interval(), Path.of(d.procRoot()));
        Attribution attribution = new Attribution(d.containerLabels(), kubernetes(d.kubernetes(), source, env));
        List<TargetSettings> targets = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            TargetEntry e = entries.get(i);
            String at = "model_servers[" + i + "]";
            if (!names.add(e.name())) {
                throw error(source, at + ".name", "duplicate target name \"" + e.name() + "\"");
            }
            ServerType type = ServerType.parse(e.type()).orElseThrow();
            URI url = URI.create(e.url().strip());
            Optional<URI> metricsUrl = e.metricsUrl() != null ? Optional.of(URI.create(e.metricsUrl().strip()))
                    : TargetSettings.defaultMetricsUrl(type, url);
            targets.add(new TargetSettings(e.name(), type, url, metricsUrl,
                    requireNonNullElse(e.timeout(), polling.timeout()), authorization(e.authorization(), at, source),
                    e.labels(), requireNonNullElse(e.loraAdapters(), polling.loraAdapters()), false,
                    Optional.ofNullable(e.mapping())));
        }
        return new InferenceSettings(targets, discovery, polling, attribution);
    }

    private static Optional<String> authorization(AuthorizationEntry a, String at, Optional<ConfigSource> source)
            throws ConfigException {
        if (a == null) {
            return Optional.empty();
        }
        if (a.credentials() != null) {
            return Optional.of(a.type() + " " + a.credentials());
        }
        try {
            return Optional.of(a.type() + " " + Files.readString(a.credentialsFile()).strip());
        } catch (IOException e) {
            throw error(source, at + ".authorization.credentials_file", "cannot read " + a.credentialsFile());
        }
    }

    private static Optional<Kubernetes> kubernetes(KubernetesEntry k, Optional<ConfigSource> source,
            Map<String, String> env) throws ConfigException {
        String host = env.getOrDefault("KUBERNETES_SERVICE_HOST", "");
        String defaultApi = host.isEmpty() ? "" : "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        String api = requireNonNullElse(k.apiUrl(), defaultApi);
        String node = requireNonNullElse(k.nodeName(), env.getOrDefault("NODE_NAME", ""));
        boolean usable = !api.isEmpty() && !node.isEmpty() && Files.isReadable(k.tokenFile());
        if (k.enabled().equals("false") || (k.enabled().equals("auto") && !usable)) {
            return Optional.empty();
        }
        if (!usable) {
            throw error(source, "model_server_discovery.kubernetes", "enabled: true needs api_url (or "
                    + "KUBERNETES_SERVICE_HOST), node_name (or NODE_NAME from the downward API) and a readable "
                    + "token_file (" + k.tokenFile() + ")");
        }
        return Optional.of(new Kubernetes(URI.create(api), node, k.tokenFile(),
                Files.isReadable(k.caFile()) ? Optional.of(k.caFile()) : Optional.empty(), k.refreshInterval()));
    }

    private static ConfigException error(Optional<ConfigSource> source, String key, String problem) {
        return source.map(s -> s.error(key, problem))
                .orElseGet(() -> ConfigException.inFile("(defaults)", 0, key, problem));
    }

    private static String required(String key, String value) {
        if (value == null || value.isBlank()) {
            throw InvalidValue.at(key, "is required");
        }
        return value.strip();
    }

    private static Duration positive(String key, Duration d) {
        if (d != null && (d.isZero() || d.isNegative())) {
            throw InvalidValue.at(key, "must be longer than 0s");
        }
        return d;
    }

    private static void httpUrl(String key, String v) {
        try {
            URI u = new URI(v.strip());
            if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) {
                return;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw InvalidValue.at(key, "expected an http:// or https:// URL with a host, got \"" + v + "\"");
    }
}
