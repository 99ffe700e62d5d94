package dev.gpuwatch.receiver.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads and checks {@code --config.file}; every error names the key and, where YAML gives one, the line. */
public final class ConfigLoader {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ConfigLoader() {}

    public static ReceiverConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read (" + e.getClass().getSimpleName() + ")");
        }
        return parse(file.toString(), text);
    }

    public static ReceiverConfig parse(String name, String yaml) throws ConfigException {
        if (yaml.isBlank()) {
            return ReceiverConfig.defaults();
        }
        ReceiverConfig config;
        try {
            config = YAML.readValue(yaml, ReceiverConfig.class);
        } catch (JsonMappingException e) {
            throw new ConfigException(name + ": " + explain(e, KeyLines.of(yaml)));
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            throw new ConfigException(name + ": " + (at == null ? "" : "line " + at.getLineNr() + ": ")
                    + "invalid YAML: " + e.getOriginalMessage());
        }
        if (config == null) {
            config = ReceiverConfig.defaults(); // an empty file
        }
        check(name, config, KeyLines.of(yaml));
        return config;
    }

    private static void check(String name, ReceiverConfig config, KeyLines lines) throws ConfigException {
        if (config.route().receiver() == null || config.route().receiver().isBlank()) {
            String at = lines.has("route.receiver") ? "route.receiver" : "route";
            throw new ConfigException(name + ": " + lines.prefix(at) + at + ": the root route needs a receiver");
        }
        Set<String> receivers = new HashSet<>();
        for (int i = 0; i < config.receivers().size(); i++) {
            ReceiverConfig.ReceiverEntry r = config.receivers().get(i);
            String at = "receivers[" + i + "].name";
            if (!receivers.add(r.name())) {
                throw new ConfigException(name + ": " + lines.prefix(at) + at + ": duplicate receiver " + r.name());
            }
        }
        Optional<String> undefined = undefinedReceiver("route", config.route(), receivers);
        if (undefined.isPresent()) {
            String at = undefined.get();
            throw new ConfigException(name + ": " + lines.prefix(at) + at + ": receiver \""
                    + receiverAt(config.route(), at) + "\" is not defined in receivers");
        }
    }

    /** The path ({@code route.routes[0].receiver}) of the first route naming a receiver that does not exist. */
    private static Optional<String> undefinedReceiver(String path, ReceiverConfig.RouteConfig route, Set<String> defined) {
        if (route.receiver() != null && !route.receiver().isBlank() && !defined.contains(route.receiver())) {
            return Optional.of(path + ".receiver");
        }
        for (int i = 0; i < route.routes().size(); i++) {
            Optional<String> found = undefinedReceiver(path + ".routes[" + i + "]", route.routes().get(i), defined);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static String receiverAt(ReceiverConfig.RouteConfig root, String path) {
        ReceiverConfig.RouteConfig route = root;
        java.util.regex.Matcher index = Pattern.compile("\\.routes\\[(\\d+)]").matcher(path);
        while (index.find()) {
            route = route.routes().get(Integer.parseInt(index.group(1)));
        }
        return route.receiver();
    }

    /** {@code line N: path.to.key: what is wrong}, pointing at the offending key wherever the YAML has it. */
    private static String explain(JsonMappingException e, KeyLines lines) {
        String path = path(e.getPath());
        // the token the error is about; the parser's own position may already be on the next line
        JsonLocation at = e.getProcessor() instanceof JsonParser p ? p.currentTokenLocation() : e.getLocation();
        String tokenLine = at == null || at.getLineNr() < 1 ? "" : "line " + at.getLineNr() + ": ";
        if (e instanceof UnrecognizedPropertyException u) {
            // records are built once their mapping ends, so Jackson's own line is the one after it
            String section = path.endsWith(u.getPropertyName())
                    ? path.substring(0, Math.max(0, path.length() - u.getPropertyName().length() - 1)) : path;
            String line = lines.has(path) ? lines.prefix(path) : tokenLine;
            return line + (section.isEmpty() ? "" : section + ": ") + "unknown key \"" + u.getPropertyName() + "\"";
        }
        String message = describe(e);
        if (e.getCause() instanceof IllegalArgumentException && lines.has(path)) {
            // a record rejected its values in its constructor: Jackson knows only the section, and reports the
            // line where the section ends; find the key the message is about (max_age must be at least 1h)
            Offender offender = offender(path, message, lines);
            return lines.prefix(offender.path()) + offender.path() + ": " + offender.message();
        }
        String line = lines.has(path) ? lines.prefix(path) : tokenLine;
        return line + (path.isEmpty() ? "" : path + ": ") + message;
    }

    record Offender(String path, String message) {}

    private static final Pattern LEADING_KEY = Pattern.compile("^([A-Za-z_][A-Za-z0-9_.]*)(?::\\s*|\\s+)");
    private static final Pattern WORD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * The key a section's error is about: the message's leading key ({@code max_age must...},
     * {@code slack.channel: required...}, {@code rate_limits.foo: ...}) when the section has it, else the first
     * key of the section the message mentions, else the section itself.
     */
    static Offender offender(String section, String message, KeyLines lines) {
        java.util.regex.Matcher lead = LEADING_KEY.matcher(message);
        if (lead.find()) {
            String[] parts = lead.group(1).split("\\.");
            // a message may prefix its key with its integration ("slack.channel"): try dropping leading parts
            for (int from = 0; from < parts.length; from++) {
                for (int to = parts.length; to > from; to--) {
                    String candidate = KeyLines.join(section, String.join(".", Arrays.copyOfRange(parts, from, to)));
                    if (lines.has(candidate)) {
                        // the key now leads the error; the message loses it only when it named exactly that key
                        return new Offender(candidate, to == parts.length ? message.substring(lead.end()) : message);
                    }
                }
            }
        }
        java.util.regex.Matcher word = WORD.matcher(message);
        while (word.find()) {
            String candidate = KeyLines.join(section, word.group());
            if (lines.has(candidate)) {
                return new Offender(candidate, message);
            }
        }
        return new Offender(section, message);
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : refs) {
            if (ref.getFieldName() != null) {
                if (!path.isEmpty()) {
                    path.append('.');
                }
                path.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static String describe(JsonMappingException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IllegalArgumentException iae && iae.getMessage() != null) {
            return iae.getMessage();
        }
        String message = e.getOriginalMessage();
        // Jackson names Java types; say what the YAML should hold instead
        if (message.startsWith("Cannot deserialize value of type `java.lang.")
                || message.startsWith("Cannot deserialize value of type `int`")
                || message.startsWith("Cannot deserialize value of type `long`")) {
            return "wrong type: " + message.replaceAll(" \\(through reference chain.*", "");
        }
        return message;
    }
}
