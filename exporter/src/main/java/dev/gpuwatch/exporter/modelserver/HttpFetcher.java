package dev.gpuwatch.exporter.modelserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.exporter.modelserver.adapter.Fetcher;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.ParseException;
import dev.gpuwatch.exporter.modelserver.exposition.TextFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link Fetcher} of one poll of one target: every request shares the poll's deadline, every body is read
 * only up to the size limit (the connection is dropped there), and every exposition counts against the series
 * limit. Failures come back as {@link PollFailure} with a reason from the fixed set.
 */
final class HttpFetcher implements Fetcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACCEPT_TEXT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

    private final HttpClient client;
    private final TargetSettings target;
    private final long deadlineNanos;
    private final long maxBytes;
    private int seriesLeft;

    HttpFetcher(HttpClient client, TargetSettings target, Duration timeout, long maxBytes, int maxSeries) {
        this.client = client;
        this.target = target;
        this.deadlineNanos = System.nanoTime() + timeout.toNanos();
        this.maxBytes = maxBytes;
        this.seriesLeft = maxSeries;
    }

    @Override
    public Exposition metrics() throws PollFailure {
        URI uri = target.metricsUrl().orElseThrow(
                () -> new PollFailure(Reason.PARSE_ERROR, target.name() + " has no metrics endpoint"));
        Body body = send(request(uri).header("Accept", ACCEPT_TEXT).GET());
        if (!body.contentTypeIs("text/plain", "application/openmetrics-text")) {
            throw new PollFailure(Reason.BAD_CONTENT_TYPE, uri + " answered " + body.contentType().orElse(""));
        }
        try {
            Exposition e = TextFormat.parse(new String(body.bytes(), StandardCharsets.UTF_8), seriesLeft);
            seriesLeft -= e.size();
            return e;
        } catch (ParseException e) {
            throw new PollFailure(Reason.PARSE_ERROR, uri + ": " + e.getMessage());
        } catch (TextFormat.TooManySeriesException e) {
            throw new PollFailure(Reason.TOO_MANY_SERIES, uri + ": " + e.getMessage());
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
        Body body = send(request.header("Accept", "application/json"));
        if (!body.contentTypeIs("application/json", "text/plain") && !body.contentType().orElse("").contains("+json")) {
            throw new PollFailure(Reason.BAD_CONTENT_TYPE, body.uri() + " answered " + body.contentType().orElse(""));
        }
        try {
            return JSON.readTree(body.bytes());
        } catch (JsonProcessingException e) {
            throw new PollFailure(Reason.PARSE_ERROR, body.uri() + ": not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new PollFailure(Reason.PARSE_ERROR, body.uri() + ": " + e.getMessage());
        }
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", "gpuwatch-exporter");
        target.authorization().ifPresent(a -> b.header("Authorization", a));
        return b;
    }

    /** A complete answer with a 2xx status. */
    private record Body(URI uri, Optional<String> contentType, byte[] bytes) {
        /** True when there is no Content-Type (read it anyway) or its media type is one of {@code types}. */
        boolean contentTypeIs(String... types) {
            if (contentType.isEmpty()) {
                return true;
            }
            String media = contentType.get().split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            return List.of(types).contains(media);
        }
    }

    private Body send(HttpRequest.Builder builder) throws PollFailure {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new PollFailure(Reason.TIMEOUT, target.name() + ": deadline passed before the request");
        }
        HttpRequest request = builder.timeout(Duration.ofNanos(left)).build();
        CompletableFuture<HttpResponse<byte[]>> future =
                client.sendAsync(request, info -> new LimitedBody(maxBytes, info));
        HttpResponse<byte[]> response;
        try {
            response = future.get(left, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new PollFailure(Reason.TIMEOUT, request.uri() + ": no complete answer within the deadline");
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new PollFailure(Reason.TIMEOUT, request.uri() + ": interrupted");
        } catch (ExecutionException e) {
            throw failure(request.uri(), e.getCause());
        }
        int status = response.statusCode();
        if (status < 200 || status > 299) {
            throw new PollFailure(Reason.HTTP_STATUS, request.uri() + " answered HTTP " + status);
        }
        return new Body(request.uri(), response.headers().firstValue("Content-Type"), response.body());
    }

    private static PollFailure failure(URI uri, Throwable cause) {
        Throwable c = cause;
        while (c != null) {
            if (c instanceof TooLarge t) {
                return new PollFailure(Reason.TOO_LARGE, uri + ": " + t.getMessage());
            }
            if (c instanceof HttpTimeoutException) {
                return new PollFailure(Reason.TIMEOUT, uri + ": " + c.getMessage());
            }
            if (c instanceof ConnectException) {
                return new PollFailure(Reason.CONNECTION_REFUSED, uri + ": connection refused");
            }
            c = c.getCause();
        }
        return new PollFailure(Reason.CONNECTION_ERROR, uri + ": " + cause);
    }

    /** The body was larger than the limit; reading stopped there. */
    static final class TooLarge extends IOException {
        TooLarge(long limit) {
            super("answer larger than " + limit + " bytes");
        }
    }

    /**
     * Collects the body up to {@code limit} bytes; past it (or when Content-Length announces more) it cancels
     * the subscription, which makes the client drop the connection instead of reading the rest.
     */
    static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final long limit;
        private final boolean announcedTooLarge;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        LimitedBody(long limit, HttpResponse.ResponseInfo info) {
            this.limit = limit;
            this.announcedTooLarge = info.headers().firstValueAsLong("Content-Length").orElse(0) > limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (announcedTooLarge) {
                s.cancel();
                result.completeExceptionally(new TooLarge(limit));
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (out.size() + (long) b.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new TooLarge(limit));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }
}
