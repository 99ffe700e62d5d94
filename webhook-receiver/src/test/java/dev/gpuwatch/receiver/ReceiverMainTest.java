package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every configuration the receiver cannot use stops its start with one line and exit code 2: a flag, the config
 * file, the runbook catalog, a secret. Run in this JVM through {@link ReceiverMain#run}, and once in a child JVM
 * for the exit code itself.
 */
class ReceiverMainTest {

    @TempDir
    Path dir;

    /** What one run printed and returned. */
    record Run(int code, String out, String err) {}

    private Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // none of these runs gets as far as listening: the default address is never bound
        List<String> all = new ArrayList<>(List.of("--storage.path=" + dir.resolve("r.db")));
        all.addAll(List.of(args));
        int code = ReceiverMain.run(all.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8).strip());
    }

    private void assertRefused(String message, Run run) {
        assertEquals(ConfigException.EXIT_CODE, run.code(), run.err());
        assertEquals("gpuwatch-receiver: " + message, run.err());
        assertTrue(Files.notExists(dir.resolve("r.db")), "nothing is created when the start is refused");
    }

    private Path file(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void helpListsEveryFlagAndExitsZero() {
        Run help = run("--help");
        assertEquals(0, help.code());
        for (String flag : ReceiverMain.FLAGS.names()) {
            assertTrue(help.out().contains(flag), flag + " in\n" + help.out());
        }
        assertEquals(new Run(0, ReceiverMain.VERSION + System.lineSeparator(), ""), run("--version"));
    }

    @Test
    void badFlagsExitWithTwo() {
        assertRefused("--web.listen: unknown flag (see --help)", run("--web.listen", ":1"));
        assertRefused("--web.listen-address: expected [host]:port, e.g. :9445 or 127.0.0.1:9445, got \"9095\"",
                run("--web.listen-address=9095"));
        assertRefused("--log.level: expected one of debug, info, warn, error, got \"verbose\"",
                run("--log.level=verbose"));
        assertRefused("--config.file: expected a file path, got \"\"", run("--config.file="));
        assertRefused("--web.external-url: expected an absolute http(s) URL without query or fragment, e.g."
                + " https://receiver.example.com/, got \"receiver:9095\"", run("--web.external-url=receiver:9095"));
    }

    @Test
    void badConfigFileExitsWithTwo() throws Exception {
        Path config = file("receiver.yml", """
                dispatch:
                  lease: 2m
                  max_age: 30s5m
                """);
        assertRefused(config + ":3: dispatch.max_age: expected a duration like 30s, 1m30s, 500ms or 1d, got \"30s5m\"",
                run("--config.file=" + config));
        assertRefused(dir.resolve("nope.yml") + ": no such file", run("--config.file=" + dir.resolve("nope.yml")));
    }

    @Test
    void badRunbookCatalogExitsWithTwo() throws Exception {
        Path catalog = file("catalog.yml", "entries:\n  - runbook_url: \"{base}/x\"\n");
        Path config = file("receiver.yml", "enrichment:\n  catalog_file: " + catalog + "\n");
        assertRefused(catalog + ":2: entries[0].runbook_url: unknown placeholder {base} in {base}/x; known:"
                + " {runbook_base_url} {grafana_url} {alertname} {alertname_lower} {labels.NAME} {annotations.NAME}",
                run("--config.file=" + config));
    }

    @Test
    void missingSecretFileExitsWithTwo() throws Exception {
        Path token = dir.resolve("no-token");
        Path config = file("receiver.yml", """
                ingest:
                  auth:
                    bearer_token_file: %s
                """.formatted(token));
        assertRefused(config + ":3: ingest.auth.bearer_token_file: cannot read " + token + " (NoSuchFileException)",
                run("--config.file=" + config));
    }

    /** The code {@link ReceiverMain#run} returns is the JVM's exit code. */
    @Test
    void theJvmExitsWithTwo() throws Exception {
        Path config = file("receiver.yml", "storage:\n  retention: 1s1s\n");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ReceiverMain.class.getName(),
                "--storage.path=" + dir.resolve("r.db"), "--config.file=" + config).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), output);
        assertEquals(2, p.exitValue(), output);
        assertEquals("gpuwatch-receiver: " + config + ":2: storage.retention: expected a duration like 30s, 1m30s,"
                + " 500ms or 1d, got \"1s1s\"", output.strip());
    }

    /** One format for every line, ours and the libraries' (Javalin, Jetty through slf4j-jdk14), and no stack trace. */
    @Test
    void everyLogLineIsLogfmt() throws Exception {
        Path config = file("receiver.yml", "storage:\n  retention: 1d\n");
        Path output = dir.resolve("child.out");
        try (ChildReceiver child = ChildReceiver.start(config, dir.resolve("r.db"), output)) {
            assertTrue(child.port() > 0);
        }
        List<String> lines = Files.readAllLines(output);
        Pattern logfmt = Pattern.compile("ts=\\S+Z level=(debug|info|warn|error) logger=\\S+ msg=\"([^\"\\\\]|\\\\.)*\""
                + "( err=\"([^\"\\\\]|\\\\.)*\")?");
        for (String line : lines) {
            assertTrue(logfmt.matcher(line).matches(), line);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains(" logger=org.eclipse.jetty.")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains(" logger=ReceiverMain msg=\"listening on 127.0.0.1:")),
                String.join("\n", lines));
    }
}
