package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** {@code promtool check metrics} (Debian's /usr/bin/promtool) on exposition text. */
final class Promtool {
    private Promtool() {}

    static void assertClean(String exposition) throws Exception {
        assertTrue(exposition.contains("gpu_up{"), "the scrape has GPU series to check");
        Process p = new ProcessBuilder("/usr/bin/promtool", "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool finished");
        assertEquals(0, p.exitValue(), "promtool check metrics found problems:\n" + out);
        assertEquals("", out.strip(), "promtool check metrics found problems");
    }
}
