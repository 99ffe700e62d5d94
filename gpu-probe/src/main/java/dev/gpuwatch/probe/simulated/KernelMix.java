package dev.gpuwatch.probe.simulated;

import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import java.util.Map;

/**
 * What a GPU's kernels keep busy, as GPM measures it. Utilisation (NVML's "any kernel running") is the outer
 * bound: the graphics engine is active about that share of the time, the SMs {@code smPerBusy} of it, and each
 * pipe a share of the SM-active time; DRAM bandwidth is a share of NVML's memory utilisation. Splitting it this
 * way keeps every ratio below the one it is part of (SM active never above the engine, tensor never above SM).
 *
 * @param smPerBusy       SM active / graphics engine active
 * @param occupancyPerSm  SM occupancy (resident warps / maximum) / SM active
 * @param tensorPerSm     any tensor pipe / SM active
 * @param hmmaShare       HMMA (FP16/BF16 tensor) share of the tensor time
 * @param immaShare       IMMA (integer tensor) share of the tensor time
 * @param fp16PerSm       FP16 pipe / SM active
 * @param fp32PerSm       FP32 pipe / SM active
 * @param fp64PerSm       FP64 pipe / SM active (and DFMA's share of the tensor time: LLMs use neither)
 * @param integerPerSm    integer pipe / SM active
 * @param dramPerMemory   DRAM bandwidth / NVML memory utilisation
 */
record KernelMix(double smPerBusy, double occupancyPerSm, double tensorPerSm, double hmmaShare, double immaShare,
        double fp16PerSm, double fp32PerSm, double fp64PerSm, double integerPerSm, double dramPerMemory) {

    /**
     * A data-loader-bound job: one small kernel always resident, so utilisation reads near 1 while the SMs are
     * active about 15 % of the time and the tensor pipes about 2 %.
     */
    static final KernelMix INPUT_STARVED = new KernelMix(0.155, 0.45, 0.13, 0.95, 0.0, 0.10, 0.30, 0, 0.40, 0.80);

    /**
     * Memory-bound kernels (embedding lookups, large elementwise passes): many warps resident to hide latency,
     * DRAM bandwidth near 1, tensor pipes nearly idle.
     */
    static final KernelMix MEMORY_BOUND = new KernelMix(0.65, 0.70, 0.06, 0.90, 0.0, 0.05, 0.25, 0, 0.30, 0.985);

    /** How much the SM and tensor shares move with {@code wobble} in [-1, 1]: a few percent, like a real mix. */
    private static final double SM_WOBBLE = 0.02;
    private static final double TENSOR_WOBBLE = 0.03;

    /**
     * Puts the ratio fields (engine, SM, occupancy, tensor and pipe activity, DRAM bandwidth) for utilisation
     * {@code utilization} and memory utilisation {@code memoryUtilization} into {@code out}. Every value is in
     * 0..1 and rounded to 0.01 % (GPM's percent with two decimals); all are 0 when utilisation is 0.
     * DMMA is left out: the simulated driver (R550, NVML 12.4) predates that metric (NVML 13.2.1).
     */
    void putRatios(double utilization, double memoryUtilization, double wobble,
            Map<GpmMetric, Double> out) {
        double graphics = utilization * (0.99 + 0.01 * wobble);
        double sm = graphics * smPerBusy * (1 + SM_WOBBLE * wobble);
        double tensor = sm * tensorPerSm * (1 + TENSOR_WOBBLE * wobble);
        out.put(GpmField.GRAPHICS_ACTIVE.metric(), ratio(graphics));
        out.put(GpmField.SM_ACTIVE.metric(), ratio(sm));
        out.put(GpmField.SM_OCCUPANCY.metric(), ratio(sm * occupancyPerSm));
        out.put(GpmField.INTEGER_PIPE.metric(), ratio(sm * integerPerSm));
        out.put(GpmField.TENSOR_ANY.metric(), ratio(tensor));
        out.put(GpmField.TENSOR_DFMA.metric(), ratio(tensor * fp64PerSm));
        out.put(GpmField.TENSOR_HMMA.metric(), ratio(tensor * hmmaShare));
        out.put(GpmField.TENSOR_IMMA.metric(), ratio(tensor * immaShare));
        out.put(GpmField.DRAM_BANDWIDTH.metric(), ratio(memoryUtilization * dramPerMemory));
        out.put(GpmField.FP64_PIPE.metric(), ratio(sm * fp64PerSm));
        out.put(GpmField.FP32_PIPE.metric(), ratio(sm * fp32PerSm));
        out.put(GpmField.FP16_PIPE.metric(), ratio(sm * fp16PerSm));
    }

    private static double ratio(double value) {
        return Math.round(Math.max(0, Math.min(1, value)) * 10_000) / 10_000.0;
    }
}
