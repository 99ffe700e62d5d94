package dev.gpuwatch.exporter.modelserver.adapter;

import java.util.Locale;

/**
 * Why a poll of a target failed. The reason is the bounded {@code reason} label of
 * {@code inference_target_last_error}; the message is for the log only (it may name a URL, never a secret).
 */
public final class PollFailure extends Exception {

    /** The fixed set of failure reasons; {@link #label()} is the label value. */
    public enum Reason {
        /** No complete answer before the poll's deadline. */
        TIMEOUT,
        /** Nothing listens on the port. */
        CONNECTION_REFUSED,
        /** The connection broke or closed before the whole answer arrived (a server restarting mid-poll). */
        CONNECTION_ERROR,
        /** An answer other than 2xx. */
        HTTP_STATUS,
        /** An answer that is not the format asked for (an HTML error page, say). */
        BAD_CONTENT_TYPE,
        /** An answer that does not parse as the text format or the expected JSON. */
        PARSE_ERROR,
        /**
         * An answer that parses but carries none of the configured type's series: a server of another type (the
         * log names which) or no model server at all answers there.
         */
        WRONG_TYPE,
        /** An answer larger than the response size limit; reading stopped at the limit. */
        TOO_LARGE,
        /** More series than the series limit; reading stopped at the limit. */
        TOO_MANY_SERIES,
        /** A label value (a model name, say) longer than {@code max_label_value_length}; reading stopped there. */
        LABEL_TOO_LONG,
        /**
         * The exporter itself failed during the poll (out of memory, or a bug: an {@link Error}); the log says
         * which. Also the reason of a target whose poller has stopped.
         */
        INTERNAL_ERROR;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Reason reason;

    public PollFailure(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
