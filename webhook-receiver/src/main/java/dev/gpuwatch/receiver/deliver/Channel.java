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

    /**
     * Which of {@code query}'s deliveries the target already has: asked before sending again a delivery whose
     * earlier attempt's outcome was never recorded (the process died during it), so that what it had sent is
     * recorded instead of sent twice. Never throws for an expected failure: {@link SentLookup.Failed}.
     *
     * <p>The default, for a target that cannot be asked, finds none, and the delivery is sent again as it was
     * the first time: PagerDuty folds an event with the same dedup_key into the incident already open, and an
     * email carries the same Message-ID (the recipient's mail system may still show it twice).
     */
    default SentLookup findSent(SentQuery query) {
        return new SentLookup.Found(java.util.Map.of());
    }
}
