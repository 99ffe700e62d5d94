package dev.gpuwatch.probe.simulated;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the simulated fleet does. Fault scenarios behave exactly like {@link #STEADY} until the fault timer
 * ({@link SimulationOptions#faultAfter()} after the start or the last switch) runs out, then change only the
 * faulty GPU ({@link SimulatedFleet#faultyGpuIndex()}), or every GPU for {@link #PROCESS_CHURN}. The table in
 * docs/simulated-fleet.md gives each one's timings and the alert it is meant to fire.
 */
public enum Scenario {
    /** No processes, utilisation 0, power near idle, every GPU. */
    IDLE("idle", false, false),
    /** The faulty GPU's processes keep their memory while utilisation drops to exactly 0. */
    IDLE_ALLOCATED("idle-allocated", true, false),
    /** A moderately busy inference fleet (vLLM, Triton, PyTorch processes). */
    STEADY("steady", false, false),
    /** Utilisation follows a 24 h cosine, each GPU 30 min behind the previous one. */
    DIURNAL("diurnal", false, false),
    /** The faulty GPU's vLLM process grows until free memory is 0. */
    MEMORY_LEAK("memory-leak", true, false),
    /** The faulty GPU heats to 93 °C; thermal slowdown reasons active, SM clock drops. */
    THERMAL_THROTTLING("thermal-throttling", true, false),
    /** The faulty GPU runs at its power limit with the SW power cap active. */
    POWER_THROTTLING("power-throttling", true, false),
    /** Uncorrected ECC errors climb on the faulty GPU and a row remap is pending. */
    ECC_STORM("ecc-storm", true, false),
    /** Xid 79 on the faulty GPU, then the GPU is lost. */
    XID79_GPU_LOST("xid79-gpu-lost", true, false),
    /** Recurring Xid 48/63/64/74/94/95 on the faulty GPU, which keeps working. */
    XID_ERRORS("xid-errors", true, false),
    /** Dozens of short-lived processes with new pids every half second on every GPU. */
    PROCESS_CHURN("process-churn", true, true),
    /**
     * The faulty GPU is held back by its data loader: utilisation near 1 while its SMs are active about 15 % of
     * the time and its tensor pipes about 2 % (a small kernel always running, waiting for input).
     */
    INPUT_STARVED("input-starved", true, false),
    /** The faulty GPU runs memory-bound kernels: DRAM bandwidth near 1, tensor pipes nearly unused. */
    MEMORY_BOUND("memory-bound", true, false);

    private final String label;
    private final boolean fault;
    private final boolean everyGpu;

    Scenario(String label, boolean fault, boolean everyGpu) {
        this.label = label;
        this.fault = fault;
        this.everyGpu = everyGpu;
    }

    /** Kebab-case name used in flags, docs and {@link #parse(String)}. */
    public String label() {
        return label;
    }

    /** Whether this scenario starts a fault when the fault timer runs out (otherwise it holds from the start). */
    public boolean isFault() {
        return fault;
    }

    /** Whether the fault touches every GPU rather than only the faulty one. */
    boolean touchesEveryGpu() {
        return everyGpu;
    }

    /**
     * Accepts the label (case-insensitive, {@code _} for {@code -}) or the enum name.
     *
     * @throws IllegalArgumentException naming the valid labels
     */
    public static Scenario parse(String text) {
        String key = text.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Scenario scenario : values()) {
            if (scenario.label.equals(key)) {
                return scenario;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + text + "'; valid scenarios: "
                + Arrays.stream(values()).map(Scenario::label).collect(Collectors.joining(", ")));
    }
}
