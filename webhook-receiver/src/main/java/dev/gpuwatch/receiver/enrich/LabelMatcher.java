package dev.gpuwatch.receiver.enrich;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One Alertmanager label matcher ({@code name="v"}, {@code name!="v"}, {@code name=~"re"}, {@code name!~"re"}),
 * with Alertmanager's semantics: regexes are anchored at both ends and a missing label has the value "".
 */
record LabelMatcher(String name, Op op, String value, Pattern pattern) {

    enum Op { EQ, NE, RE, NRE }

    private static final Pattern SYNTAX =
            Pattern.compile("^\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*(.*?)\\s*$", Pattern.DOTALL);

    /** Parses one matcher; the message of the exception says what is wrong with it. */
    static LabelMatcher parse(String text) {
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("bad matcher " + text + ": expected name=\"value\", !=, =~ or !~");
        }
        Op op = switch (m.group(2)) {
            case "=" -> Op.EQ;
            case "!=" -> Op.NE;
            case "=~" -> Op.RE;
            default -> Op.NRE;
        };
        String value = unquote(m.group(3), text);
        Pattern pattern = null;
        if (op == Op.RE || op == Op.NRE) {
            try {
                pattern = Pattern.compile("^(?:" + value + ")$", Pattern.DOTALL);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("bad regex in matcher " + text + ": " + e.getDescription());
            }
        }
        return new LabelMatcher(m.group(1), op, value, pattern);
    }

    boolean matches(Map<String, String> labels) {
        String actual = labels.getOrDefault(name, "");
        return switch (op) {
            case EQ -> actual.equals(value);
            case NE -> !actual.equals(value);
            case RE -> pattern.matcher(actual).matches();
            case NRE -> !pattern.matcher(actual).matches();
        };
    }

    private static String unquote(String raw, String text) {
        if (!raw.startsWith("\"")) {
            return raw;
        }
        if (raw.length() < 2 || !raw.endsWith("\"")) {
            throw new IllegalArgumentException("bad matcher " + text + ": unterminated quote");
        }
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < raw.length() - 1; i++) {
            char c = raw.charAt(i);
            if (c == '\\' && i + 1 < raw.length() - 1) {
                char next = raw.charAt(++i);
                out.append(switch (next) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    default -> next;
                });
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
