package dev.gpuwatch.receiver.deliver.message;

import java.util.regex.Pattern;

/**
 * Cuts text to a limit with a visible marker, {@code …[truncated N bytes]} (N: the UTF-8 bytes left out), never
 * inside a UTF-8 sequence or a surrogate pair, and makes a value one line. One place for both, so that every
 * channel cuts and flattens the same way.
 */
public final class Trim {

    /** The smallest limit that leaves room for the marker. */
    public static final int MIN_BYTES = 32;

    /** Every line break Unicode knows (CR, LF, VT, FF, NEL, LS, PS) with the blanks around it. */
    private static final Pattern LINE_BREAKS = Pattern.compile("[\\h]*[\\r\\n\\u000B\\f\\u0085\\u2028\\u2029]+[\\h\\r\\n\\u000B\\f\\u0085\\u2028\\u2029]*");

    private Trim() {}

    /** {@code s} with every line break (and the blanks around it) replaced by one space. */
    public static String oneLine(String s) {
        return LINE_BREAKS.matcher(s).replaceAll(" ");
    }

    /** {@code s} if it is at most {@code maxBytes} in UTF-8, else its head and the marker, at most {@code maxBytes}. */
    public static String toBytes(String s, int maxBytes) {
        int total = utf8Length(s, 0, s.length());
        if (total <= maxBytes) {
            return s;
        }
        // the marker is "…" (3 bytes) + "[truncated " + N + " bytes]"; N < total bounds its digits
        int room = maxBytes - 3 - "[truncated  bytes]".length() - digits(total);
        int end = 0;
        int used = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end);
            int bytes = utf8Length(cp);
            if (used + bytes > room) {
                break;
            }
            used += bytes;
            end += Character.charCount(cp);
        }
        return s.substring(0, end) + marker(total - used);
    }

    /**
     * {@code s} if it has at most {@code maxChars} UTF-16 characters (what Slack and PagerDuty count), else its
     * head and the marker, at most {@code maxChars}.
     */
    public static String toChars(String s, int maxChars) {
        if (s.length() <= maxChars) {
            return s;
        }
        int total = utf8Length(s, 0, s.length());
        int end = Math.max(0, maxChars - 1 - "[truncated  bytes]".length() - digits(total));
        return head(s, end);
    }

    /** {@code s.substring(0, end)} (one character less where {@code end} would split a pair) and the marker. */
    public static String head(String s, int end) {
        int cut = end > 0 && end < s.length() && Character.isLowSurrogate(s.charAt(end)) ? end - 1 : end;
        return s.substring(0, cut) + marker(utf8Length(s, cut, s.length()));
    }

    /** The marker that stands for {@code removedBytes} left out. */
    public static String marker(int removedBytes) {
        return "…[truncated " + removedBytes + " bytes]";
    }

    /** UTF-8 length of {@code s[from, to)}, counting without encoding; an unpaired surrogate counts as "?" does. */
    public static int utf8Length(CharSequence s, int from, int to) {
        int bytes = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1;
            } else {
                bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            }
        }
        return bytes;
    }

    private static int utf8Length(int codePoint) {
        if (Character.isSurrogate((char) codePoint) && codePoint <= 0xFFFF) {
            return 1;
        }
        return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    }

    private static int digits(int n) {
        return Integer.toString(n).length();
    }
}
