package dev.gpuwatch.exporter.modelserver.adapter;

import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.Sample;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Any application with a Prometheus endpoint, read through its target's {@link CustomMapping}. Labels other than
 * the model's are summed away (a request counter by handler and method becomes one series per outcome), as the
 * built-in adapters sum engines and ranks.
 */
final class CustomAdapter implements ServerAdapter {
    private final CustomMapping mapping;
    private final Prom.ModelOf model;
    private final Map<String, Pattern> match = new LinkedHashMap<>();
    private final Optional<Pattern> errors;
    private final Optional<Pattern> cancelled;

    CustomAdapter(CustomMapping mapping) {
        this.mapping = mapping;
        this.model = mapping.modelLabel().map(Prom::label).orElseGet(() -> Prom.fixed(mapping.model().orElse("")));
        mapping.match().forEach((label, pattern) -> match.put(label, Pattern.compile(pattern)));
        this.errors = mapping.requests().flatMap(CustomMapping.Requests::errorValues).map(Pattern::compile);
        this.cancelled = mapping.requests().flatMap(CustomMapping.Requests::cancelledValues).map(Pattern::compile);
    }

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        List<String> names = mapping.names();
        // An idle app declares its labelled families (# TYPE) before their first sample; a body that neither
        // declares nor carries any mapped name belongs to some other application, or the mapping has a typo.
        if (names.stream().noneMatch(n -> e.type(n).isPresent() || e.has(n) || e.has(n + "_bucket")
                || e.has(n + "_count"))) {
            throw new PollFailure(PollFailure.Reason.WRONG_TYPE, "the body has none of the mapped metrics "
                    + String.join(", ", names) + "; it looks like "
                    + MetricFamilies.typeOf(e).map(ServerType::label).orElse("no known model server"));
        }
        Normalized.Builder out = Normalized.builder();
        mapping.model().ifPresent(out::model);
        if (mapping.requests().isPresent()) {
            CustomMapping.Requests r = mapping.requests().get();
            for (Sample s : selected(e.samples(r.metric()))) {
                String status = r.statusLabel().map(s::labelOrEmpty).orElse("");
                out.value(InferenceMetric.REQUESTS, model.apply(s.labels()), s.value(), "outcome", outcome(status));
            }
        }
        histogram(e, mapping.latency(), InferenceMetric.REQUEST_DURATION, out);
        histogram(e, mapping.queueTime(), InferenceMetric.QUEUE_DURATION, out);
        histogram(e, mapping.timeToFirstToken(), InferenceMetric.TIME_TO_FIRST_TOKEN, out);
        histogram(e, mapping.interTokenLatency(), InferenceMetric.INTER_TOKEN_LATENCY, out);
        values(e, mapping.queue(), InferenceMetric.REQUESTS_WAITING, 1, out);
        values(e, mapping.running(), InferenceMetric.REQUESTS_RUNNING, 1, out);
        values(e, mapping.kvCacheUsage(), InferenceMetric.KV_CACHE_USAGE, mapping.kvCacheScale(), out);
        values(e, mapping.promptTokens(), InferenceMetric.PROMPT_TOKENS, 1, out);
        values(e, mapping.generationTokens(), InferenceMetric.GENERATION_TOKENS, 1, out);
        return out.build();
    }

    private String outcome(String status) {
        if (errors.isPresent() && errors.get().matcher(status).matches()) {
            return "error";
        }
        if (cancelled.isPresent() && cancelled.get().matcher(status).matches()) {
            return "cancelled";
        }
        return "success";
    }

    private boolean selected(Map<String, String> labels) {
        for (Map.Entry<String, Pattern> m : match.entrySet()) {
            String value = labels.get(m.getKey());
            if (value != null && !m.getValue().matcher(value).matches()) {
                return false;
            }
        }
        return true;
    }

    private List<Sample> selected(List<Sample> samples) {
        return samples.stream().filter(s -> selected(s.labels())).toList();
    }

    private void values(Exposition e, Optional<String> name, InferenceMetric metric, double scale,
            Normalized.Builder out) {
        if (name.isPresent()) {
            for (Sample s : selected(e.samples(name.get()))) {
                out.value(metric, model.apply(s.labels()), s.value() * scale);
            }
        }
    }

    /**
     * A histogram's buckets as they are; a family with a count and a sum but no buckets (prometheus_client's
     * {@code Summary}) as the +Inf bucket only, which still gives the mean.
     */
    private void histogram(Exposition e, Optional<String> base, InferenceMetric metric, Normalized.Builder out) {
        if (base.isEmpty()) {
            return;
        }
        String name = base.get();
        if (e.has(name + "_bucket")) {
            for (Exposition.Histogram h : e.histograms(name)) {
                if (selected(h.labels())) {
                    out.histogram(metric, model.apply(h.labels()), h.upperBounds(), h.cumulativeCounts(), h.sum());
                }
            }
            return;
        }
        Map<Map<String, String>, Double> sums = new LinkedHashMap<>();
        for (Sample s : e.samples(name + "_sum")) {
            sums.putIfAbsent(s.labels(), s.value());
        }
        for (Sample count : selected(e.samples(name + "_count"))) {
            Double sum = sums.get(count.labels());
            if (sum != null) {
                out.countAndSum(metric, model.apply(count.labels()), count.value(), sum);
            }
        }
    }
}
