package dev.gpuwatch.exporter.modelserver.exposition;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (0.0.4), tolerant of the OpenMetrics additions model
 * servers emit ({@code # EOF}, {@code # UNIT}, exemplars, float timestamps). client_java has no reader.
 *
 * <p>Strict where a mistake means the body is not what it claims: a line it cannot read, a body that does not end
 * in a newline (a truncated response), an unknown escape in a label value, a label named twice, a second TYPE or
 * HELP for one name. Each fails the whole body with {@link ParseException}. A sample repeated with the same name
 * and labels keeps its first value, as Prometheus does, and is counted in {@link Exposition#duplicates()}.
 */
public final class TextFormat {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern TIMESTAMP = Pattern.compile("-?\\d+(\\.\\d+)?");
    /** Compiled once: {@code String.split} would compile it again for every line. */
    private static final Pattern BLANKS = Pattern.compile("[ \\t]+");
    private static final Set<String> TYPES = Set.of(
            "counter", "gauge", "histogram", "summary", "untyped", "unknown", "gaugehistogram", "info", "stateset");

    private TextFormat() {}

    /** Thrown when the body has more samples than the target may send; reading stops there. */
    public static final class TooManySeriesException extends Exception {
        public TooManySeriesException(int limit) {
            super("more than " + limit + " series");
        }
    }

    /** Thrown at the first label value longer than the limit; reading stops there. */
    public static final class LabelTooLongException extends Exception {
        LabelTooLongException(int line, String labelName, int limit) {
            super("line " + line + ": the value of label " + labelName + " is longer than " + limit + " bytes");
        }
    }

    /**
     * What one body may hold. {@code maxLabelValueBytes} counts UTF-8 bytes, as Prometheus'
     * {@code label_value_length_limit} does; {@code maxLineBytes} bounds the one line held at a time.
     */
    public record Limits(int maxSeries, int maxLabelValueBytes, int maxLineBytes) {
        /** Lines are at least this long whatever the label limit: HELP texts and many labels fit. */
        public static final int MIN_LINE_BYTES = 64 << 10;

        /** A line may hold a few values at the label limit, and never less than {@link #MIN_LINE_BYTES}. */
        public static Limits of(int maxSeries, int maxLabelValueBytes) {
            long line = Math.max(MIN_LINE_BYTES, 4L * maxLabelValueBytes + 4096);
            return new Limits(maxSeries, maxLabelValueBytes, (int) Math.min(line, Integer.MAX_VALUE - 16));
        }
    }

    /**
     * Parses {@code text}; stops with {@link TooManySeriesException} as soon as the {@code maxSeries + 1}-th
     * sample is read. No limit on lines or label values: for text already in memory (fixtures, the fuzz target).
     */
    public static Exposition parse(String text, int maxSeries) throws ParseException, TooManySeriesException {
        try {
            return read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
                    new Limits(maxSeries, Integer.MAX_VALUE, Integer.MAX_VALUE - 16));
        } catch (IOException | LabelTooLongException e) {
            throw new IllegalStateException("cannot happen without limits on a byte array", e);
        }
    }

    /**
     * Parses the body read from {@code in}, one line at a time: the body is never held whole, only the current
     * line (at most {@code limits.maxLineBytes}) and what was parsed so far. Each line must be valid UTF-8. Stops
     * at the first problem: the {@code maxSeries + 1}-th sample, a label value over the limit, a line over the
     * limit, a line that does not parse. {@code in} is read to its end on success and not closed.
     *
     * @throws IOException what reading {@code in} threw (the caller's size limit or deadline, a broken connection)
     */
    public static Exposition read(InputStream in, Limits limits)
            throws IOException, ParseException, TooManySeriesException, LabelTooLongException {
        Lines lines = new Lines(in, limits);
        Map<String, String> names = new HashMap<>(); // one String per metric and label name, however many series
        Map<String, String> types = new HashMap<>();
        Set<String> helps = new HashSet<>();
        Map<String, List<Sample>> byName = new HashMap<>();
        Set<SeriesKey> seen = new HashSet<>();
        int duplicates = 0;
        int samples = 0;
        boolean eof = false;
        while (true) {
            String line = lines.next();
            if (line == null) {
                break;
            }
            int lineNo = lines.number();
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (eof) {
                throw new ParseException(lineNo, "content after # EOF");
            }
            String trimmed = line.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            if (trimmed.charAt(0) == '#') {
                eof = comment(trimmed, lineNo, types, helps);
                continue;
            }
            Sample sample = sample(line, lineNo, limits.maxLabelValueBytes(), names);
            if (!seen.add(new SeriesKey(sample.name(), sample.labels()))) {
                duplicates++;
                continue;
            }
            if (++samples > limits.maxSeries()) {
                throw new TooManySeriesException(limits.maxSeries());
            }
            byName.computeIfAbsent(sample.name(), k -> new ArrayList<>()).add(sample);
        }
        return new Exposition(byName, types, duplicates);
    }

    /**
     * The lines of a body, decoded as strict UTF-8 one at a time from a small read buffer. A line longer than the
     * limit is refused before it is held: as a label value over its limit when it stops inside one (a sample
     * with a huge label), else as a line too long.
     */
    private static final class Lines {
        private final InputStream in;
        private final Limits limits;
        private final byte[] buffer = new byte[8192];
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private byte[] line = new byte[256];
        private int lineLength;
        private int position;
        private int limit;
        private int number;

        Lines(InputStream in, Limits limits) {
            this.in = in;
            this.limits = limits;
        }

        int number() {
            return number;
        }

        /** The next line without its newline, or null at the end of a body that ends with a newline. */
        String next() throws IOException, ParseException, LabelTooLongException {
            lineLength = 0;
            while (true) {
                if (position == limit) {
                    limit = in.read(buffer, 0, buffer.length);
                    position = 0;
                    if (limit <= 0) {
                        limit = 0;
                        if (lineLength > 0) {
                            throw new ParseException(number + 1, "body does not end with a newline (truncated?)");
                        }
                        return null;
                    }
                }
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                append(start, position - start);
                if (position < limit) {
                    position++; // the newline
                    number++;
                    return decode();
                }
            }
        }

        private void append(int from, int length) throws ParseException, LabelTooLongException {
            if ((long) lineLength + length > limits.maxLineBytes()) {
                int take = limits.maxLineBytes() - lineLength;
                grow(limits.maxLineBytes());
                System.arraycopy(buffer, from, line, lineLength, take);
                lineLength += take;
                tooLong(number + 1);
            }
            grow(lineLength + length);
            System.arraycopy(buffer, from, line, lineLength, length);
            lineLength += length;
        }

        private void grow(int needed) {
            if (needed > line.length) {
                line = Arrays.copyOf(line, (int) Math.min(Math.max(needed, 2L * line.length), limits.maxLineBytes()));
            }
        }

        /** The held prefix of a line over the limit: an open label value over its limit says which label. */
        private void tooLong(int lineNo) throws ParseException, LabelTooLongException {
            Optional<String> label = openLabelValue(line, lineLength, limits.maxLabelValueBytes());
            if (label.isPresent()) {
                throw new LabelTooLongException(lineNo, label.get(), limits.maxLabelValueBytes());
            }
            throw new ParseException(lineNo, "longer than " + limits.maxLineBytes() + " bytes");
        }

        private String decode() throws ParseException {
            try {
                return utf8.decode(ByteBuffer.wrap(line, 0, lineLength)).toString();
            } catch (CharacterCodingException e) {
                throw new ParseException(number, "not valid UTF-8");
            }
        }
    }

    /**
     * The name of the label whose quoted value is still open at the end of {@code bytes} and already longer than
     * {@code limit} bytes, when {@code bytes} is the start of a sample line.
     */
    private static Optional<String> openLabelValue(byte[] bytes, int length, int limit) {
        int i = 0;
        while (i < length && (bytes[i] == ' ' || bytes[i] == '\t')) {
            i++;
        }
        if (i == length || bytes[i] == '#') {
            return Optional.empty();
        }
        while (i < length && bytes[i] != '{') {
            i++;
        }
        int nameStart = -1;
        int valueStart = -1;
        String name = "";
        for (i = i + 1; i < length; i++) {
            byte b = bytes[i];
            if (valueStart >= 0) {
                if (b == '\\') {
                    i++;
                } else if (b == '"') {
                    valueStart = -1;
                    nameStart = -1;
                }
            } else if (b == '"') {
                valueStart = i + 1;
            } else if (b == '=' && nameStart >= 0) {
                name = new String(bytes, nameStart, i - nameStart, StandardCharsets.UTF_8).strip();
            } else if (b == '}') {
                return Optional.empty();
            } else if (b == ',') {
                nameStart = -1;
            } else if (nameStart < 0 && b != ' ' && b != '\t') {
                nameStart = i;
            }
        }
        return valueStart >= 0 && length - valueStart > limit && LABEL_NAME.matcher(name).matches()
                ? Optional.of(name) : Optional.empty();
    }

    private record SeriesKey(String name, Map<String, String> labels) {}

    /** Returns true for {@code # EOF}. */
    private static boolean comment(String line, int lineNo, Map<String, String> types, Set<String> helps)
            throws ParseException {
        String[] parts = BLANKS.split(line.substring(1).strip(), 3);
        String keyword = parts[0];
        if (keyword.equals("EOF") && parts.length == 1) {
            return true;
        }
        if (!keyword.equals("TYPE") && !keyword.equals("HELP")) {
            return false; // a free-form comment (UNIT included)
        }
        if (parts.length < 2 || !METRIC_NAME.matcher(parts[1]).matches()) {
            throw new ParseException(lineNo, "# " + keyword + " without a valid metric name");
        }
        String name = parts[1];
        if (keyword.equals("HELP")) {
            if (!helps.add(name)) {
                throw new ParseException(lineNo, "second HELP line for " + name);
            }
            return false;
        }
        if (parts.length < 3 || !TYPES.contains(parts[2].strip())) {
            throw new ParseException(lineNo, "# TYPE " + name + " has no known type");
        }
        if (types.putIfAbsent(name, parts[2].strip()) != null) {
            throw new ParseException(lineNo, "second TYPE line for " + name);
        }
        return false;
    }

    private static Sample sample(String line, int lineNo, int maxLabelValueBytes, Map<String, String> names)
            throws ParseException, LabelTooLongException {
        int i = 0;
        int n = line.length();
        while (i < n && isBlank(line.charAt(i))) {
            i++;
        }
        int nameStart = i;
        while (i < n && line.charAt(i) != '{' && !isBlank(line.charAt(i))) {
            i++;
        }
        String name = line.substring(nameStart, i);
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new ParseException(lineNo, "invalid metric name \"" + abbreviate(name) + "\"");
        }
        name = names.computeIfAbsent(name, k -> k);
        Map<String, String> labels = Map.of();
        if (i < n && line.charAt(i) == '{') {
            TreeMap<String, String> read = new TreeMap<>();
            i = labels(line, i + 1, lineNo, read, maxLabelValueBytes, names);
            labels = java.util.Collections.unmodifiableMap(read);
        }
        String[] rest = BLANKS.split(line.substring(i).strip());
        if (rest.length == 0 || rest[0].isEmpty()) {
            throw new ParseException(lineNo, "sample " + name + " has no value");
        }
        double value = parseValue(rest[0], lineNo);
        if (rest.length > 1 && !rest[1].startsWith("#")) {
            if (!TIMESTAMP.matcher(rest[1]).matches()) {
                throw new ParseException(lineNo, "invalid timestamp \"" + abbreviate(rest[1]) + "\"");
            }
            if (rest.length > 2 && !rest[2].startsWith("#")) {
                throw new ParseException(lineNo, "unexpected text after the timestamp");
            }
        }
        return new Sample(name, labels, value);
    }

    /** Reads {@code name="value",...}} from {@code i}; returns the index after the closing brace. */
    private static int labels(String line, int i, int lineNo, Map<String, String> into, int maxLabelValueBytes,
            Map<String, String> names) throws ParseException, LabelTooLongException {
        int n = line.length();
        while (true) {
            while (i < n && isBlank(line.charAt(i))) {
                i++;
            }
            if (i < n && line.charAt(i) == '}') {
                return i + 1;
            }
            int nameStart = i;
            while (i < n && line.charAt(i) != '=' && !isBlank(line.charAt(i))) {
                i++;
            }
            String labelName = line.substring(nameStart, i);
            if (!LABEL_NAME.matcher(labelName).matches()) {
                throw new ParseException(lineNo, "invalid label name \"" + abbreviate(labelName) + "\"");
            }
            while (i < n && isBlank(line.charAt(i))) {
                i++;
            }
            if (i + 1 >= n || line.charAt(i) != '=' || line.charAt(i + 1) != '"') {
                throw new ParseException(lineNo, "label " + labelName + " has no quoted value");
            }
            i += 2;
            StringBuilder value = new StringBuilder();
            while (true) {
                if (i >= n) {
                    throw new ParseException(lineNo, "unterminated value of label " + labelName);
                }
                char c = line.charAt(i++);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    if (i >= n) {
                        throw new ParseException(lineNo, "unterminated escape in label " + labelName);
                    }
                    char e = line.charAt(i++);
                    switch (e) {
                        case '\\' -> value.append('\\');
                        case '"' -> value.append('"');
                        case 'n' -> value.append('\n');
                        default -> throw new ParseException(lineNo, "invalid escape \\" + e + " in label " + labelName);
                    }
                } else {
                    value.append(c);
                }
            }
            if (value.length() > maxLabelValueBytes / 3 && utf8Length(value) > maxLabelValueBytes) {
                throw new LabelTooLongException(lineNo, labelName, maxLabelValueBytes);
            }
            if (into.put(names.computeIfAbsent(labelName, k -> k), value.toString()) != null) {
                throw new ParseException(lineNo, "label " + labelName + " appears twice");
            }
            while (i < n && isBlank(line.charAt(i))) {
                i++;
            }
            if (i < n && line.charAt(i) == ',') {
                i++;
                continue;
            }
            if (i < n && line.charAt(i) == '}') {
                return i + 1;
            }
            throw new ParseException(lineNo, "expected , or } after label " + labelName);
        }
    }

    /** Parses a sample value: a decimal float, or NaN / +Inf / -Inf in any letter case. */
    static double parseValue(String s, int lineNo) throws ParseException {
        switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "nan" -> {
                return Double.NaN;
            }
            case "+inf", "inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            default -> {
                if (!NUMBER.matcher(s).matches()) {
                    throw new ParseException(lineNo, "invalid value \"" + abbreviate(s) + "\"");
                }
                return Double.parseDouble(s);
            }
        }
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** UTF-8 length of {@code s}: a surrogate pair is 4 bytes. */
    private static long utf8Length(CharSequence s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
