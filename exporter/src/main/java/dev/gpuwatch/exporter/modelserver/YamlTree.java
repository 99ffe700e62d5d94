package dev.gpuwatch.exporter.modelserver;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document read into a small tree that remembers the line of every node, so a bad value is reported at
 * its line. Jackson's own tree model drops locations; its streaming parser has them.
 */
final class YamlTree {
    private static final YAMLFactory FACTORY = new YAMLFactory();

    private YamlTree() {}

    sealed interface Node permits MapNode, ListNode, Scalar {
        int line();
    }

    /** A mapping; each entry keeps the line of its key. */
    record MapNode(Map<String, Node> entries, Map<String, Integer> keyLines, int line) implements Node {}

    record ListNode(List<Node> items, int line) implements Node {}

    /** A scalar; {@code text} is empty and {@code isNull} true for {@code ~}, {@code null} or nothing. */
    record Scalar(String text, boolean isNull, int line) implements Node {}

    /** A document that is not YAML, or has a key twice; {@code line} is 0 when unknown. */
    static final class YamlError extends Exception {
        final int line;

        YamlError(int line, String message) {
            super(message);
            this.line = line;
        }
    }

    /** Parses {@code text}; an empty document is an empty mapping. */
    static Node parse(String text) throws YamlError {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return new MapNode(Map.of(), Map.of(), 1);
            }
            return read(p, t);
        } catch (DuplicateKey e) {
            throw new YamlError(e.line, e.getMessage());
        } catch (JsonProcessingException e) {
            throw new YamlError(e.getLocation() == null ? 0 : e.getLocation().getLineNr(),
                    "invalid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
    }

    private static Node read(JsonParser p, JsonToken t) throws IOException {
        int line = p.currentTokenLocation().getLineNr();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Node> entries = new LinkedHashMap<>();
                Map<String, Integer> lines = new LinkedHashMap<>();
                JsonToken k;
                while ((k = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int keyLine = p.currentTokenLocation().getLineNr();
                    Node value = read(p, p.nextToken());
                    if (entries.putIfAbsent(key, value) != null) {
                        throw new DuplicateKey(keyLine, "duplicate key " + key);
                    }
                    lines.put(key, keyLine);
                }
                return new MapNode(entries, lines, line);
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                JsonToken i;
                while ((i = p.nextToken()) != JsonToken.END_ARRAY) {
                    items.add(read(p, i));
                }
                return new ListNode(items, line);
            }
            case VALUE_NULL -> {
                return new Scalar("", true, line);
            }
            default -> {
                return new Scalar(p.getText(), false, line);
            }
        }
    }

    /** A key written twice in one mapping. */
    private static final class DuplicateKey extends IOException {
        final int line;

        DuplicateKey(int line, String message) {
            super(message);
            this.line = line;
        }
    }
}
