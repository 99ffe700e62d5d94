package dev.gpuwatch.testkit.prometheus;

import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code amtool}, Alertmanager's checker (it comes with Alertmanager): configuration and route tests. */
public final class Amtool {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Amtool() {}

    /** {@code amtool ARGS} in {@code directory}. */
    public static ChildProcess.Finished run(Path directory, List<String> args) {
        List<String> line = new ArrayList<>();
        line.add(Programs.require("amtool").toString());
        line.addAll(args);
        return ChildProcess.run(Command.of("amtool", line).in(directory), TIMEOUT);
    }

    /** {@code amtool check-config FILE}: exit code 0 and a summary (receivers, inhibit rules) when valid. */
    public static ChildProcess.Finished checkConfig(Path file) {
        return run(file.toAbsolutePath().getParent(), List.of("check-config", file.toString()));
    }
}
