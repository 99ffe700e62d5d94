package dev.gpuwatch.receiver.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prometheus' HTTP API, the two reads the receiver needs: {@code /api/v1/query_range} for a graph and
 * {@code /api/v1/query} for context. Every call is bounded: by a deadline (the request's timeout), by the body
 * it reads ({@link #MAX_BODY_BYTES}); callers keep {@link #MAX_SERIES} of them ({@link #top}).
 * Answers are values ({@link Answer}); a failure never throws.
 */
public final class PrometheusClient {

    /** Series kept per answer: the graph's legend stays readable and its work bounded. */
    static final int MAX_SERIES = 8;
    /** A larger answer is refused while reading: a graph never needs more. */
    static final int MAX_BODY_BYTES = 4 * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One time series: its labels (without {@code __name__}) and its samples, in time order. */
    record Series(Map<String, String> labels, List<Sample> samples) {
        Series {
            labels = Map.copyOf(labels);
            samples = List.copyOf(samples);
        }

        double max() {
            return samples.stream().mapToDouble(Sample::value).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
        }
    }

    record Sample(Instant at, double value) {}

    sealed interface Answer {
        /** {@code omitted}: how many more series Prometheus returned than were kept. */
        record Data(List<Series> series, int omitted) implements Answer {
            public Data {
                series = List.copyOf(series);
            }
        }

        record Failed(String reason) implements Answer {}
    }

    private final URI base;
    private final HttpClient http;

    PrometheusClient(String baseUrl, Duration connectTimeout) {
        String b = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
        this.base = URI.create(b);
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    Answer range(String query, Instant start, Instant end, Duration step, Duration timeout) throws InterruptedException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("query", query);
        params.put("start", seconds(start));
        params.put("end", seconds(end));
        params.put("step", Long.toString(Math.max(1, step.toSeconds())));
        params.put("timeout", Math.max(1, timeout.toMillis()) + "ms");
        return call("api/v1/query_range", params, timeout);
    }

    Answer instant(String query, Instant at, Duration timeout) throws InterruptedException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("query", query);
        params.put("time", seconds(at));
        params.put("timeout", Math.max(1, timeout.toMillis()) + "ms");
        return call("api/v1/query", params, timeout);
    }

    private Answer call(String path, Map<String, String> params, Duration timeout) throws InterruptedException {
        StringBuilder form = new StringBuilder();
        params.forEach((k, v) -> form.append(form.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path))
                .timeout(timeout.isNegative() || timeout.isZero() ? Duration.ofMillis(1) : timeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
                .build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            return new Answer.Failed("timeout");
        } catch (IOException e) {
            return new Answer.Failed(e.getClass().getSimpleName());
        }
        JsonNode body;
        try (InputStream in = response.body()) {
            byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
            if (bytes.length > MAX_BODY_BYTES) {
                return new Answer.Failed("answer larger than " + MAX_BODY_BYTES + " bytes");
            }
            body = JSON.readTree(bytes);
        } catch (IOException e) {
            return new Answer.Failed("HTTP " + response.statusCode() + ", unreadable body");
        }
        if (response.statusCode() != 200 || body == null || !"success".equals(body.path("status").asText())) {
            String error = body == null ? "" : body.path("error").asText("");
            return new Answer.Failed("HTTP " + response.statusCode() + (error.isEmpty() ? "" : ": " + shorten(error)));
        }
        return parse(body.path("data"));
    }

    /** A matrix or vector (a scalar as one series without labels); bounded by the body's size. */
    static Answer parse(JsonNode data) {
        String type = data.path("resultType").asText("");
        List<Series> all = new ArrayList<>();
        switch (type) {
            case "matrix", "vector" -> {
                for (JsonNode r : data.path("result")) {
                    Map<String, String> labels = new TreeMap<>();
                    r.path("metric").properties().forEach(e -> {
                        if (!e.getKey().equals("__name__")) {
                            labels.put(e.getKey(), e.getValue().asText());
                        }
                    });
                    List<Sample> samples = new ArrayList<>();
                    if (type.equals("matrix")) {
                        for (JsonNode v : r.path("values")) {
                            sample(v).ifPresent(samples::add);
                        }
                    } else {
                        sample(r.path("value")).ifPresent(samples::add);
                    }
                    all.add(new Series(labels, samples));
                }
            }
            case "scalar" -> sample(data.path("result")).ifPresent(s -> all.add(new Series(Map.of(), List.of(s))));
            default -> {
                return new Answer.Failed("unexpected result type " + type);
            }
        }
        return new Answer.Data(all, 0);
    }

    /** The {@code limit} series with the largest values, and how many were left out. */
    static Answer.Data top(List<Series> series, int limit) {
        List<Series> sorted = new ArrayList<>(series);
        sorted.sort((a, b) -> Double.compare(orMin(b.max()), orMin(a.max())));
        int kept = Math.min(sorted.size(), limit);
        return new Answer.Data(sorted.subList(0, kept), sorted.size() - kept);
    }

    private static double orMin(double v) {
        return Double.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
    }

    private static java.util.Optional<Sample> sample(JsonNode pair) {
        if (!pair.isArray() || pair.size() != 2) {
            return java.util.Optional.empty();
        }
        double t = pair.get(0).asDouble();
        double v;
        try {
            v = Double.parseDouble(pair.get(1).asText());
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Sample(Instant.ofEpochMilli(Math.round(t * 1000)), v));
    }

    private static String seconds(Instant at) {
        return String.format(java.util.Locale.ROOT, "%.3f", at.toEpochMilli() / 1000.0);
    }

    private static String shorten(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
