package dev.gpuwatch.receiver.deliver.message;

import java.util.function.UnaryOperator;

/**
 * How a channel wants the model's values shaped before its templates see them: the most UTF-8 bytes one value
 * may take (a longer one is cut with {@link Trim}'s visible marker, so one huge annotation cannot crowd out the
 * rest of a message), and what a one-line value (a label, the alert name, a summary) needs on top of losing its
 * line breaks where it lands, e.g. Slack, where a backtick would close the code span around it.
 */
public record ValueRules(int maxValueBytes, UnaryOperator<String> oneLine) {

    /** No length limit and nothing but line breaks removed: what the log and the tests of the templates use. */
    public static final ValueRules UNBOUNDED = new ValueRules(Integer.MAX_VALUE, UnaryOperator.identity());

    public ValueRules {
        if (maxValueBytes < Trim.MIN_BYTES) {
            throw new IllegalArgumentException("maxValueBytes " + maxValueBytes + " < " + Trim.MIN_BYTES);
        }
    }

    /** Values of at most {@code maxValueBytes}, one-line values only without their line breaks. */
    public static ValueRules plain(int maxValueBytes) {
        return new ValueRules(maxValueBytes, UnaryOperator.identity());
    }
}
