package dev.gpuwatch.receiver.runbook;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The runbooks the receiver serves at {@code /runbooks/{name}}: docs/runbooks/*.md, copied into the jar at build
 * time (one source: the repository's folder), rendered to HTML once at start. Only names of files in that set are
 * ever served, so a request cannot name any other file. Immutable.
 */
public final class RunbookLibrary {

    /** Where the build puts docs/runbooks in the jar (webhook-receiver/pom.xml). */
    static final String RESOURCE_DIR = "/runbooks";
    private static final String INDEX_FILE = "README.md";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

    private final Map<String, Runbook> runbooks;
    private final String index;

    private RunbookLibrary(Map<String, Runbook> runbooks, String index) {
        this.runbooks = runbooks;
        this.index = index;
    }

    /** The runbooks packaged with the receiver; none when the jar has none (then every link falls back). */
    public static RunbookLibrary bundled() {
        URL readme = RunbookLibrary.class.getResource(RESOURCE_DIR + "/" + INDEX_FILE);
        if (readme == null) {
            return load(Map.of());
        }
        try {
            URI uri = readme.toURI();
            if (!uri.getScheme().equals("jar")) {
                return load(Path.of(uri).getParent());
            }
            try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
                return load(jar.getPath(RESOURCE_DIR));
            } catch (FileSystemAlreadyExistsException e) {
                return load(FileSystems.getFileSystem(uri).getPath(RESOURCE_DIR));
            }
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot read the bundled runbooks at " + readme + ": " + e, e);
        }
    }

    /** Every {@code *.md} of {@code dir}; its README.md, when there, is the index page. */
    public static RunbookLibrary load(Path dir) {
        Map<String, String> sources = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".md")).toList()) {
                sources.put(file.getFileName().toString(), Files.readString(file, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the runbooks in " + dir, e);
        }
        return load(sources);
    }

    /** From file names ({@code gpufelloffthebus.md}) and their Markdown. */
    static RunbookLibrary load(Map<String, String> sources) {
        Map<String, String> markdown = new TreeMap<>();
        sources.forEach((file, text) -> {
            String name = file.substring(0, file.length() - ".md".length());
            if (!file.equals(INDEX_FILE) && NAME.matcher(name).matches()) {
                markdown.put(name, text);
            }
        });
        MarkdownPages pages = new MarkdownPages(markdown.keySet());
        Map<String, Runbook> runbooks = new TreeMap<>();
        markdown.forEach((name, text) -> runbooks.put(name, pages.runbook(name, text)));
        String index = Optional.ofNullable(sources.get(INDEX_FILE))
                .map(pages::index)
                .orElseGet(() -> pages.list(runbooks.values()));
        return new RunbookLibrary(Map.copyOf(runbooks), index);
    }

    /** The runbook named so, if the set has one; any other text (a path, {@code ..}) finds none. */
    public Optional<Runbook> runbook(String name) {
        return Optional.ofNullable(runbooks.get(name));
    }

    /** Whether there is a runbook for this alert: its name in lower case. */
    public Optional<String> nameFor(String alertname) {
        String name = alertname.toLowerCase(Locale.ROOT);
        return runbooks.containsKey(name) ? Optional.of(name) : Optional.empty();
    }

    /** Every runbook, by name. */
    public List<Runbook> all() {
        return List.copyOf(new TreeMap<>(runbooks).values());
    }

    /** The page at {@code /runbooks/}: the folder's README, or a list of every runbook. */
    public String indexPage() {
        return index;
    }
}
