package dev.gpuwatch.integration.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpuwatch.integration.live.LiveFleet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The exporter's join of GPU processes with model servers, on real processes: the simulated fleet shows the vLLM
 * server's JVM as GPU 0's process ({@code --gpu.simulated.model-server-pid}); the exporter's scan of this
 * machine's /proc must find that JVM listening on the vllm-sim target's port (not the Triton server's, which
 * runs beside it), and {@code inference_model_gpu_memory_bytes} must carry exactly that process's GPU memory.
 */
@ExtendWith(LiveFleet.Extension.class)
class ModelGpuMemoryTest {

    /** The scan runs every 2 s once the exporter has sampled; generous for 2 busy cores. */
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{(.*)} (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Test
    void theVllmServersGpuMemoryIsAttributedToItsTarget(LiveFleet fleet) throws InterruptedException {
        String pid = Long.toString(fleet.vllmPid());
        String gpu = Integer.toString(LiveFleet.MODEL_SERVER_GPU);
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        String last = "";
        do {
            String scrape = fleet.scrape(fleet.exporter());
            List<Map<String, String>> models = samples(scrape, "inference_model_gpu_memory_bytes");
            List<Map<String, String>> process = samples(scrape, "gpu_process_memory_used_bytes").stream()
                    .filter(s -> s.get("pid").equals(pid) && s.get("gpu").equals(gpu)).toList();
            if (!models.isEmpty() && process.size() == 1) {
                Map<String, String> model = models.getFirst();
                assertEquals(1, models.size(), () -> "one series, for vllm-sim on GPU " + gpu + ": " + models);
                assertEquals("vllm-sim", model.get("target"), model::toString);
                assertEquals("vllm", model.get("server"), model::toString);
                assertEquals(gpu, model.get("gpu"), model::toString);
                assertEquals(process.getFirst().get("uuid"), model.get("uuid"), model::toString);
                // the two collectors read the latest sample each; a sample landing between them can differ
                if (model.get("value").equals(process.getFirst().get("value"))) {
                    assertEquals("java", process.getFirst().get("command"), "/proc/" + pid + "/comm");
                    return;
                }
            }
            last = String.join("\n", scrape.lines().filter(l -> l.startsWith("inference_model_gpu_memory_bytes")
                    || l.startsWith("gpu_process_memory_used_bytes")).toList());
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        fail("no inference_model_gpu_memory_bytes equal to the memory of pid " + pid + " on GPU " + gpu + " within "
                + DEADLINE.toSeconds() + "s; last scrape:\n" + last + "\n" + fleet.logs());
    }

    /** Each sample of {@code name} as its labels plus {@code value}. */
    private static List<Map<String, String>> samples(String exposition, String name) {
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : exposition.lines().toList()) {
            Matcher m = SAMPLE.matcher(line);
            if (m.matches() && m.group(1).equals(name)) {
                Map<String, String> labels = new TreeMap<>();
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
                labels.put("value", m.group(3));
                out.add(labels);
            }
        }
        return out;
    }
}
