package dev.gpuwatch.probe.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.EnricherOpening;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.CudaHealth;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Drivers that are missing or incomplete, each in a child JVM: without the stubs on LD_LIBRARY_PATH (so
 * libJCudaDriver's DT_NEEDED libcuda.so.1 is searched where a real installation puts it), or with a stub variant
 * that lacks functions.
 */
class CudaDriverLoadingTest {
    private static final String REASON = "libcuda.so.1 not found via the dynamic loader; install the NVIDIA driver"
            + " on the host (or run the container with the NVIDIA container runtime, e.g. --gpus all) so that"
            + " libcuda.so.1 is on the loader's path";

    /**
     * Run in the child: prints whether the loader finds libcuda.so.1 at all, then what open() made of it (twice),
     * or with argument "health" the first health check result of device 0.
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && args[0].equals("health")) {
            printFirstHealthCheck();
            return;
        }
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

    @Test
    void aDriverLackingAHealthCheckFunctionFailsTheCheckInsteadOfAbortingTheJvm() throws Exception {
        // Without the check, JCuda's lazy binding would end the JVM with "symbol lookup error: cuCtxCreate_v2".
        Path old = Path.of(System.getProperty("gpuwatch.stubs.dir"), "cuda-without-ctx-create");
        ChildRun run = runChild(Map.of("LD_LIBRARY_PATH", old.toString()), "health");

        assertEquals(List.of("success=false error=CUDA_ERROR_NOT_SUPPORTED: libcuda.so.1 lacks cuCtxCreate_v2"),
                run.lines());
    }

    private static void printFirstHealthCheck() throws InterruptedException {
        EnricherOpening opening = CudaEnricher.open(new CudaOptions(true, Duration.ofHours(1), Duration.ofSeconds(10)));
        try (CudaEnricher cuda = (CudaEnricher) ((EnricherOpening.Opened) opening).enricher()) {
            while (cuda.completedHealthChecks(0) == 0) {
                Thread.sleep(5);
            }
            GpuSnapshot snapshot = GpuSnapshot.builder(0, Instant.EPOCH)
                    .uuid("GPU-5ca1ab1e-0000-4000-8000-000000000000").build();
            CudaHealth health = cuda.enrich(List.of(snapshot)).getFirst().cudaHealth().orElseThrow();
            System.out.println("success=" + health.success() + " error=" + health.error().orElse(""));
        }
    }

    private record ChildRun(List<String> lines, String err) {}

    /** Runs {@link #main} in a fresh JVM with LD_LIBRARY_PATH removed, then the given variables set. */
    private static ChildRun runChild(Map<String, String> environment, String... arguments) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Djava.util.logging.config.file=/dev/null", "-cp",
                System.getProperty("java.class.path"), CudaDriverLoadingTest.class.getName()));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command);
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
