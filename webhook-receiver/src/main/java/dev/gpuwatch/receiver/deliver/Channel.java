package dev.gpuwatch.receiver.deliver;

/**
 * One configured destination (a Slack channel, a PagerDuty routing key, an email recipient list, the log
 * sink). Implementations know nothing of the store, retries or rate limits: the dispatcher owns those and
 * calls {@link #deliver} once per attempt. Thread-safe.
 */
public interface Channel {

    /** {@code slack}, {@code pagerduty}, {@code email} or {@code log}: the {@code integration} metric label. */
    String integration();

    /**
     * Sends one message. Never throws for an expected failure (HTTP error, timeout, SMTP refusal): it returns
     * {@link DeliveryOutcome.RetryLater} or {@link DeliveryOutcome.Failed} instead.
     */
    DeliveryOutcome deliver(Delivery delivery);
}
