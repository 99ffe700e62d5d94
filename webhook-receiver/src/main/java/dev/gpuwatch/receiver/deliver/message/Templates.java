package dev.gpuwatch.receiver.deliver.message;

import com.samskivert.mustache.Escapers;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The message template library: logic-less Mustache (jmustache) templates, defaults in
 * {@code resources/templates/<name>.mustache}, any of which a user may replace with a file of the same name in
 * an override directory. The template does not choose its escaping; the channel does ({@link Escaping}), so
 * that every {@code {{value}}} is escaped for where it lands and a template author cannot forget it.
 * Immutable and thread-safe.
 */
public final class Templates {

    /** Every template name; an override file must use one of them. */
    public static final List<String> NAMES = List.of(
            "title", "digest-title",
            "slack-alert", "slack-group", "slack-digest-entry", "slack-resolved-reply",
            "email-text", "email-html");

    /** How {@code {{value}}} is escaped. {@code {{{value}}}} is never escaped: defaults do not use it. */
    public enum Escaping {
        /** Slack mrkdwn: {@code & < >} become entities, so {@code <!channel>} and {@code <url|x>} stay text. */
        SLACK,
        /** HTML email bodies. */
        HTML,
        /** Plain text: email text parts and subjects, PagerDuty fields. */
        NONE
    }

    private static final Mustache.Escaper SLACK_ESCAPER = Escapers.simple(
            new String[][] {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
    /** The five characters that matter in HTML text and quoted attributes; every template quotes attributes. */
    private static final Mustache.Escaper HTML_ESCAPER = Escapers.simple(
            new String[][] {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});

    private final Map<String, String> sources;
    private final Map<Key, Template> compiled = new ConcurrentHashMap<>();

    private record Key(String name, Escaping escaping) {}

    private Templates(Map<String, String> sources) {
        this.sources = Map.copyOf(sources);
        // Compile every (template, escaping) now so that a broken override fails at startup, not on an alert.
        for (String name : NAMES) {
            for (Escaping e : Escaping.values()) {
                template(name, e);
            }
        }
    }

    /** The built-in templates. */
    public static Templates defaults() {
        Map<String, String> sources = new LinkedHashMap<>();
        for (String name : NAMES) {
            sources.put(name, readDefault(name));
        }
        return new Templates(sources);
    }

    /**
     * The defaults with every {@code <name>.mustache} in {@code directory} replacing the template of that name.
     *
     * @throws IllegalArgumentException naming the file when a name is unknown, a file unreadable or a template
     *     does not compile
     */
    public static Templates withOverrideDirectory(Path directory) {
        Map<String, String> sources = new LinkedHashMap<>(defaults().sources);
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.sorted().toList()) {
                String fileName = file.getFileName().toString();
                if (!fileName.endsWith(".mustache")) {
                    continue;
                }
                String name = fileName.substring(0, fileName.length() - ".mustache".length());
                if (!NAMES.contains(name)) {
                    throw new IllegalArgumentException("templates: " + file + " overrides no template; known: " + NAMES);
                }
                sources.put(name, Files.readString(file, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("templates: cannot read " + directory + " (" + e.getMessage() + ")");
        }
        return compileChecked(sources);
    }

    /** A copy with the template {@code name} replaced by {@code source} (e.g. a receiver's inline title). */
    public Templates withOverride(String name, String source) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("templates: unknown template " + name + "; known: " + NAMES);
        }
        Map<String, String> copy = new LinkedHashMap<>(sources);
        copy.put(name, source);
        return compileChecked(copy);
    }

    /** Renders {@code name} with the given escaping; throws {@link MustacheException} on a rendering error. */
    public String render(String name, Escaping escaping, Object context) {
        return template(name, escaping).execute(context);
    }

    private static Templates compileChecked(Map<String, String> sources) {
        try {
            return new Templates(sources);
        } catch (MustacheException e) {
            throw new IllegalArgumentException("templates: " + e.getMessage());
        }
    }

    private Template template(String name, Escaping escaping) {
        return compiled.computeIfAbsent(new Key(name, escaping), k -> {
            String source = Objects.requireNonNull(sources.get(k.name()), k.name());
            try {
                return compiler(k.escaping()).compile(source);
            } catch (MustacheException e) {
                throw new MustacheException("template " + k.name() + ": " + e.getMessage(), e);
            }
        });
    }

    private static Mustache.Compiler compiler(Escaping escaping) {
        Mustache.Compiler c = Mustache.compiler()
                .defaultValue("")
                .emptyStringIsFalse(true)
                .zeroIsFalse(true);
        return switch (escaping) {
            case SLACK -> c.withEscaper(SLACK_ESCAPER);
            case HTML -> c.withEscaper(HTML_ESCAPER);
            case NONE -> c.escapeHTML(false);
        };
    }

    private static String readDefault(String name) {
        String resource = "/templates/" + name + ".mustache";
        try (InputStream in = Templates.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing built-in template " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
