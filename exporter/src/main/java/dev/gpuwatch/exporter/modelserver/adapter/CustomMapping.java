package dev.gpuwatch.exporter.modelserver.adapter;

import static java.util.Objects.requireNonNullElse;

import dev.gpuwatch.config.InvalidValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code mapping} of a {@code type: custom} target, as the file writes it: which of an application's own
 * metrics (a FastAPI or Flask app's request counter, latency histogram, queue and cache gauges) feed which series
 * of the {@code inference_*} family, so the dashboards and SLO rules read it like any model server. Every name is
 * a series name as the app's {@code /metrics} shows it; every pattern is anchored, as PromQL's {@code =~}.
 * docs/model-servers.md, "Custom applications", lists the keys.
 *
 * @param modelLabel       the label that names the model; at most one of this and {@code model}
 * @param model            a fixed model name for every series, for an app that serves one model
 * @param match            label → pattern: a series that carries the label is read only when its value matches
 *                         (say {@code handler: "/v1/.*"}, to leave out {@code /metrics} and {@code /health})
 * @param requests         a counter of finished requests → {@code inference_requests_total{outcome}}
 * @param latency          a histogram (or a summary: its count and sum) → {@code inference_request_duration_seconds}
 * @param queueTime        → {@code inference_request_queue_duration_seconds}
 * @param timeToFirstToken → {@code inference_time_to_first_token_seconds}
 * @param interTokenLatency → {@code inference_inter_token_latency_seconds}
 * @param queue            a gauge of requests waiting → {@code inference_requests_waiting}
 * @param running          a gauge of requests in progress → {@code inference_requests_running}
 * @param kvCacheUsage     a gauge of cache use → {@code inference_kv_cache_usage_ratio}, times {@code kvCacheScale}
 * @param kvCacheScale     what turns {@code kvCacheUsage} into 0..1 ({@code 0.01} for a percentage); 1 by default
 * @param promptTokens     a counter → {@code inference_prompt_tokens_total}
 * @param generationTokens a counter → {@code inference_generation_tokens_total}
 */
public record CustomMapping(Optional<String> modelLabel, Optional<String> model, Map<String, String> match,
        Optional<Requests> requests, Optional<String> latency, Optional<String> queueTime,
        Optional<String> timeToFirstToken, Optional<String> interTokenLatency, Optional<String> queue,
        Optional<String> running, Optional<String> kvCacheUsage, Double kvCacheScale, Optional<String> promptTokens,
        Optional<String> generationTokens) {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    public CustomMapping {
        modelLabel = requireNonNullElse(modelLabel, Optional.empty());
        model = requireNonNullElse(model, Optional.empty());
        match = match == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(match));
        requests = requireNonNullElse(requests, Optional.empty());
        latency = requireNonNullElse(latency, Optional.empty());
        queueTime = requireNonNullElse(queueTime, Optional.empty());
        timeToFirstToken = requireNonNullElse(timeToFirstToken, Optional.empty());
        interTokenLatency = requireNonNullElse(interTokenLatency, Optional.empty());
        queue = requireNonNullElse(queue, Optional.empty());
        running = requireNonNullElse(running, Optional.empty());
        kvCacheUsage = requireNonNullElse(kvCacheUsage, Optional.empty());
        promptTokens = requireNonNullElse(promptTokens, Optional.empty());
        generationTokens = requireNonNullElse(generationTokens, Optional.empty());

        modelLabel.ifPresent(l -> labelName("model_label", l));
        if (modelLabel.isPresent() && model.isPresent()) {
            throw InvalidValue.at("model", "set at most one of model (a fixed name) and model_label");
        }
        if (model.isPresent() && model.get().isBlank()) {
            throw InvalidValue.at("model", "must not be empty");
        }
        match.forEach((label, pattern) -> {
            labelName("match." + label, label);
            pattern("match." + label, pattern);
        });
        histogram("latency", latency);
        histogram("queue_time", queueTime);
        histogram("time_to_first_token", timeToFirstToken);
        histogram("inter_token_latency", interTokenLatency);
        metricName("queue", queue);
        metricName("running", running);
        metricName("kv_cache_usage", kvCacheUsage);
        metricName("prompt_tokens", promptTokens);
        metricName("generation_tokens", generationTokens);
        if (kvCacheScale != null && kvCacheUsage.isEmpty()) {
            throw InvalidValue.at("kv_cache_scale", "needs kv_cache_usage, the gauge it scales");
        }
        kvCacheScale = requireNonNullElse(kvCacheScale, 1.0);
        if (!Double.isFinite(kvCacheScale) || kvCacheScale <= 0) {
            throw InvalidValue.at("kv_cache_scale", "expected a number above 0, got " + kvCacheScale);
        }
        if (requests.isEmpty() && latency.isEmpty() && queueTime.isEmpty() && timeToFirstToken.isEmpty()
                && interTokenLatency.isEmpty() && queue.isEmpty() && running.isEmpty() && kvCacheUsage.isEmpty()
                && promptTokens.isEmpty() && generationTokens.isEmpty()) {
            throw InvalidValue.here("maps no metric: set at least one of requests, latency, queue_time, "
                    + "time_to_first_token, inter_token_latency, queue, running, kv_cache_usage, prompt_tokens, "
                    + "generation_tokens");
        }
    }

    /**
     * {@code requests}: a counter of finished requests. Without {@code status_label} every request is a success;
     * with it, a value matching {@code error_values} is an error, one matching {@code cancelled_values} (a client
     * that went away, say {@code 499}) is cancelled, any other a success.
     */
    public record Requests(String metric, Optional<String> statusLabel, Optional<String> errorValues,
            Optional<String> cancelledValues) {
        public Requests {
            if (metric == null || metric.isBlank()) {
                throw InvalidValue.at("metric", "is required");
            }
            metricName("metric", Optional.of(metric));
            statusLabel = requireNonNullElse(statusLabel, Optional.empty());
            errorValues = requireNonNullElse(errorValues, Optional.empty());
            cancelledValues = requireNonNullElse(cancelledValues, Optional.empty());
            statusLabel.ifPresent(l -> labelName("status_label", l));
            errorValues.ifPresent(p -> pattern("error_values", p));
            cancelledValues.ifPresent(p -> pattern("cancelled_values", p));
            if (statusLabel.isEmpty() && (errorValues.isPresent() || cancelledValues.isPresent())) {
                throw InvalidValue.at(errorValues.isPresent() ? "error_values" : "cancelled_values",
                        "needs status_label, the label whose value it matches");
            }
            if (statusLabel.isPresent() && errorValues.isEmpty()) {
                throw InvalidValue.at("status_label", "needs error_values, the pattern of its values that are errors"
                        + " (say \"5..\")");
            }
        }
    }

    /** Every metric name the mapping reads, for telling a body of another application from an idle one. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        requests.ifPresent(r -> names.add(r.metric()));
        for (Optional<String> n : List.of(latency, queueTime, timeToFirstToken, interTokenLatency, queue, running,
                kvCacheUsage, promptTokens, generationTokens)) {
            n.ifPresent(names::add);
        }
        return names;
    }

    private static void metricName(String key, Optional<String> name) {
        name.ifPresent(n -> {
            if (!METRIC_NAME.matcher(n).matches()) {
                throw InvalidValue.at(key, "expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got \"" + n + "\"");
            }
        });
    }

    /** A histogram is named by its family, the name its {@code _bucket}, {@code _sum} and {@code _count} share. */
    private static void histogram(String key, Optional<String> name) {
        metricName(key, name);
        name.ifPresent(n -> {
            for (String suffix : List.of("_bucket", "_sum", "_count")) {
                if (n.endsWith(suffix) && n.length() > suffix.length()) {
                    throw InvalidValue.at(key, "name the histogram (" + n.substring(0, n.length() - suffix.length())
                            + "), not its " + suffix + " series");
                }
            }
        });
    }

    private static void labelName(String key, String label) {
        if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__") || label.equals("le")) {
            throw InvalidValue.at(key, "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*, not le or __*), got \""
                    + label + "\"");
        }
    }

    private static void pattern(String key, String pattern) {
        try {
            Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw InvalidValue.at(key, "not a valid regular expression (" + e.getDescription() + " at index "
                    + e.getIndex() + "), got \"" + pattern + "\"");
        }
    }
}
