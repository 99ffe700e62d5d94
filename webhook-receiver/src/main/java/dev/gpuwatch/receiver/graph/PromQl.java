package dev.gpuwatch.receiver.graph;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of PromQL's shape to draw an alert: its expression from the {@code generatorURL}, the part worth
 * graphing, the threshold of a top-level comparison with a number, and the unit its metric name declares. It
 * scans the text at nesting depth 0 (outside parentheses, braces, brackets and strings) and never evaluates.
 */
final class PromQl {

    /** A comparison's threshold: {@code expr > 0.9} is {@code (">", 0.9)}. */
    record Threshold(String operator, double value) {}

    /**
     * What to draw for an alert expression: {@code query} is the expression without its filtering comparison
     * ({@code a > 0.9} draws {@code a}, so the line shows where it crossed), and the first operand of a top-level
     * {@code and} / {@code or} / {@code unless} (the alert's main condition).
     */
    record Plan(String query, Optional<Threshold> threshold, Unit unit) {}

    private static final Pattern NUMBER = Pattern.compile("(?i)[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:e[-+]?\\d+)?");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
            // aggregation operators, which may stand before their by/without clause instead of their "("
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile", "limitk", "limit_ratio");
    private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right");
    private static final List<String> COMPARISONS = List.of("==", "!=", ">=", "<=", ">", "<");

    private PromQl() {}

