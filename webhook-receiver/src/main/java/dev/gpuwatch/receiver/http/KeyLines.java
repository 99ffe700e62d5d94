package dev.gpuwatch.receiver.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The line of every key and sequence item of a YAML document, by the path {@link Tls}'s errors use
 * ({@code tls_server_config.key_file}). Only {@code --web.config.file} still reads YAML itself; the receiver's
 * own files go through the shared {@code dev.gpuwatch.config.ConfigReader}, which keeps its own key lines.
 */
final class KeyLines {

    private static final YAMLFactory YAML = new YAMLFactory();

    private final Map<String, Integer> lines;

    private KeyLines(Map<String, Integer> lines) {
        this.lines = Map.copyOf(lines);
    }

    /** Never fails: a document Jackson cannot read yields the lines seen before the error. */
    static KeyLines of(String yaml) {
        Map<String, Integer> lines = new HashMap<>();
        Deque<Container> open = new ArrayDeque<>();
        String field = "";
        try (JsonParser p = YAML.createParser(yaml)) {
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
            // Tls reports the syntax error itself; what was mapped so far still helps
        }
        return new KeyLines(lines);
    }

    /** {@code "line N: "} for {@code path}, or nothing when the document lacks it. */
    String prefix(String path) {
        Integer line = lines.get(path);
        return line == null ? "" : "line " + line + ": ";
    }

    private static String join(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
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
