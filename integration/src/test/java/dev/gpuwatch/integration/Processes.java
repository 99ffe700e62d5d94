package dev.gpuwatch.integration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived command to completion and keeps what it printed. */
public final class Processes {

    public record Result(int exitCode, String output) {}

    private Processes() {}

    public static Result run(Path workingDir, List<String> command, long timeoutSeconds) {
        Process process;
        try {
            process = new ProcessBuilder(command).directory(workingDir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        try {
            // Reading to EOF first is safe: the output is small and ends when the process exits.
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException(command + " did not finish in " + timeoutSeconds + "s:\n" + output);
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } finally {
            process.destroyForcibly();
        }
    }
}
