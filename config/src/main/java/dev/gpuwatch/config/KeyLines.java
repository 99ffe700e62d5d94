package dev.gpuwatch.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The line of every key and sequence item of a document, by the key a user reads in errors
 * ({@code dispatch.max_age}, {@code receivers[0].slack_configs[1].channel}). Jackson reports a value a record
 * refuses at the token where the record ends; this points the error at the key itself.
 */
final class KeyLines {

    private final Map<String, Integer> lines;

    private KeyLines(Map<String, Integer> lines) {
        this.lines = lines;
    }

    static KeyLines none() {
        return new KeyLines(Map.of());
    }

    /** Never fails: a document that does not parse yields the lines seen before the error (the reader reports it). */
    static KeyLines of(YAMLFactory factory, String text) {
        Map<String, Integer> lines = new HashMap<>();
        Deque<Container> open = new ArrayDeque<>();
        String field = "";
        try (JsonParser p = factory.createParser(text)) {
            JsonToken token;
            while ((token = p.nextToken()) != null) {
                int line = p.currentTokenLocation().getLineNr();
                if (token == JsonToken.FIELD_NAME) {
                    field = join(open.isEmpty() ? "" : open.peek().path, p.currentName());
                    lines.putIfAbsent(field, line);
                    continue;
                }
                if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
                    open.pop();
                    continue;
                }
                String path = open.isEmpty() ? "" : field;
                if (!open.isEmpty() && open.peek().array) {
                    path = open.peek().path + "[" + open.peek().next++ + "]";
                    lines.putIfAbsent(path, line);
                }
                if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                    open.push(new Container(path, token == JsonToken.START_ARRAY));
                }
            }
        } catch (IOException e) {
            // the reader reports the syntax error itself; the lines found so far still help
        }
        return new KeyLines(lines);
    }

    /** The line of {@code key}, else of its nearest parent that the document has; 0 when none. */
    int lineOf(String key) {
        for (String k = key; ; k = parent(k)) {
            Integer line = lines.get(k);
            if (line != null) {
                return line;
            }
            if (k.isEmpty()) {
                return 0;
            }
        }
    }

    static String join(String parent, String key) {
        if (key.isEmpty()) {
            return parent;
        }
        return parent.isEmpty() || key.startsWith("[") ? parent + key : parent + "." + key;
    }

    /** {@code a.b[2].c} → {@code a.b[2]} → {@code a.b} → {@code a} → empty. */
    static String parent(String key) {
        int cut = Math.max(key.lastIndexOf('.'), key.lastIndexOf('['));
        return cut < 0 ? "" : key.substring(0, cut);
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
