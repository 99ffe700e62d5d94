package dev.gpuwatch.exporter.scrape;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.config.ExporterFilterProperties;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.exporter.httpserver.HttpExchangeAdapter;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.model.registry.MetricNameFilter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * {@code /metrics} in Prometheus text or OpenMetrics: what client_java's handler writes, byte for byte, except that
 * families a collector offers as {@link Prerendered} (the model-server series, thousands of them, unchanged between
 * polls) are written from text rendered once per poll instead of being rendered again on every scrape. Everything
 * else (protobuf, {@code ?debug=}, methods other than GET and HEAD) goes to client_java's handler.
 */
public final class MetricsEndpoint implements HttpHandler {
    private static final Logger LOG = Logger.getLogger("web");

    private final PrometheusRegistry registry;
    private final HttpHandler clientJava;
    private final Optional<Predicate<String>> configuredFilter;
    private final boolean preferUncompressed;

    public MetricsEndpoint(PrometheusProperties properties, PrometheusRegistry registry) {
        this.registry = registry;
        this.clientJava = new MetricsHandler(properties, registry);
        this.configuredFilter = filter(properties.getExporterFilterProperties());
        this.preferUncompressed = properties.getExporterHttpServerProperties().isPreferUncompressedResponse();
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String query = exchange.getRequestURI().getRawQuery();
        boolean debug = query != null && query.contains("debug=");
        ExpositionFormatWriter writer = TextExposition.writerFor(exchange.getRequestHeaders().getFirst("Accept"));
        Optional<TextExposition> text = TextExposition.of(writer);
        if (debug || text.isEmpty() || !(method.equals("GET") || method.equals("HEAD"))) {
            clientJava.handle(exchange);
            return;
        }
        try (exchange; InputStream in = exchange.getRequestBody()) {
            in.transferTo(OutputStream.nullOutputStream());
            Scrape scrape = new Scrape(new HttpExchangeAdapter(exchange).getRequest());
            boolean head = method.equals("HEAD");
            boolean gzip = !head && !preferUncompressed && acceptsGzip(scrape);
            List<Piece> body;
            try {
                body = scrape.body(text.get(), EscapingScheme.fromAcceptHeader(scrape.getHeader("Accept")), gzip);
            } catch (RuntimeException e) {
                LOG.warning("scrape failed: " + e);
                byte[] msg = "An Exception occurred while scraping metrics\n".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                exchange.sendResponseHeaders(500, msg.length);
                exchange.getResponseBody().write(msg);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
            if (gzip) {
                exchange.getResponseHeaders().set("Content-Encoding", "gzip");
                exchange.sendResponseHeaders(200, 0);
                try (OutputStream out = new BufferedOutputStream(exchange.getResponseBody(), 64 * 1024);
                        SplicedGzip zip = new SplicedGzip(out)) {
                    for (Piece p : body) {
                        if (p.deflated().isPresent()) {
                            zip.writeSegment(p.deflated().get(), p.text());
                        } else {
                            zip.write(p.text());
                        }
                    }
                    zip.finish();
                }
                return;
            }
            long length = 0;
            for (Piece p : body) {
                length += p.text().length;
            }
            if (head) {
                exchange.getResponseHeaders().set("Content-Length", String.valueOf(length));
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, length);
            try (OutputStream out = exchange.getResponseBody()) {
                for (Piece p : body) {
                    out.write(p.text());
                }
            }
        }
    }

    /**
     * A stretch of the exposition: text, and for a gzip scrape of pre-rendered families the same text as a
     * {@link DeflateSegment} compressed once per poll.
     */
    private record Piece(byte[] text, Optional<byte[]> deflated) {}

    /** The request the collectors see: client_java's, plus a place to offer pre-rendered families. */
    private final class Scrape implements PrometheusHttpRequest, Prerendered.Sink {
        private final PrometheusHttpRequest request;
        private final List<Prerendered> offered = new ArrayList<>(2);

        Scrape(PrometheusHttpRequest request) {
            this.request = request;
        }

        @Override
        public void offer(Prerendered families) {
            synchronized (offered) {
                offered.add(families);
            }
        }

        /**
         * The exposition as pieces to write in order: runs of freshly rendered families between the pre-rendered
         * ones, then the format's trailer. client_java writes families one after the other in name order, so this
         * is the text it would write.
         */
        List<Piece> body(TextExposition format, EscapingScheme escaping, boolean gzip) {
            MetricSnapshots snapshots = scrape();
            Prerendered.Format key = new Prerendered.Format(format, escaping);
            List<Piece> out = new ArrayList<>();
            List<MetricSnapshot> run = new ArrayList<>();
            for (MetricSnapshot s : snapshots) {
                Optional<Prerendered> from = prerenderedBy(s);
                if (from.isPresent()) {
                    if (!run.isEmpty()) {
                        out.add(new Piece(format.render(run, escaping), Optional.empty()));
                        run.clear();
                    }
                    byte[] text = from.get().text(s, key).orElseThrow();
                    out.add(new Piece(text, gzip ? from.get().deflated(s, key) : Optional.empty()));
                } else {
                    run.add(s);
                }
            }
            if (!run.isEmpty()) {
                out.add(new Piece(format.render(run, escaping), Optional.empty()));
            }
            out.add(new Piece(format.trailer(), Optional.empty()));
            return out;
        }

        private MetricSnapshots scrape() {
            String[] names = request.getParameterValues("name[]");
            Optional<Predicate<String>> filter = configuredFilter;
            if (names != null && names.length > 0) {
                Predicate<String> asked = MetricNameFilter.builder().nameMustBeEqualTo(names).build();
                filter = Optional.of(filter.map(f -> f.and(asked)).orElse(asked));
            }
            return filter.isPresent() ? registry.scrape(filter.get(), this) : registry.scrape(this);
        }

        private Optional<Prerendered> prerenderedBy(MetricSnapshot s) {
            synchronized (offered) {
                for (Prerendered p : offered) {
                    if (p.contains(s)) {
                        return Optional.of(p);
                    }
                }
            }
            return Optional.empty();
        }

        @Override
        public String getQueryString() {
            return request.getQueryString();
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            return request.getHeaders(name);
        }

        @Override
        public String getMethod() {
            return request.getMethod();
        }

        @Override
        public String getRequestPath() {
            return request.getRequestPath();
        }

        @Override
        public String[] getParameterValues(String name) {
            return request.getParameterValues(name);
        }
    }

    private static boolean acceptsGzip(PrometheusHttpRequest request) {
        Enumeration<String> values = request.getHeaders("Accept-Encoding");
        while (values != null && values.hasMoreElements()) {
            for (String token : values.nextElement().split(",")) {
                String coding = token.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
                if (coding.equals("gzip")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Optional<Predicate<String>> filter(ExporterFilterProperties p) {
        if (p.getAllowedMetricNames() == null && p.getExcludedMetricNames() == null
                && p.getAllowedMetricNamePrefixes() == null && p.getExcludedMetricNamePrefixes() == null) {
            return Optional.empty();
        }
        return Optional.of(MetricNameFilter.builder()
                .nameMustBeEqualTo(orEmpty(p.getAllowedMetricNames()))
                .nameMustNotBeEqualTo(orEmpty(p.getExcludedMetricNames()))
                .nameMustStartWith(orEmpty(p.getAllowedMetricNamePrefixes()))
                .nameMustNotStartWith(orEmpty(p.getExcludedMetricNamePrefixes())).build());
    }

    private static List<String> orEmpty(List<String> l) {
        return l == null ? List.of() : l;
    }
}
