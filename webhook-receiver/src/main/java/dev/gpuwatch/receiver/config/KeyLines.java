package dev.gpuwatch.receiver.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The line of every key and sequence item of a YAML document, by the path error messages use
 * ({@code dispatch.max_age}, {@code receivers[0].slack_configs[1].channel}).
 *
 * <p>Why: Jackson reports a value rejected by a record's own checks at the token where the record ends, which is
 * the line after its section; this map points such errors (and checks made after parsing) at the key itself.
 */
public final class KeyLines {

    private static final YAMLFactory YAML = new YAMLFactory();

    private final Map<String, Integer> lines;

    private KeyLines(Map<String, Integer> lines) {
        this.lines = Map.copyOf(lines);
    }

    /** Never fails: a document Jackson cannot read yields the lines seen before the error. */
    public static KeyLines of(String yaml) {
        Map<String, Integer> lines = new HashMap<>();
        Deque<Container> open = new ArrayDeque<>();
        String field = "";
        try (JsonParser p = YAML.createParser(yaml)) {
            JsonToken token;
            while ((token = p.nextToken()) != null) {
                int line = lineOf(p.currentTokenLocation());
                if (token == JsonToken.FIELD_NAME) {
                    field = join(open.isEmpty() ? "" : open.peek().path, p.currentName());
                    lines.putIfAbsent(field, line);
                    continue;
                }
                if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
                    open.pop();
                    continue;
                }
                String path = field;
                if (!open.isEmpty() && open.peek().array) {
                    path = open.peek().path + "[" + open.peek().next++ + "]";
                    lines.putIfAbsent(path, line);
                }
                if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                    open.push(new Container(path, token == JsonToken.START_ARRAY));
                }
            }
        } catch (IOException e) {
            // the loader reports the syntax error itself; what was mapped so far still helps
        }
        return new KeyLines(lines);
    }

    /** The 1-based line of the key (or sequence item) at {@code path}; empty when the document lacks it. */
    public OptionalInt line(String path) {
        Integer line = lines.get(path);
        return line == null ? OptionalInt.empty() : OptionalInt.of(line);
    }

    /** {@code "line N: "} for {@code path}, or nothing. */
    public String prefix(String path) {
        OptionalInt line = line(path);
        return line.isPresent() ? "line " + line.getAsInt() + ": " : "";
    }

    public boolean has(String path) {
        return lines.containsKey(path);
    }

    static String join(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
    }

    private static int lineOf(JsonLocation at) {
        return at == null ? -1 : at.getLineNr();
    }

    private static final class Container {
        final String path;
        final boolean array;
        int next;

        Container(String path, boolean array) {
            this.path = path;
            this.array = array;
        }
    }
}
