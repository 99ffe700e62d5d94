package dev.gpuwatch.exporter.modelserver.exposition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
    private static final Set<String> TYPES = Set.of(
            "counter", "gauge", "histogram", "summary", "untyped", "unknown", "gaugehistogram", "info", "stateset");

    private TextFormat() {}

    /** Thrown when the body has more samples than the target may send; reading stops there. */
    public static final class TooManySeriesException extends Exception {
        public TooManySeriesException(int limit) {
            super("more than " + limit + " series");
        }
    }

    /**
     * Parses {@code text}; stops with {@link TooManySeriesException} as soon as the {@code maxSeries + 1}-th
     * sample is read, so a huge body costs no more than the limit.
     */
    public static Exposition parse(String text, int maxSeries) throws ParseException, TooManySeriesException {
        if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') {
            throw new ParseException(lineCount(text), "body does not end with a newline (truncated?)");
        }
        Map<String, String> types = new HashMap<>();
        Set<String> helps = new HashSet<>();
        Map<String, List<Sample>> byName = new HashMap<>();
        Set<SeriesKey> seen = new HashSet<>();
        int duplicates = 0;
        int samples = 0;
        boolean eof = false;
        int lineNo = 0;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            String line = text.substring(start, end);
            start = end + 1;
            lineNo++;
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
            Sample sample = sample(line, lineNo);
            if (!seen.add(new SeriesKey(sample.name(), sample.labels()))) {
                duplicates++;
                continue;
            }
            if (++samples > maxSeries) {
                throw new TooManySeriesException(maxSeries);
            }
            byName.computeIfAbsent(sample.name(), k -> new ArrayList<>()).add(sample);
        }
        return new Exposition(byName, types, duplicates);
    }

    private record SeriesKey(String name, Map<String, String> labels) {}

    /** Returns true for {@code # EOF}. */
    private static boolean comment(String line, int lineNo, Map<String, String> types, Set<String> helps)
            throws ParseException {
        String[] parts = line.substring(1).strip().split("[ \t]+", 3);
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

    private static Sample sample(String line, int lineNo) throws ParseException {
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
        Map<String, String> labels = Map.of();
        if (i < n && line.charAt(i) == '{') {
            TreeMap<String, String> read = new TreeMap<>();
            i = labels(line, i + 1, lineNo, read);
            labels = java.util.Collections.unmodifiableMap(read);
        }
        String[] rest = line.substring(i).strip().split("[ \t]+");
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
    private static int labels(String line, int i, int lineNo, Map<String, String> into) throws ParseException {
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
            if (into.put(labelName, value.toString()) != null) {
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

    private static int lineCount(String text) {
        int lines = 1;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                lines++;
            }
        }
        return lines;
    }
}
