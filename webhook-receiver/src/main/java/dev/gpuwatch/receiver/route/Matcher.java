package dev.gpuwatch.receiver.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One label matcher in Alertmanager's syntax: {@code name="value"}, {@code name!="value"}, {@code name=~"re"},
 * {@code name!~"re"}; values may be quoted (with {@code \"} and {@code \\} escapes) or bare. Regexes are
 * anchored at both ends, as in Alertmanager. A missing label matches as the empty string.
 */
public record Matcher(String name, Op op, String value, Pattern pattern) {

    public enum Op {
        EQ("="), NEQ("!="), RE("=~"), NRE("!~");

        final String symbol;

        Op(String symbol) {
            this.symbol = symbol;
        }
    }

    public boolean matches(Map<String, String> labels) {
        String actual = labels.getOrDefault(name, "");
        return switch (op) {
            case EQ -> actual.equals(value);
            case NEQ -> !actual.equals(value);
            case RE -> pattern.matcher(actual).matches();
            case NRE -> !pattern.matcher(actual).matches();
        };
    }

    @Override
    public String toString() {
        return name + op.symbol + '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /**
     * Parses one list entry, which may hold several comma-separated matchers and may be wrapped in braces
     * ({@code {severity="page", team=~"ml.*"}}).
     *
     * @throws IllegalArgumentException with a message fit for a config error
     */
    public static List<Matcher> parseAll(String text) {
        String s = text.strip();
        if (s.startsWith("{") && s.endsWith("}")) {
            s = s.substring(1, s.length() - 1);
        }
        List<Matcher> matchers = new ArrayList<>();
        int[] pos = {0};
        while (true) {
            skipSpace(s, pos);
            if (pos[0] >= s.length()) {
                break;
            }
            matchers.add(parseOne(s, pos, text));
            skipSpace(s, pos);
            if (pos[0] < s.length()) {
                if (s.charAt(pos[0]) != ',') {
                    throw new IllegalArgumentException("invalid matcher \"" + text + "\": expected ',' at " + pos[0]);
                }
                pos[0]++;
            }
        }
        if (matchers.isEmpty()) {
            throw new IllegalArgumentException("empty matcher");
        }
        return matchers;
    }

    private static Matcher parseOne(String s, int[] pos, String text) {
        int start = pos[0];
        while (pos[0] < s.length() && isNameChar(s.charAt(pos[0]), pos[0] == start)) {
            pos[0]++;
        }
        String name = s.substring(start, pos[0]);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("invalid matcher \"" + text + "\": expected a label name");
        }
        skipSpace(s, pos);
        Op op = null;
        for (Op candidate : new Op[] {Op.NEQ, Op.RE, Op.NRE, Op.EQ}) {
            if (s.startsWith(candidate.symbol, pos[0])) {
                op = candidate;
                break;
            }
        }
        if (op == null) {
            throw new IllegalArgumentException(
                    "invalid matcher \"" + text + "\": expected one of =, !=, =~, !~ after " + name);
        }
        pos[0] += op.symbol.length();
        skipSpace(s, pos);
        String value;
        if (pos[0] < s.length() && s.charAt(pos[0]) == '"') {
            StringBuilder b = new StringBuilder();
            pos[0]++;
            boolean closed = false;
            while (pos[0] < s.length()) {
                char ch = s.charAt(pos[0]++);
                if (ch == '\\' && pos[0] < s.length()) {
                    char next = s.charAt(pos[0]++);
                    b.append(next == 'n' ? '\n' : next);
                } else if (ch == '"') {
                    closed = true;
                    break;
                } else {
                    b.append(ch);
                }
            }
            if (!closed) {
                throw new IllegalArgumentException("invalid matcher \"" + text + "\": unterminated quoted value");
            }
            value = b.toString();
        } else {
            int vStart = pos[0];
            while (pos[0] < s.length() && s.charAt(pos[0]) != ',') {
                pos[0]++;
            }
            value = s.substring(vStart, pos[0]).strip();
        }
        Pattern pattern = null;
        if (op == Op.RE || op == Op.NRE) {
            try {
                pattern = Pattern.compile("^(?:" + value + ")$");
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("invalid regex in matcher \"" + text + "\": " + e.getDescription());
            }
        }
        return new Matcher(name, op, value, pattern);
    }

    private static boolean isNameChar(char c, boolean first) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
    }

    private static void skipSpace(String s, int[] pos) {
        while (pos[0] < s.length() && Character.isWhitespace(s.charAt(pos[0]))) {
            pos[0]++;
        }
    }
}
