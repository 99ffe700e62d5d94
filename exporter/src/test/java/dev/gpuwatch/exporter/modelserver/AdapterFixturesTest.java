package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.modelserver.adapter.AdapterOptions;
import dev.gpuwatch.exporter.modelserver.adapter.Adapters;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import io.prometheus.metrics.model.snapshots.Labels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each server and naming generation, from exposition texts and JSON bodies written after the servers' documented
 * formats (src/test/resources/inference/CASE/), to the exact normalised exposition in CASE/expected.txt.
 * Regenerate after an intended change with -Dinference.fixtures.write=true, then read the diff.
 */
class AdapterFixturesTest {
    private static final Path ROOT = Path.of("src/test/resources/inference");

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "vllm-v0, vllm",
        "vllm-v1, vllm",
        "vllm-v1-lora, vllm",
        "sglang-old, sglang",
        "sglang-new, sglang",
        "tgi, tgi",
        "triton, triton",
        "triton-trtllm, triton",
        "torchserve, torchserve",
        "ollama, ollama",
        "llamacpp-old, llamacpp",
        "llamacpp-new, llamacpp",
    })
    void normalisesExactly(String fixture, String type) throws Exception {
        Path dir = ROOT.resolve(fixture);
        ServerType t = ServerType.parse(type).orElseThrow();
        AdapterOptions options = new AdapterOptions(Files.exists(dir.resolve("options")));
        Normalized n = Adapters.forType(t).poll(new FixtureFetcher(dir), options);
        String actual = Scrapes.render(n, Labels.of("target", "t1", "server", t.label()));
        Path expected = dir.resolve("expected.txt");
        if (Boolean.getBoolean("inference.fixtures.write")) {
            Files.writeString(expected, actual);
        }
        assertEquals(Files.readString(expected), actual);
    }
}
