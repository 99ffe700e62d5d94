package dev.gpuwatch.receiver.enrich;

import java.util.List;
import java.util.Optional;

/**
 * What Prometheus said about a notification at delivery: the graph of its alerts' expression and the live
 * context lines (current value, top processes, queue, KV cache). Empty when no Prometheus is configured, the
 * notification resolved, or Prometheus did not answer within {@code enrichment.prometheus_timeout}: the message
 * goes without them.
 */
public record LiveView(Optional<Graph> graph, List<Context> context) {

    public LiveView {
        context = List.copyOf(context);
    }

    public static LiveView none() {
        return new LiveView(Optional.empty(), List.of());
    }

    public boolean isEmpty() {
        return graph.isEmpty() && context.isEmpty();
    }

    /**
     * A rendered PNG; {@code url} is where the receiver serves it (for PagerDuty's {@code images}), empty when it
     * was not stored. {@code fileName} is safe for Slack and a MIME part ({@code [a-z0-9-]+.png}).
     */
    public record Graph(byte[] png, String fileName, String title, String alt, Optional<String> url) {}

    /** One context query's answer: a title and up to a few result lines ({@code "python3 (pid 4242): 71 GiB"}). */
    public record Context(String title, List<String> lines) {
        public Context {
            lines = List.copyOf(lines);
        }
    }
}
