package dev.gpuwatch.probe.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import jcuda.nvptxcompiler.JNvPTXCompiler;
import jcuda.nvptxcompiler.nvPTXCompilerHandle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stub driver only checks the health kernel's name, so the PTX itself is checked here with NVIDIA's PTX
 * compiler (the nvPTXCompiler library shipped in jcuda-natives, no GPU needed): it must compile to machine code
 * for every architecture from Volta to Hopper, as the driver's JIT will do on the real device.
 */
class HealthCheckPtxTest {

    @ParameterizedTest
    @ValueSource(strings = {"sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90"})
    void theHealthKernelCompilesForEveryCurrentArchitecture(String architecture) {
        byte[] ptx = HealthCheck.PTX.getBytes(StandardCharsets.US_ASCII);
        nvPTXCompilerHandle compiler = new nvPTXCompilerHandle();
        assertEquals(0, JNvPTXCompiler.nvPTXCompilerCreate(compiler, ptx.length, ptx));
        try {
            int result = JNvPTXCompiler.nvPTXCompilerCompile(compiler, 1, new String[] {"--gpu-name=" + architecture});
            assertEquals(0, result, () -> "nvPTXCompiler: " + errorLog(compiler));
            long[] size = new long[1];
            assertEquals(0, JNvPTXCompiler.nvPTXCompilerGetCompiledProgramSize(compiler, size));
            assertTrue(size[0] > 0);
        } finally {
            JNvPTXCompiler.nvPTXCompilerDestroy(compiler);
        }
    }

    private static String errorLog(nvPTXCompilerHandle compiler) {
        long[] size = new long[1];
        JNvPTXCompiler.nvPTXCompilerGetErrorLogSize(compiler, size);
        byte[] log = new byte[(int) size[0]];
        JNvPTXCompiler.nvPTXCompilerGetErrorLog(compiler, log);
        return new String(log, StandardCharsets.UTF_8).trim();
    }
}
