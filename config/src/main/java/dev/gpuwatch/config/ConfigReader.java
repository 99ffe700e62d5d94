package dev.gpuwatch.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.ContextAttributes;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one way gpuwatch reads a YAML file: strictly into records (snake_case keys, unknown keys refused with the
 * known ones listed, duplicate keys refused), scalars through {@link Scalar}s, relative paths resolved against the
 * file's folder, flags applied as {@link Overrides} before binding, and every error a {@link ConfigException}
 * naming file, line and key. Defaults live in the records' constructors; a record refuses a value by throwing
 * {@link InvalidValue} with the key as data.
 */
public final class ConfigReader {

    /** A file read and bound: the value, and where each key came from for later checks. */
    public record Bound<T>(T value, ConfigSource source) {}

    private static final String SOURCE_ATTRIBUTE = "gpuwatch.config.source";
    private static final Map<Class<?>, String> EXPECTED = Map.ofEntries(
            Map.entry(Boolean.class, "expected true or false"),
            Map.entry(boolean.class, "expected true or false"),
            Map.entry(Integer.class, "expected a whole number"),
            Map.entry(int.class, "expected a whole number"),
            Map.entry(Long.class, "expected a whole number"),
            Map.entry(long.class, "expected a whole number"),
            Map.entry(Double.class, "expected a number"),
            Map.entry(double.class, "expected a number"),
            Map.entry(String.class, "expected a string"),
            Map.entry(Path.class, "expected a path"));

    private final YAMLFactory yaml = new YAMLFactory();
    private final ObjectMapper mapper;
    private final Map<Class<?>, String> expected;

    private ConfigReader(List<Scalar<?>> scalars) {
        SimpleModule module = new SimpleModule("gpuwatch-config");
        Map<Class<?>, String> expected = new java.util.HashMap<>(EXPECTED);
        for (Scalar<?> s : scalars) {
            register(module, s);
            expected.put(s.type(), s.expected());
        }
        module.addDeserializer(Path.class, new PathDeserializer());
        this.expected = Map.copyOf(expected);
        this.mapper = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .addModule(new Jdk8Module())
                .addModule(module)
                .build();
    }

    /** A reader that knows durations, byte sizes and listen addresses, and {@code scalars} besides. */
    public static ConfigReader create(Scalar<?>... scalars) {
        List<Scalar<?>> all = new ArrayList<>(Scalar.BUILT_IN);
        all.addAll(List.of(scalars));
        return new ConfigReader(all);
    }

    /** Reads {@code file} into {@code type}. */
    public <T> Bound<T> read(Path file, Class<T> type) throws ConfigException {
        return read(Optional.of(file), type, Overrides.none());
    }

    /** Reads {@code file} (or nothing: every key at its default) with {@code overrides} applied, into {@code type}. */
    public <T> Bound<T> read(Optional<Path> file, Class<T> type, Overrides overrides) throws ConfigException {
        if (file.isEmpty()) {
            return bind("(flags)", Optional.empty(), "", type, overrides);
        }
        String name = file.get().toString();
        String text;
        try {
            text = Files.readString(file.get());
        } catch (NoSuchFileException e) {
            throw ConfigException.inFile(name, 0, "", "no such file");
        } catch (IOException e) {
            throw ConfigException.inFile(name, 0, "", "cannot read: " + e.getClass().getSimpleName());
        }
        return bind(name, file, text, type, overrides);
    }

    /** Reads {@code text} as if it were the file {@code name} (tests, and YAML that does not come from a file). */
    public <T> Bound<T> parse(String name, String text, Class<T> type) throws ConfigException {
        return bind(name, Optional.empty(), text, type, Overrides.none());
    }

    private <T> Bound<T> bind(String name, Optional<Path> file, String text, Class<T> type, Overrides overrides)
            throws ConfigException {
        KeyLines lines = KeyLines.of(yaml, text);
        ConfigSource source = new ConfigSource(name, file, lines, overrides);
        ObjectNode tree = tree(name, text);
        for (Map.Entry<String, Overrides.Value> o : overrides.byKey().entrySet()) {
            set(tree, o.getKey(), o.getValue());
        }
        try {
            T value = mapper.readerFor(type)
                    .with(ContextAttributes.getEmpty().withSharedAttribute(SOURCE_ATTRIBUTE, source))
                    .readValue(mapper.treeAsTokens(tree));
            if (value == null) {
                throw source.error("", "expected a mapping of keys");
            }
            return new Bound<>(value, source);
        } catch (JsonMappingException e) {
            throw describe(source, tree, e);
        } catch (IOException e) {
            throw ConfigException.inFile(name, 0, "", "cannot bind: " + e.getMessage());
        }
    }

