package dev.gpuwatch.testkit.prometheus;

import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Runs {@code promtool}, the Prometheus checker: exposition text, configuration, rule files and rule tests. */
public final class Promtool {

    /** Long enough for {@code test rules} over every rule test file on a loaded two-core machine. */
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private Promtool() {}

    public static Optional<Path> binary() {
        return Programs.find("promtool");
    }

    /** {@code promtool ARGS} in {@code directory} (where {@code test rules} resolves its rule files). */
    public static ChildProcess.Finished run(Path directory, List<String> args) {
        return run(directory, args, "");
    }

    /** {@code promtool check metrics} on {@code exposition}: exit code 0 and no output when it finds nothing. */
    public static ChildProcess.Finished checkMetrics(String exposition) {
        return run(Path.of("").toAbsolutePath(), List.of("check", "metrics"), exposition);
    }

    /** {@code promtool check config FILE}, which also loads every rule file the configuration names. */
    public static ChildProcess.Finished checkConfig(Path file) {
        return run(file.toAbsolutePath().getParent(), List.of("check", "config", file.toString()));
    }

    private static ChildProcess.Finished run(Path directory, List<String> args, String stdin) {
        List<String> line = new ArrayList<>();
        line.add(Programs.require("promtool").toString());
        line.addAll(args);
        return ChildProcess.run(Command.of("promtool", line).in(directory), stdin, TIMEOUT);
    }
}
