package dev.gpuwatch.exporter.config;

import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.Scenario;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** Parsers shared by flags and the config file for values whose vocabulary lives in gpu-probe. */
public final class Parsers {
    private Parsers() {}

    public static final String BACKEND_EXPECTED = "expected one of auto, nvml, simulated";
    public static final String SCENARIO_EXPECTED = "expected one of "
            + Arrays.stream(Scenario.values()).map(Scenario::label).collect(Collectors.joining(", "));
    public static final String MODEL_EXPECTED = "expected one of "
            + Arrays.stream(GpuModel.values()).map(GpuModel::label).collect(Collectors.joining(", "));

    public static Optional<Backend> backend(String text) {
        return Backend.parse(text);
    }

    public static Optional<Scenario> scenario(String text) {
        try {
            return Optional.of(Scenario.parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public static Optional<GpuModel> model(String text) {
        try {
            return Optional.of(GpuModel.parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
