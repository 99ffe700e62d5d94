package dev.gpuwatch.exporter.modelserver;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.exporter.modelserver.adapter.Fetcher;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.ParseException;
import dev.gpuwatch.exporter.modelserver.exposition.TextFormat;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The {@link Fetcher} of one poll of one target. Every request shares the poll's deadline, which covers the
 * body too (a body that trickles ends at the deadline). Bodies are parsed as they arrive, never held whole: the
 * text format line by line, JSON by Jackson's streaming reader; gzip answers are inflated on the way. Reading
 * stops, and the connection is dropped, at the first byte past the size limit (counted after inflating, so a
 * gzip bomb stops there too), the first series past the series limit, or the first label value past its
 * limit. Failures come back as {@link PollFailure} with a reason from the fixed set.
 */
final class HttpFetcher implements Fetcher {
    /** Nesting deeper than this is no model server's answer; the limit keeps Jackson's recursion short. */
    private static final int MAX_JSON_DEPTH = 64;
    /**
     * A JSON answer is read into a tree, which costs tens of bytes per token, so the byte limit alone would let a
     * 16 MiB answer of small tokens take several times the exporter's heap. 50,000 tokens (a tree of a few MiB)
     * is Triton's statistics for hundreds of models; Ollama's and TorchServe's answers are far smaller.
     */
    static final long MAX_JSON_TOKENS = 50_000;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_JSON_DEPTH)
                    .maxTokenCount(MAX_JSON_TOKENS).build())
            .build());
    private static final String ACCEPT_TEXT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

    private final HttpClient client;
    private final TargetSettings target;
    private final long deadlineNanos;
    private final long maxBytes;
    private final int maxLabelValueBytes;
    private int seriesLeft;

    HttpFetcher(HttpClient client, TargetSettings target, Duration timeout, long maxBytes, int maxSeries,
            int maxLabelValueBytes) {
        this.client = client;
        this.target = target;
        this.deadlineNanos = System.nanoTime() + timeout.toNanos();
        this.maxBytes = maxBytes;
        this.seriesLeft = maxSeries;
        this.maxLabelValueBytes = maxLabelValueBytes;
    }

    @Override
    public Exposition metrics() throws PollFailure {
        URI uri = target.metricsUrl().orElseThrow(
                () -> new PollFailure(Reason.PARSE_ERROR, target.name() + " has no metrics endpoint"));
        try (Body body = send(request(uri).header("Accept", ACCEPT_TEXT).GET())) {
            if (!body.contentTypeIs("text/plain", "application/openmetrics-text")) {
                throw new PollFailure(Reason.BAD_CONTENT_TYPE, uri + " answered " + body.contentType().orElse(""));
            }
            Exposition e = TextFormat.read(body.stream(), TextFormat.Limits.of(seriesLeft, maxLabelValueBytes));
            seriesLeft -= e.size();
            return e;
        } catch (ParseException e) {
            throw new PollFailure(Reason.PARSE_ERROR, uri + ": " + e.getMessage());
        } catch (TextFormat.TooManySeriesException e) {
            throw new PollFailure(Reason.TOO_MANY_SERIES, uri + ": " + e.getMessage());
        } catch (TextFormat.LabelTooLongException e) {
            throw new PollFailure(Reason.LABEL_TOO_LONG, uri + ": " + e.getMessage());
        } catch (IOException e) {
            throw failure(uri, e);
        }
    }

    @Override
    public JsonNode getJson(String path) throws PollFailure {
        return json(request(target.url().resolve(path)).GET());
    }

    @Override
    public JsonNode postJson(String path, String jsonBody) throws PollFailure {
        return json(request(target.url().resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody)));
    }

    private JsonNode json(HttpRequest.Builder request) throws PollFailure {
        URI uri = request.build().uri();
        try (Body body = send(request.header("Accept", "application/json"))) {
            if (!body.contentTypeIs("application/json", "text/plain")
                    && !body.contentType().orElse("").contains("+json")) {
                throw new PollFailure(Reason.BAD_CONTENT_TYPE, uri + " answered " + body.contentType().orElse(""));
            }
            return JSON.readTree(body.stream());
        } catch (StreamConstraintsException e) {
            // Jackson says which constraint in its message only; the token count is a size, the depth a shape
            boolean tokens = e.getOriginalMessage().startsWith("Token count");
            throw new PollFailure(tokens ? Reason.TOO_LARGE : Reason.PARSE_ERROR, uri + ": "
                    + (tokens ? "more than " + MAX_JSON_TOKENS + " JSON tokens" : e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new PollFailure(Reason.PARSE_ERROR, uri + ": not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // Jackson wraps what the stream threw (the size limit, the deadline) in nothing: it is ours as thrown
            throw failure(uri, e);
        }
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", "gpuwatch-exporter")
                .header("Accept-Encoding", "gzip"); // as Prometheus asks; anything else is refused below
        target.authorization().ifPresent(a -> b.header("Authorization", a));
        return b;
    }

    /**
     * A 2xx answer whose body is still arriving: {@link #stream()} is the body as sent (inflated when gzip),
     * limited to the size limit. Closing it drops what was not read.
     */
    private record Body(URI uri, Optional<String> contentType, InputStream stream) implements AutoCloseable {
        /** True when there is no Content-Type (read it anyway) or its media type is one of {@code types}. */
        boolean contentTypeIs(String... types) {
            if (contentType.isEmpty()) {
                return true;
            }
            String media = contentType.get().split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            return List.of(types).contains(media);
        }

        @Override
        public void close() {
            try {
                stream.close();
            } catch (IOException e) {
                // nothing to release beyond the subscription, which close cancelled
            }
        }
    }

    private Body send(HttpRequest.Builder builder) throws PollFailure {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new PollFailure(Reason.TIMEOUT, target.name() + ": deadline passed before the request");
        }
        HttpRequest request = builder.timeout(Duration.ofNanos(left)).build();
        CompletableFuture<HttpResponse<InputStream>> future =
                client.sendAsync(request, info -> new BodyStream(deadlineNanos));
        HttpResponse<InputStream> response;
        try {
            response = future.get(left, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new PollFailure(Reason.TIMEOUT, request.uri() + ": no answer within the deadline");
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new PollFailure(Reason.TIMEOUT, request.uri() + ": interrupted");
        } catch (ExecutionException e) {
            throw failure(request.uri(), e.getCause());
        }
        InputStream raw = response.body();
        try {
            int status = response.statusCode();
            if (status < 200 || status > 299) {
                throw new PollFailure(Reason.HTTP_STATUS, request.uri() + " answered HTTP " + status);
            }
            if (response.headers().firstValueAsLong("Content-Length").orElse(0) > maxBytes) {
                throw new PollFailure(Reason.TOO_LARGE, request.uri() + ": " + new TooLarge(maxBytes).getMessage());
            }
            InputStream decoded = switch (encoding(response)) {
                case "", "identity" -> raw;
                case "gzip", "x-gzip" -> inflating(raw, request.uri());
                case String other -> throw new PollFailure(Reason.BAD_CONTENT_TYPE, request.uri()
                        + " answered Content-Encoding " + other + ", which was not asked for (only gzip is read)");
            };
            return new Body(request.uri(), response.headers().firstValue("Content-Type"),
                    new Limited(decoded, maxBytes));
        } catch (PollFailure | RuntimeException | Error e) {
            closeQuietly(raw);
            throw e;
        }
    }

    private static String encoding(HttpResponse<?> response) {
        return response.headers().firstValue("Content-Encoding").orElse("").strip().toLowerCase(Locale.ROOT);
    }

    /** A gzip stream over the body; its header is read here, so a body that is not gzip fails at once. */
    private static InputStream inflating(InputStream raw, URI uri) throws PollFailure {
        try {
            return new GZIPInputStream(raw, 8192);
        } catch (IOException e) {
            throw failure(uri, e);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the subscription is cancelled either way
        }
    }

    private static PollFailure failure(URI uri, Throwable cause) {
        Throwable c = cause;
        while (c != null) {
            switch (c) {
                case TooLarge t -> {
                    return new PollFailure(Reason.TOO_LARGE, uri + ": " + t.getMessage());
                }
                case HttpTimeoutException t -> {
                    return new PollFailure(Reason.TIMEOUT, uri + ": " + t.getMessage());
                }
                case InterruptedIOException t -> {
                    return new PollFailure(Reason.TIMEOUT, uri + ": interrupted");
                }
                case ConnectException t -> {
                    return new PollFailure(Reason.CONNECTION_REFUSED, uri + ": connection refused");
                }
                case ZipException t -> {
                    return new PollFailure(Reason.PARSE_ERROR, uri + ": not valid gzip: " + t.getMessage());
                }
                default -> c = c.getCause();
            }
        }
        return new PollFailure(Reason.CONNECTION_ERROR, uri + ": " + cause);
    }

    /** The body was larger than the limit; reading stopped there. */
    static final class TooLarge extends IOException {
        TooLarge(long limit) {
            super("answer larger than " + limit + " bytes");
        }
    }

    /** Counts what is read through it and throws {@link TooLarge} at the first byte past the limit. */
    static final class Limited extends FilterInputStream {
        private final long limit;
        private long count;

        Limited(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0 && ++count > limit) {
                throw new TooLarge(limit);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            // one byte more than the limit allows, so a body of exactly the limit is read whole and ends cleanly
            int n = super.read(b, off, (int) Math.min(len, limit - count + 1));
            if (n > 0 && (count += n) > limit) {
                throw new TooLarge(limit);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // skipped bytes count like read ones
            int r = n <= 0 ? 0 : read(new byte[(int) Math.min(n, 8192)]);
            return Math.max(r, 0);
        }
    }
}
