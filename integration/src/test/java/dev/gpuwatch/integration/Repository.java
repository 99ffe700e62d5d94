package dev.gpuwatch.integration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Paths of the shipped artefacts (rules, dashboards, runbooks, docs), seen from the integration module. */
public final class Repository {

    private static final Path ROOT = findRoot();

    private Repository() {}

    public static Path root() {
        return ROOT;
    }

    public static Path path(String relative) {
        return ROOT.resolve(relative);
    }

    /** Regular files directly or indirectly under {@code dir} whose name ends with {@code suffix}, sorted. */
    public static List<Path> files(String dir, String suffix) {
        try (Stream<Path> walk = Files.walk(path(dir))) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(suffix))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // Surefire runs in the module directory; the repository root is the first parent holding rules/ and pom.xml.
    private static Path findRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("rules")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root with rules/ above " + Path.of("").toAbsolutePath());
    }
}
