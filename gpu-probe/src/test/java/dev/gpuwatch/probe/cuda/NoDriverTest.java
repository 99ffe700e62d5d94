package dev.gpuwatch.probe.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.EnricherOpening;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Opening without a driver: a child JVM whose LD_LIBRARY_PATH lacks the stubs, so libJCudaDriver's DT_NEEDED
 * libcuda.so.1 is searched where a real installation puts it.
 */
class NoDriverTest {
    private static final String REASON = "libcuda.so.1 not found via the dynamic loader; install the NVIDIA driver"
            + " on the host (or run the container with the NVIDIA container runtime, e.g. --gpus all) so that"
            + " libcuda.so.1 is on the loader's path";

    /** Run in the child: prints whether the loader finds libcuda.so.1 at all, then what open() made of it. */
    public static void main(String[] args) {
        boolean found;
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            found = true;
        } catch (IllegalArgumentException e) {
            found = false;
        }
        System.out.println(found ? "driver found" : "driver absent");
        for (int attempt = 0; attempt < 2; attempt++) {
            EnricherOpening opening = CudaEnricher.open(CudaOptions.defaults());
            System.out.println(switch (opening) {
                case EnricherOpening.Unavailable u -> "unavailable|" + u.source() + "|" + u.reason();
                case EnricherOpening.Opened o -> "opened|" + o.enricher().name();
            });
        }
    }

    @Test
    void withoutLibcudaOpeningIsUnavailableWithOneClearLineTwice() throws Exception {
        ChildRun run = runChild(Map.of());

        if (run.lines().getFirst().equals("driver found")) {
            // A machine with a real NVIDIA driver: the loader finds it, so does JCuda.
            assertEquals(List.of("driver found", "opened|cuda", "opened|cuda"), run.lines());
        } else {
            // The first attempt sees the UnsatisfiedLinkError, the second only NoClassDefFoundError: same line.
            assertEquals(List.of("driver absent", "unavailable|cuda|" + REASON, "unavailable|cuda|" + REASON),
                    run.lines());
        }
        assertEquals("", run.err(), "no stack trace or JCuda log on stderr");
    }

    @Test
    void anIncompleteLibcudaUnderEagerBindingIsUnavailableNamingTheMissingSymbol() throws Exception {
        // The cuda-partial stub defines only what CudaEnricher calls; found first on the path, real driver or not.
        Path partial = Path.of(System.getProperty("gpuwatch.stubs.dir"), "cuda-partial");
        ChildRun run = runChild(Map.of("LD_LIBRARY_PATH", partial.toString(), "LD_BIND_NOW", "1"));

        assertEquals("driver found", run.lines().getFirst());
        String line = run.lines().get(1);
        assertTrue(line.startsWith("unavailable|cuda|JCuda's native driver binding could not be loaded: "), line);
        assertTrue(line.matches(".*libJCudaDriver-12\\.6\\.0-linux-x86_64\\.so: undefined symbol: cu\\w+ \\("
                + "libcuda\\.so\\.1 lacks a function of CUDA 12\\.6; update the NVIDIA driver or unset LD_BIND_NOW\\)"),
                line);
        assertEquals(line, run.lines().get(2));
        assertEquals("", run.err());
    }

    private record ChildRun(List<String> lines, String err) {}

    /** Runs {@link #main} in a fresh JVM with LD_LIBRARY_PATH removed, then the given variables set. */
    private static ChildRun runChild(Map<String, String> environment) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                NoDriverTest.class.getName());
        builder.environment().remove("LD_LIBRARY_PATH");
        builder.environment().putAll(environment);
        Process child = builder.start();
        try {
            // Both outputs are a few lines, far below the pipe buffer, so reading one after the other cannot block.
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child JVM did not exit");
            assertEquals(0, child.exitValue(), () -> "child failed: " + err);
            return new ChildRun(out.lines().toList(), err);
        } finally {
            child.destroyForcibly();
        }
    }
}
