package dev.gpuwatch.exporter.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Reads a YAML file strictly into typed records (snake_case keys, unknown keys rejected) and remembers the line of
 * every key, so that both binding errors and later checks name the file, the line and the dotted field.
 * Used by {@code --config.file}: one way to read and report a file.
 */
final class YamlFile {
    private static final String BACKEND_EXPECTED = Parsers.BACKEND_EXPECTED;
    private static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory())
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .registerModule(new SimpleModule("gpuwatch-config")
                    .addDeserializer(Duration.class, new ScalarDeserializer<>(Duration.class, Durations::parse, Durations.EXPECTED))
                    .addDeserializer(ListenAddress.class, new ScalarDeserializer<>(ListenAddress.class, ListenAddress::parse, ListenAddress.EXPECTED))
                    .addDeserializer(LogLevel.class, new ScalarDeserializer<>(LogLevel.class, LogLevel::parse, LogLevel.EXPECTED))
                    .addDeserializer(Backend.class, new ScalarDeserializer<>(Backend.class, Backend::parse, BACKEND_EXPECTED))
                    .addDeserializer(Scenario.class, new ScalarDeserializer<>(Scenario.class, Parsers::scenario, Parsers.SCENARIO_EXPECTED))
                    .addDeserializer(GpuModel.class, new ScalarDeserializer<>(GpuModel.class, Parsers::model, Parsers.MODEL_EXPECTED)));
    /** What each scalar type expects, for errors where the value was not even a scalar. */
    private static final Map<Class<?>, String> EXPECTED = Map.ofEntries(
            Map.entry(Duration.class, Durations.EXPECTED),
            Map.entry(ListenAddress.class, ListenAddress.EXPECTED),
            Map.entry(LogLevel.class, LogLevel.EXPECTED),
            Map.entry(Backend.class, BACKEND_EXPECTED),
            Map.entry(Scenario.class, Parsers.SCENARIO_EXPECTED),
            Map.entry(GpuModel.class, Parsers.MODEL_EXPECTED),
            Map.entry(Boolean.class, "expected true or false"),
            Map.entry(boolean.class, "expected true or false"),
            Map.entry(Integer.class, "expected a whole number"),
            Map.entry(int.class, "expected a whole number"),
            Map.entry(Long.class, "expected a whole number"),
            Map.entry(String.class, "expected a string"));

    private final String name;
    private final Path file;
    private final Map<String, Integer> keyLines;

    private YamlFile(String name, Path file, Map<String, Integer> keyLines) {
        this.name = name;
        this.file = file;
        this.keyLines = keyLines;
    }

    /** A file read and bound to {@code type}. */
    record Bound<T>(T value, YamlFile file) {}

    static <T> Bound<T> read(Path path, Class<T> type) throws ConfigException {
        String name = path.toString();
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read: " + e.getMessage());
        }
        Map<String, Integer> keyLines = new HashMap<>();
        try {
            boolean empty = indexKeys(text, keyLines);
            T value = MAPPER.readValue(empty ? "{}" : text, type);
            return new Bound<>(Objects.requireNonNull(value), new YamlFile(name, path, keyLines));
        } catch (JsonProcessingException e) {
            throw describe(name, keyLines, e);
        }
    }

    /** Turns a problem found after binding into an error at the key's line (or its nearest parent's). */
    ConfigException error(String path, String problem) {
        String p = path;
        while (!p.isEmpty() && !keyLines.containsKey(p)) {
            int dot = p.lastIndexOf('.');
            p = dot < 0 ? "" : p.substring(0, dot);
        }
        return ConfigException.inFile(name, keyLines.getOrDefault(p, 0), path, problem);
    }

    /** Resolves a path written in the file relative to the file's folder, as Prometheus does. */
    Path resolve(String written) {
        Path p = Path.of(written);
        Path dir = file.toAbsolutePath().getParent();
        return p.isAbsolute() || dir == null ? p : dir.resolve(p);
    }

    /** Records the line of every key into {@code lines}; true when the document has no content at all. */
    private static boolean indexKeys(String text, Map<String, Integer> lines) throws JsonProcessingException {
        boolean empty = true;
        try (JsonParser p = MAPPER.getFactory().createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                empty = false;
                if (t == JsonToken.FIELD_NAME) {
                    lines.putIfAbsent(dotted(p.getParsingContext()), p.currentTokenLocation().getLineNr());
                }
            }
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
        return empty;
    }

    private static String dotted(JsonStreamContext context) {
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            parts.addFirst(c.inArray() ? String.valueOf(c.getCurrentIndex()) : String.valueOf(c.getCurrentName()));
        }
        return String.join(".", parts);
    }

    private static ConfigException describe(String name, Map<String, Integer> keyLines, JsonProcessingException e) {
        JsonLocation loc = e.getLocation();
        int line = loc == null ? 0 : loc.getLineNr();
        if (!(e instanceof JsonMappingException m)) {
            return ConfigException.inFile(name, line, "", "invalid YAML: " + e.getOriginalMessage());
        }
        String path = m.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : String.valueOf(r.getIndex()))
                .collect(Collectors.joining("."));
        String problem;
        if (m instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream()
                    .map(String::valueOf).collect(Collectors.toCollection(TreeSet::new)).toString();
            problem = "unknown field" + (known.isEmpty() ? "" : " (known fields: " + known.substring(1, known.length() - 1) + ")");
        } else if (m instanceof InvalidFormatException f) {
            problem = expected(f.getTargetType(), e) + ", got \"" + f.getValue() + "\"";
        } else if (m instanceof MismatchedInputException mi && mi.getTargetType() != null) {
            problem = expected(mi.getTargetType(), e);
        } else {
            problem = e.getOriginalMessage();
        }
        // The parser's location is often past the value; the key's own line is what a person looks for.
        return ConfigException.inFile(name, keyLines.getOrDefault(path, line), path, problem);
    }

    private static String expected(Class<?> type, JsonProcessingException e) {
        if (EXPECTED.containsKey(type)) {
            return EXPECTED.get(type);
        }
        if (type.isEnum()) {
            return "expected one of " + java.util.Arrays.stream(type.getEnumConstants())
                    .map(String::valueOf).collect(Collectors.joining(", "));
        }
        if (List.class.isAssignableFrom(type)) {
            return "expected a list";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "expected a mapping of fields";
        }
        return e.getOriginalMessage();
    }
}
