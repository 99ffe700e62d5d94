package dev.gpuwatch.testkit.process;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What to start: a name for messages and logs, the command line, the working directory and the variables added
 * to the inherited environment.
 */
public record Command(String name, List<String> line, Path directory, Map<String, String> environment) {

    public Command {
        if (line.isEmpty()) {
            throw new IllegalArgumentException(name + ": empty command line");
        }
        line = List.copyOf(line);
        environment = Map.copyOf(environment);
    }

    /** {@code line} in the current directory with the inherited environment. */
    public static Command of(String name, List<String> line) {
        return new Command(name, line, Path.of("").toAbsolutePath(), Map.of());
    }

    /**
     * {@code java <jvmOptions> -cp <this JVM's class path> <mainClass> <args>}: one of our main classes exactly as
     * built, in a JVM of its own. The class path entries are made absolute, so the child may run in any directory.
     */
    public static Command java(String name, List<String> jvmOptions, String mainClass, List<String> args) {
        List<String> line = new ArrayList<>();
        line.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the exporter's NVML binding and SQLite's JDBC driver load native code; without this the JVM warns
        line.add("--enable-native-access=ALL-UNNAMED");
        line.addAll(jvmOptions);
        line.addAll(List.of("-cp", absoluteClassPath(), mainClass));
        line.addAll(args);
        return of(name, line);
    }

    /** The same command run in {@code directory}. */
    public Command in(Path directory) {
        return new Command(name, line, directory, environment);
    }

    /** The same command with {@code variables} added to (or replacing values in) its environment. */
    public Command withEnvironment(Map<String, String> variables) {
        Map<String, String> merged = new HashMap<>(environment);
        merged.putAll(variables);
        return new Command(name, line, directory, merged);
    }

    private static String absoluteClassPath() {
        return Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.isEmpty())
                .map(e -> Path.of(e).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
    }
}
