package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.InferenceMetric;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The immutable result of a target's last poll, which is all a scrape reads. Up: the prepared data points, and
 * the parts a secondary call could not give. Down: the reason, and no data (a failed target's old values are never
 * served as if fresh).
 *
 * @param pollSeconds duration of the last poll; empty before the first one ended
 * @param missing     the parts an up target's poll lacks ({@code inference_target_partial}); empty when down
 */
record TargetState(TargetSettings target, Labels baseLabels, Map<InferenceMetric, List<DataPointSnapshot>> points,
        Set<String> models, Optional<Reason> lastError, Optional<Double> pollSeconds, List<Normalized.Missing> missing) {

    TargetState {
        missing = List.copyOf(missing);
    }

    /** A state with nothing missing: a down target, or a complete poll. */
    TargetState(TargetSettings target, Labels baseLabels, Map<InferenceMetric, List<DataPointSnapshot>> points,
            Set<String> models, Optional<Reason> lastError, Optional<Double> pollSeconds) {
        this(target, baseLabels, points, models, lastError, pollSeconds, List.of());
    }

    static TargetState pending(TargetSettings target) {
        return new TargetState(target, baseLabels(target), Map.of(), Set.of(), Optional.empty(), Optional.empty());
    }

    /**
     * This target down with {@code internal_error} and no values: its poller failed (or its thread died), so its
     * last result must not stand as fresh.
     */
    TargetState stopped() {
        return new TargetState(target, baseLabels, Map.of(), models, Optional.of(Reason.INTERNAL_ERROR),
                Optional.of(pollSeconds.orElse(0.0)));
    }

    boolean up() {
        return pollSeconds.isPresent() && lastError.isEmpty();
    }

    /** {@code target}, {@code server} and the target's own labels. */
    static Labels baseLabels(TargetSettings t) {
        Labels l = Labels.of("target", t.name(), "server", t.type().label());
        for (Map.Entry<String, String> e : t.labels().entrySet()) {
            l = l.add(e.getKey(), e.getValue());
        }
        return l;
    }
}
