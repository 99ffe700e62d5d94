package dev.gpuwatch.exporter.scrape;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.Optional;

/**
 * The two text formats whose exposition is the concatenation of each family's text (OpenMetrics adds
 * {@code # EOF} once at the end), so a family's text can be rendered once and reused by later scrapes. Both the
 * HTTP layer and the collectors that pre-render use these writers, configured from the same
 * {@link PrometheusProperties}, so reused text is byte for byte what client_java would write on the scrape.
 */
public enum TextExposition {
    PROMETHEUS_TEXT,
    OPENMETRICS;

    private static final byte[] EOF = "# EOF\n".getBytes(StandardCharsets.US_ASCII);
    private static final ExpositionFormats FORMATS = ExpositionFormats.init(PrometheusProperties.get());

    /** The writer a scrape with this {@code Accept} header gets, as client_java's handler chooses it. */
    public static ExpositionFormatWriter writerFor(String accept) {
        return FORMATS.findWriter(accept);
    }

    /** The text format {@code writer} writes; empty for the others (protobuf), which are rendered per scrape. */
    public static Optional<TextExposition> of(ExpositionFormatWriter writer) {
        if (writer == FORMATS.getPrometheusTextFormatWriter()) {
            return Optional.of(PROMETHEUS_TEXT);
        }
        if (writer == FORMATS.getOpenMetricsTextFormatWriter()) {
            return Optional.of(OPENMETRICS);
        }
        return Optional.empty();
    }

    public ExpositionFormatWriter writer() {
        return this == PROMETHEUS_TEXT ? FORMATS.getPrometheusTextFormatWriter() : FORMATS.getOpenMetricsTextFormatWriter();
    }

    /** What ends a whole exposition in this format: {@code # EOF} for OpenMetrics, nothing for Prometheus text. */
    public byte[] trailer() {
        return this == OPENMETRICS ? EOF.clone() : new byte[0];
    }

    /** The text of {@code families} (in the order given, which must be sorted by name), without the trailer. */
    public byte[] render(Collection<MetricSnapshot> families, EscapingScheme escaping) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer().write(out, new MetricSnapshots(families), escaping);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        byte[] text = out.toByteArray();
        if (this == OPENMETRICS) {
            int n = text.length - EOF.length;
            if (n < 0 || !Arrays.equals(text, n, text.length, EOF, 0, EOF.length)) {
                throw new IllegalStateException("OpenMetrics text does not end with # EOF");
            }
            return Arrays.copyOf(text, n);
        }
        return text;
    }
}