    /** The document as a tree; an empty document is an empty mapping. */
    private ObjectNode tree(String name, String text) throws ConfigException {
        try (JsonParser p = yaml.createParser(text)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            JsonToken first = p.nextToken();
            if (first == null) {
                return JsonNodeFactory.instance.objectNode();
            }
            JsonNode node = mapper.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(p);
            if (p.nextToken() != null) {
                throw ConfigException.inFile(name, p.currentTokenLocation().getLineNr(), "",
                        "more than one YAML document");
            }
            if (node == null || node.isNull() || node.isMissingNode()) {
                return JsonNodeFactory.instance.objectNode();
            }
            if (!(node instanceof ObjectNode object)) {
                throw ConfigException.inFile(name, 1, "", "expected a mapping of keys");
            }
            return object;
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            String message = e.getOriginalMessage();
            if (e instanceof JsonParseException && message.startsWith("Duplicate field")) {
                message = "duplicate key " + message.substring("Duplicate field ".length()).replace('\'', '"');
            } else {
                message = "invalid YAML: " + message;
            }
            throw ConfigException.inFile(name, line, "", message);
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
    }

    /** Sets the dotted {@code key} ({@code a.b.c}; flags never address list items) to what a flag gave. */
    private static void set(ObjectNode root, String key, Overrides.Value value) {
        String[] parts = key.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            node = node.get(parts[i]) instanceof ObjectNode child ? child : node.putObject(parts[i]);
        }
        if (value.isList()) {
            ArrayNode list = node.putArray(parts[parts.length - 1]);
            value.texts().forEach(text -> list.add(scalar(text)));
        } else {
            node.set(parts[parts.length - 1], scalar(value.text()));
        }
    }

    private static final Pattern WHOLE_NUMBER = Pattern.compile("-?(0|[1-9][0-9]{0,17})");

