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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
            throw new ConfigException(name + ": " + where(e, yaml) + describe(e));
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            throw new ConfigException(name + ": " + (at == null ? "" : "line " + at.getLineNr() + ": ")
                    + "invalid YAML: " + e.getOriginalMessage());
        }
        if (config == null) {
            config = ReceiverConfig.defaults(); // an empty file
        }
        check(name, config);
        return config;
    }

    private static void check(String name, ReceiverConfig config) throws ConfigException {
        if (config.route().receiver() == null || config.route().receiver().isBlank()) {
            throw new ConfigException(name + ": route.receiver: the root route needs a receiver");
        }
        Set<String> receivers = new HashSet<>();
        for (int i = 0; i < config.receivers().size(); i++) {
            ReceiverConfig.ReceiverEntry r = config.receivers().get(i);
            if (!receivers.add(r.name())) {
                throw new ConfigException(name + ": receivers[" + i + "].name: duplicate receiver " + r.name());
            }
        }
        for (String used : config.routingTree().referencedReceivers()) {
            if (!receivers.contains(used)) {
                throw new ConfigException(name + ": route: receiver \"" + used + "\" is not defined in receivers");
            }
        }
    }

    private static String where(JsonMappingException e, String yaml) {
        StringBuilder path = new StringBuilder();
        List<JsonMappingException.Reference> refs = e.getPath();
        if (e instanceof UnrecognizedPropertyException && !refs.isEmpty()) {
            refs = refs.subList(0, refs.size() - 1); // the message names the unknown key itself
        }
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
        // the token the error is about; the parser's own position may already be on the next line
        JsonLocation at = e.getProcessor() instanceof JsonParser p ? p.currentTokenLocation() : e.getLocation();
        int lineNr = at == null ? -1 : at.getLineNr();
        if (e instanceof UnrecognizedPropertyException u && lineNr > 0) {
            // records are built once their mapping ends, so Jackson reports the line after it: look back for the key
            List<String> lines = yaml.lines().toList();
            java.util.regex.Pattern key = java.util.regex.Pattern.compile(
                    "^\\s*(-\\s+)?" + java.util.regex.Pattern.quote(u.getPropertyName()) + "\\s*:");
            for (int i = Math.min(lineNr, lines.size()) - 1; i >= 0; i--) {
                if (key.matcher(lines.get(i)).find()) {
                    lineNr = i + 1;
                    break;
                }
            }
        }
        String line = lineNr < 0 ? "" : "line " + lineNr + ": ";
        return line + (path.isEmpty() ? "" : path + ": ");
    }

    private static String describe(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown key \"" + u.getPropertyName() + "\"";
        }
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