    /** The {@code g0.expr} query parameter of Prometheus' generatorURL, decoded; empty when absent or unparsable. */
    static Optional<String> expression(String generatorUrl) {
        if (generatorUrl == null || generatorUrl.isBlank()) {
            return Optional.empty();
        }
        String query;
        try {
            query = URI.create(generatorUrl.strip()).getRawQuery();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (query == null) {
            return Optional.empty();
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals("g0.expr")) {
                try {
                    String expr = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8).strip();
                    return expr.isEmpty() ? Optional.empty() : Optional.of(expr);
                } catch (IllegalArgumentException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    static Plan plan(String expr) {
        String main = unwrap(firstSetOperand(unwrap(expr)));
        Optional<Split> comparison = lastTopLevel(main, COMPARISONS);
        if (comparison.isPresent()) {
            Split c = comparison.get();
            String right = c.right().strip();
            if (right.startsWith("bool ")) {
                right = right.substring("bool ".length()).strip();
            }
            String left = c.left().strip();
            OptionalDouble rightNumber = number(unwrap(right));
            OptionalDouble leftNumber = number(unwrap(left));
            if (rightNumber.isPresent() && !left.isEmpty()) {
                String graphed = unwrap(left);
                return new Plan(graphed, Optional.of(new Threshold(c.operator(), rightNumber.getAsDouble())), unit(graphed));
            }
            if (leftNumber.isPresent() && !right.isEmpty()) {
                String graphed = unwrap(right);
                return new Plan(graphed, Optional.of(new Threshold(mirror(c.operator()), leftNumber.getAsDouble())),
                        unit(graphed));
            }
        }
        return new Plan(main, Optional.empty(), unit(main));
    }

    /**
     * The unit a metric name declares (Prometheus naming: {@code _bytes}, {@code _seconds}, ...; a recording rule
     * {@code level:metric:operations} by its metric and operations). A top-level division of one series by another
     * is a ratio (errors by requests, used by limit); by a number it keeps the unit of the series.
     */
    static Unit unit(String expr) {
        Optional<Split> division = lastTopLevel(expr, List.of("/"));
        if (division.isPresent() && firstMetric(division.get().right()).isPresent()) {
            return Unit.RATIO;
        }
        return firstMetric(expr).map(Unit::ofMetric).orElse(Unit.NONE);
    }

    /** The first metric name of {@code expr}: an identifier outside braces and strings that is no function or keyword. */
    static Optional<String> firstMetric(String expr) {
        Scanner s = new Scanner(expr);
        while (s.hasNext()) {
            int depthBefore = s.depth;
            boolean inLabels = s.braces > 0 || s.brackets > 0 || s.skipLabelList;
            char ch = expr.charAt(s.position);
            if (!inLabels && s.quote == 0 && (Character.isLetter(ch) || ch == '_' || ch == ':')
                    && (s.position == 0 || !isIdentChar(expr.charAt(s.position - 1)))) {
                Matcher m = IDENT.matcher(expr).region(s.position, expr.length());
                if (m.lookingAt()) {
                    String word = m.group();
                    int after = skipSpaces(expr, m.end());
                    boolean call = after < expr.length() && expr.charAt(after) == '(';
                    if (LABEL_LISTS.contains(word.toLowerCase())) {
                        s.labelListAt = after;
                    } else if (!call && !KEYWORDS.contains(word.toLowerCase())) {
                        return Optional.of(word);
                    }
                    s.position = m.end() - 1;
                }
            }
            s.advance();
            if (s.depth < depthBefore && s.skipLabelList && s.depth < s.labelListDepth) {
                s.skipLabelList = false;
            }
        }
        return Optional.empty();
    }

    private static boolean isIdentChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == ':';
    }

    private static int skipSpaces(String s, int from) {
        int i = from;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String mirror(String operator) {
        return switch (operator) {
            case ">" -> "<";
            case "<" -> ">";
            case ">=" -> "<=";
            case "<=" -> ">=";
            default -> operator;
        };
    }

    private static OptionalDouble number(String s) {
        String t = s.strip();
        if (NUMBER.matcher(t).matches()) {
            return OptionalDouble.of(Double.parseDouble(t));
        }
        return OptionalDouble.empty();
    }

    /** Removes parentheses around the whole expression: {@code ((a > 1))} is {@code a > 1}. */
    static String unwrap(String expr) {
        String s = expr.strip();
        while (s.startsWith("(") && s.endsWith(")") && closingOfFirst(s) == s.length() - 1) {
            s = s.substring(1, s.length() - 1).strip();
        }
        return s;
    }

    private static int closingOfFirst(String s) {
        Scanner sc = new Scanner(s);
        sc.advance();
        while (sc.hasNext()) {
            if (sc.depth == 1 && sc.quote == 0 && s.charAt(sc.position) == ')') {
                return sc.position;
            }
            sc.advance();
        }
        return -1;
    }

    /** The first operand of the lowest-precedence set operator at depth 0 ({@code or}, then {@code and} / {@code unless}). */
    private static String firstSetOperand(String expr) {
        for (List<String> level : List.of(List.of("or"), List.of("and", "unless"))) {
            List<Integer> at = wordsAtTopLevel(expr, level);
            if (!at.isEmpty()) {
                return firstSetOperand(unwrap(expr.substring(0, at.getFirst())));
            }
        }
        return expr;
    }

    private static List<Integer> wordsAtTopLevel(String expr, List<String> words) {
        List<Integer> found = new ArrayList<>();
        Scanner s = new Scanner(expr);
        while (s.hasNext()) {
            if (s.atTopLevel()) {
                for (String w : words) {
                    int end = s.position + w.length();
                    if (expr.regionMatches(true, s.position, w, 0, w.length())
                            && (s.position == 0 || !isIdentChar(expr.charAt(s.position - 1)))
                            && (end >= expr.length() || !isIdentChar(expr.charAt(end)))) {
                        found.add(s.position);
                    }
                }
            }
            s.advance();
        }
        return found;
    }

    private record Split(String left, String operator, String right) {}

    /** The last of {@code operators} at depth 0; {@code >} is never the end of {@code >=}, nor part of {@code =~}. */
    private static Optional<Split> lastTopLevel(String expr, List<String> operators) {
        Optional<Split> last = Optional.empty();
        Scanner s = new Scanner(expr);
        while (s.hasNext()) {
            if (s.atTopLevel()) {
                for (String op : operators) {
                    if (expr.startsWith(op, s.position)) {
                        char prev = s.position > 0 ? expr.charAt(s.position - 1) : ' ';
                        int end = s.position + op.length();
                        char next = end < expr.length() ? expr.charAt(end) : ' ';
                        if (op.length() == 1 && (next == '=' || next == '~' || prev == '=' || prev == '!'
                                || prev == '<' || prev == '>')) {
                            continue;
                        }
                        last = Optional.of(new Split(expr.substring(0, s.position), op, expr.substring(end)));
                        s.position = end - 1;
                        break;
                    }
                }
            }
            s.advance();
        }
        return last;
    }

    /** Walks an expression keeping track of nesting and string literals. */
    private static final class Scanner {
        final String text;
        int position;
        int depth;
        int braces;
        int brackets;
        char quote;
        int labelListAt = -1;
        boolean skipLabelList;
        int labelListDepth;

        Scanner(String text) {
            this.text = text;
        }

        boolean hasNext() {
            return position < text.length();
        }

        boolean atTopLevel() {
            return depth == 0 && braces == 0 && brackets == 0 && quote == 0;
        }

        void advance() {
            char c = text.charAt(position);
            if (quote != 0) {
                if (c == '\\') {
                    position++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else {
                switch (c) {
                    case '"', '\'', '`' -> quote = c;
                    case '(' -> {
                        depth++;
                        if (position == labelListAt) {
                            skipLabelList = true;
                            labelListDepth = depth;
                        }
                    }
                    case ')' -> depth = Math.max(0, depth - 1);
                    case '{' -> braces++;
                    case '}' -> braces = Math.max(0, braces - 1);
                    case '[' -> brackets++;
                    case ']' -> brackets = Math.max(0, brackets - 1);
                    default -> { }
                }
            }
            position++;
        }
    }
}
