package dev.gpuwatch.testkit.http;

/** A failure a local server answers with instead of processing a request, as the real service can. */
public sealed interface Failure {

    /** HTTP 429 with {@code Retry-After: seconds}. */
    record RateLimited(int retryAfterSeconds) implements Failure {}

    /** Slack: HTTP 200 {@code {"ok":false,"error":code}} (an incoming webhook answers 4xx with the code). */
    record SlackError(String error) implements Failure {}

    /** An HTTP 5xx with a non-JSON body, as a load balancer in front of the service answers. */
    record ServerError(int status) implements Failure {}

    static Failure rateLimited(int retryAfterSeconds) {
        return new RateLimited(retryAfterSeconds);
    }

    static Failure slackError(String error) {
        return new SlackError(error);
    }

    static Failure serverError(int status) {
        return new ServerError(status);
    }
}