    /**
     * A flag's text as YAML reads the same plain scalar in a file ({@code 8} a number, {@code true} a boolean), so
     * {@code --devices=8} binds where {@code devices: 8} does; anything else stays a string, untouched.
     */
    private static JsonNode scalar(String text) {
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return BooleanNode.valueOf(Boolean.parseBoolean(text));
        }
        if (WHOLE_NUMBER.matcher(text).matches()) {
            return LongNode.valueOf(Long.parseLong(text));
        }
        return TextNode.valueOf(text);
    }

    private ConfigException describe(ConfigSource source, JsonNode tree, JsonMappingException e) {
        String key = key(e.getPath());
        if (e instanceof UnrecognizedPropertyException u) {
            return source.error(key, "unknown key" + known(u.getKnownPropertyIds()));
        }
        if (e instanceof ValueInstantiationException vi) {
            Optional<ConfigException> unknown = unknownKey(source, tree, e.getPath(), key, vi.getType());
            if (unknown.isPresent()) {
                return unknown.get();
            }
        }
        if (e instanceof InvalidFormatException f && f.getValue() != null) {
            return source.error(key, expected(f.getTargetType(), e) + ", got \"" + f.getValue() + "\"");
        }
        if (e instanceof ValueInstantiationException || e.getCause() instanceof IllegalArgumentException) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidValue iv) {
                return source.error(KeyLines.join(key, iv.key()), iv.problem());
            }
            if (cause instanceof IllegalArgumentException iae && iae.getMessage() != null) {
                return source.error(key, iae.getMessage());
            }
        }
        if (e instanceof MismatchedInputException mi && mi.getTargetType() != null) {
            return source.error(key, expected(mi.getTargetType(), e));
        }
        return source.error(key, e.getOriginalMessage());
    }

    /**
     * The first key of the mapping at {@code path} that {@code type} does not know. Jackson builds a record before it
     * reports the record's unknown keys, so a misspelled key ({@code nme:}) would otherwise be reported as the
     * record's refusal of the value it then lacks ({@code name: required}).
     */
    private Optional<ConfigException> unknownKey(ConfigSource source, JsonNode tree,
            List<JsonMappingException.Reference> path, String key, JavaType type) {
        JsonNode node = tree;
        for (JsonMappingException.Reference ref : path) {
            node = ref.getFieldName() != null ? node.path(ref.getFieldName()) : node.path(ref.getIndex());
        }
        if (type == null || !node.isObject()) {
            return Optional.empty();
        }
        List<Object> known = new ArrayList<>();
        for (BeanPropertyDefinition p : mapper.getDeserializationConfig().introspect(type).findProperties()) {
            known.add(p.getName());
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!known.contains(field.getKey())) {
                return Optional.of(source.error(KeyLines.join(key, field.getKey()), "unknown key" + known(known)));
            }
        }
        return Optional.empty();
    }

    private static String known(Collection<Object> ids) {
        if (ids == null || ids.isEmpty()) {
            return "";
        }
        return " (known keys: " + ids.stream().map(String::valueOf).collect(Collectors.toCollection(TreeSet::new))
                .stream().collect(Collectors.joining(", ")) + ")";
    }

    private String expected(Class<?> type, JsonProcessingException e) {
        if (expected.containsKey(type)) {
            return expected.get(type);
        }
        if (type.isEnum()) {
            return "expected one of " + java.util.Arrays.stream(type.getEnumConstants())
                    .map(String::valueOf).collect(Collectors.joining(", "));
        }
        if (List.class.isAssignableFrom(type) || type.isArray()) {
            return "expected a list";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "expected a mapping of keys";
        }
        return e.getOriginalMessage();
    }

    /** {@code receivers[0].slack_configs[1].channel}, the form every error and {@link KeyLines} use. */
    private static String key(List<JsonMappingException.Reference> refs) {
        StringBuilder key = new StringBuilder();
        for (JsonMappingException.Reference ref : refs) {
            if (ref.getFieldName() != null) {
                if (!key.isEmpty()) {
                    key.append('.');
                }
                key.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                key.append('[').append(ref.getIndex()).append(']');
            }
        }
        return key.toString();
    }

    /** The key being read, from the parser's context, in the same form as {@link #key}. */
    static String key(JsonStreamContext context) {
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            } else if (c.getCurrentName() != null) {
                parts.addFirst(c.getCurrentName());
            }
        }
        String key = "";
        for (String part : parts) {
            key = KeyLines.join(key, part);
        }
        return key;
    }

    private static <T> void register(SimpleModule module, Scalar<T> scalar) {
        module.addDeserializer(scalar.type(), new ScalarDeserializer<>(scalar));
    }

    /** Reads one scalar with the {@link Scalar}'s parser; an error says what was expected. */
    private static final class ScalarDeserializer<T> extends StdScalarDeserializer<T> {
        private final Scalar<T> scalar;

        ScalarDeserializer(Scalar<T> scalar) {
            super(scalar.type());
            this.scalar = scalar;
        }

        @Override
        @SuppressWarnings("unchecked")
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (!t.isScalarValue() || t == JsonToken.VALUE_NULL) {
                return (T) ctxt.handleUnexpectedToken(handledType(), p);
            }
            String text = p.getText();
            Optional<T> value;
            try {
                value = scalar.parser().apply(text);
            } catch (InvalidValue e) {
                throw InvalidFormatException.from(p, e.problem(), text, handledType());
            }
            return value.orElseThrow(() -> InvalidFormatException.from(p, scalar.expected(), text, handledType()));
        }
    }

    /**
     * A path in a file is relative to the file's folder, as in Prometheus; one given by a flag is relative to the
     * working directory.
     */
    private static final class PathDeserializer extends StdScalarDeserializer<Path> {
        PathDeserializer() {
            super(Path.class);
        }

        @Override
        public Path deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (Path) ctxt.handleUnexpectedToken(Path.class, p);
            }
            String text = p.getText();
            if (text.isBlank()) {
                throw InvalidFormatException.from(p, "expected a path, not an empty string", text, Path.class);
            }
            Path path = Path.of(text);
            ConfigSource source = (ConfigSource) ctxt.getAttribute(SOURCE_ATTRIBUTE);
            if (path.isAbsolute() || source == null || source.fromFlag(key(p.getParsingContext()))) {
                return path;
            }
            return source.baseDir().resolve(path);
        }
    }
}
