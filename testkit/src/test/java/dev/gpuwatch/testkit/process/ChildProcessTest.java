package dev.gpuwatch.testkit.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {

    @TempDir
    Path dir;

    private static Command sh(String script) {
        return Command.of("sh", List.of("sh", "-c", script));
    }

    @Test
    void startLogsToTheFileAndAwaitReturnsWhatItPrinted() throws Exception {
        Path log = dir.resolve("logs/child.log");
        Files.createDirectories(log.getParent());
        Files.writeString(log, "listening on 127.0.0.1:1 (a previous run)\n");
        try (ChildProcess child = ChildProcess.start(sh("echo \"$GREETING from $(pwd)\"; echo listening on 127.0.0.1:4242; exec sleep 60")
                .in(dir).withEnvironment(Map.of("GREETING", "hello")), log)) {
            assertEquals("4242", child.await(Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)"), Duration.ofSeconds(10)),
                    "the log is emptied at start: only this process's lines count");
            assertEquals("hello from " + dir.toRealPath(), child.output().lines().findFirst().orElseThrow());
            assertEquals("listening on 127.0.0.1:4242", child.tail(1));
            assertTrue(child.isAlive());
            child.stop();
            assertFalse(child.isAlive());
        }
    }

    @Test
    void awaitFailsWithTheLogWhenTheProcessExitsFirst() {
        try (ChildProcess child = ChildProcess.start(sh("echo cannot bind; exit 3"), dir.resolve("child.log"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> child.await(Pattern.compile("ready"), Duration.ofSeconds(30)));
            assertEquals("sh exited with 3 before printing ready; its log " + dir.resolve("child.log") + ":\ncannot bind",
                    e.getMessage());
        }
    }

    @Test
    void killEndsAProcessThatIgnoresSigterm() {
        try (ChildProcess child = ChildProcess.start(sh("trap '' TERM; echo up; while true; do sleep 1; done"),
                dir.resolve("child.log"))) {
            child.await(Pattern.compile("up"), Duration.ofSeconds(10));
            long start = System.nanoTime();
            child.kill();
            assertFalse(child.isAlive());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(5)) < 0,
                    "no grace period");
        }
    }

    @Test
    void runFeedsStdinAndKeepsTheOutput() {
        assertEquals(new ChildProcess.Finished(0, "gpu_up 1\n"),
                ChildProcess.run(Command.of("cat", List.of("cat")), "gpu_up 1\n", Duration.ofSeconds(30)));
        assertEquals(new ChildProcess.Finished(2, "out\nerr\n"),
                ChildProcess.run(sh("echo out; echo err >&2; exit 2"), Duration.ofSeconds(30)));
    }

    @Test
    void runKillsWhatDoesNotFinishInTime() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ChildProcess.run(sh("echo started; exec sleep 60"), Duration.ofMillis(500)));
        assertEquals("sh -c echo started; exec sleep 60 did not finish within 500ms:\nstarted\n", e.getMessage());
    }
}
