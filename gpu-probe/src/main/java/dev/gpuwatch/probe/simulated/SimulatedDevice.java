package dev.gpuwatch.probe.simulated;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.Values.RemappedRows;
import dev.gpuwatch.probe.Values.XidEvent;
import dev.gpuwatch.probe.simulated.Timeline.Segment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * One simulated GPU. Its constants (identity, workload, ambient temperature, noise) are hashes of (seed, index);
 * every gauge is a function of the time since the fleet opened and the scenario {@link Timeline}. Counters that
 * integrate a rate (energy, NVLink bytes) advance on a fixed one-second grid, so they too depend only on time.
 * GPM values are the one thing that depends on the sampling: like the real ring of two samples, a GPU's first
 * snapshot (and its first after being lost) has none. Guarded by the fleet's lock.
 */
final class SimulatedDevice {
    private static final String DRIVER_VERSION = "550.54.15";
    private static final String CUDA_DRIVER_VERSION = "12.4";

    // Timings of the faults, documented in docs/simulated-fleet.md.
    private static final long SECOND = 1_000_000_000L;
    private static final double THERMAL_RAMP_SECONDS = 45;
    private static final double THERMAL_TARGET_CELSIUS = 93;
    private static final double LEAK_FULL_SECONDS = 120;
    private static final long LOST_AFTER_XID_NANOS = 30 * SECOND;
    private static final long XID_PERIOD_NANOS = 20 * SECOND;
    private static final long[] XID_CYCLE = {48, 63, 64, 74, 94, 95};
    private static final long ECC_UNCORRECTED_PERIOD_NANOS = 5 * SECOND;
    private static final long ECC_CORRECTED_PERIOD_NANOS = SECOND;
    private static final long ROW_REMAP_PERIOD_NANOS = 60 * SECOND;
    private static final int MAX_REMAPPED_ROWS = 8;
    private static final int CHURN_SLOTS = 24;
    private static final long CHURN_LIFETIME_NANOS = 12 * SECOND;
    private static final long CHURN_STAGGER_NANOS = SECOND / 2;
    private static final double DIURNAL_LAG_SECONDS_PER_GPU = 1800;
    /** Of the GPU's busy time, what each churn worker takes (the long-running processes share the rest). */
    private static final double CHURN_BUSY_SHARE = 0.01;
    /** How much of a full load a starved GPU's resident kernel is: what its power and NVLink traffic follow. */
    private static final double STARVED_LOAD = 0.35;

    private static final long MIB = 1L << 20;
    private static final double DAY_SECONDS = 86_400;
    private static final int CHURN_PID_FIRST = 2_500_000;
    private static final int CHURN_PID_SPAN = 1_600_000;
    private static final String[] HGX_BUSES = {"18", "2A", "3A", "5D", "9A", "AB", "BA", "DB"};

    // One hash key per independent stream of constants. Append only: each ordinal is part of the hashes, so
    // reordering would change every UUID, serial and pid a seed gives.
    private enum Key { UUID_HI, UUID_LO, SERIAL, LEVEL, AMBIENT, WORKLOAD, PID, MEMORY, WOBBLE, NVLINK, PCIE,
        ECC, REMAP, REPLAY, UPTIME, CHURN_COMMAND, CHURN_MEMORY, UTIL, MEM_UTIL, POWER, TEMP, MEM_TEMP, PLATEAU,
        PCIE_NOISE, GPM_MIX, GPM_NOISE, NVLINK_LINK, BUSY_SHARE }

    private enum Workload { VLLM, TRITON, PYTHON }

    /** A host process as the fleet shows it: its pid and, when /proc could tell, its command. */
    record ShownProcess(int pid, Optional<String> command) {}

    /**
     * A long-running process of the GPU's workload: its memory is a share of the board, optionally wobbling;
     * {@code busyShare} is its share of the GPU's busy time (the per-process SM and memory utilisation);
     * {@code mps} marks an MPS client.
     */
    private record BaseProcess(int pid, String command, double memoryShare, double wobble, double wobblePeriod,
            double wobblePhase, double busyShare, boolean mps) {}

    /** PCIe throughput in bytes per second, as NVML reports it (KiB/s resolution). */
    private record Pcie(double rx, double tx) {}

    private final GpuModel model;
    private final long seed;
    private final int index;
    private final int devices;
    private final boolean faulty;
    private final Timeline timeline;
    private final Instant start;
    private final String uuid;
    private final String serial;
    private final String pciBusId;
    private final double utilLevel;
    private final double ambientCelsius;
    private final List<BaseProcess> workload;
    private final double nvlinkBytesPerSecond;
    private final double nvlinkRxFactor;
    private final double pcieRxPeak;
    private final double pcieTxPeak;
    private final long eccCorrectedLifetime;
    private final long remappedCorrectedRows;
    private final long replayAtStart;
    private final long replaysPerHour;
    private final long churnPidBase;
    private final Noise utilNoise;
    private final Noise memUtilNoise;
    private final Noise powerNoise;
    private final Noise tempNoise;
    private final Noise memTempNoise;
    private final Noise plateauNoise;
    private final Noise pcieNoise;
    private final Noise gpmNoise;
    private final KernelMix mix;
    private final double[] nvlinkLinkShares;
    /** A GPM sample was taken at the previous snapshot: this one can compute metrics from the two. */
    private boolean gpmWindow;

    // energy (J), NVLink tx and rx (bytes) at gridSecond; advanced by integrate()
    private long gridSecond;
    private final double[] integrals = new double[3];

    /**
     * @param shown a real process of this host (pid and, when /proc could tell, its command) that takes the
     *     place of the first workload process; its memory curve stays the simulated one
     */
    SimulatedDevice(SimulationOptions options, int index, int faultyIndex, Timeline timeline, Instant start,
            Optional<ShownProcess> shown) {
        this.model = options.model();
        this.seed = options.seed();
        this.index = index;
        this.devices = options.devices();
        this.faulty = index == faultyIndex;
        this.timeline = timeline;
        this.start = start;
        long hi = hash(Key.UUID_HI);
        long lo = hash(Key.UUID_LO);
        this.uuid = "GPU-%08x-%04x-%04x-%04x-%012x".formatted(hi >>> 32, (hi >>> 16) & 0xFFFF, hi & 0xFFFF,
                lo >>> 48, lo & 0xFFFF_FFFF_FFFFL);
        this.serial = Long.toString(1_320_000_000_000L + Math.floorMod(hash(Key.SERIAL), 680_000_000_000L));
        this.pciBusId = "%08X:%s:00.0".formatted(index / HGX_BUSES.length, HGX_BUSES[index % HGX_BUSES.length]);
        this.utilLevel = range(0.5, 0.8, Key.LEVEL);
        this.ambientCelsius = range(27, 31, Key.AMBIENT);
        List<BaseProcess> simulated = workload(faulty ? Workload.VLLM : pickWorkload());
        this.workload = shown.map(host -> withFirstProcessShownAs(simulated, host)).orElse(simulated);
        this.nvlinkBytesPerSecond = model.hasNvlink() ? range(5e9, 4e10, Key.NVLINK) : 0;
        this.nvlinkRxFactor = range(0.97, 1.03, Key.NVLINK, 1);
        this.pcieRxPeak = range(4e8, 1.2e9, Key.PCIE);
        this.pcieTxPeak = range(1e8, 4e8, Key.PCIE, 1);
        this.eccCorrectedLifetime = unit(Key.ECC) < 0.6 ? 0 : 1 + (long) (12 * unit(Key.ECC, 1));
        this.remappedCorrectedRows = unit(Key.REMAP) < 0.85 ? 0 : 1;
        this.replayAtStart = unit(Key.REPLAY) < 0.75 ? 0 : 1 + (long) (5 * unit(Key.REPLAY, 1));
        this.replaysPerHour = unit(Key.REPLAY, 2) < 0.8 ? 0 : 1;
        this.churnPidBase = Math.floorMod(Seeds.hash(seed, Key.PID.ordinal(), -1), CHURN_PID_SPAN);
        this.utilNoise = noise(Key.UTIL);
        this.memUtilNoise = noise(Key.MEM_UTIL);
        this.powerNoise = noise(Key.POWER);
        this.tempNoise = noise(Key.TEMP);
        this.memTempNoise = noise(Key.MEM_TEMP);
        this.plateauNoise = noise(Key.PLATEAU);
        this.pcieNoise = noise(Key.PCIE_NOISE);
        this.gpmNoise = noise(Key.GPM_NOISE);
        // An LLM serving mix: SMs active most of the busy time, tensor pipes (mostly HMMA: FP16/BF16) half of that.
        this.mix = new KernelMix(range(0.88, 0.95, Key.GPM_MIX, 0), range(0.35, 0.5, Key.GPM_MIX, 1),
                range(0.5, 0.65, Key.GPM_MIX, 2), range(0.9, 0.97, Key.GPM_MIX, 3), range(0.01, 0.03, Key.GPM_MIX, 4),
                range(0.1, 0.2, Key.GPM_MIX, 5), range(0.15, 0.25, Key.GPM_MIX, 6), 0,
                range(0.1, 0.2, Key.GPM_MIX, 7), range(0.75, 0.85, Key.GPM_MIX, 8));
        this.nvlinkLinkShares = linkShares(model.gpmNvlinks());
        // The energy counter runs since driver load, some days before the fleet opened; NVLink counters from 0.
        integrals[0] = Math.floor(range(2, 30, Key.UPTIME) * DAY_SECONDS * model.idlePowerWatts() * 3);
    }

    /**
     * The snapshot at {@code t}; counters are read at {@code counterT} ({@code >= t}, the latest time ever
     * sampled) so that they never go down when the clock does.
     */
    GpuSnapshot snapshot(long t, long counterT, Instant takenAt) {
        GpuSnapshot.Builder b = GpuSnapshot.builder(index, takenAt).uuid(uuid);
        double[] integrated = integrate(counterT);
        Moment m = moment(t);
        if (m.lost()) {
            gpmWindow = false; // the ring starts again once the GPU is back
            return b.state(DeviceState.LOST,
                    "GPU is lost (NVML_ERROR_GPU_IS_LOST): fell off the bus after Xid 79").build();
        }
        b.name(model.nvmlName()).serial(serial).pciBusId(pciBusId)
                .driverVersion(DRIVER_VERSION).cudaDriverVersion(CUDA_DRIVER_VERSION)
                .computeCapability(model.computeCapabilityMajor(), model.computeCapabilityMinor())
                .cudaOrdinal(index).smCount(model.smCount());

        b.gpuUtilization(m.utilization()).memoryUtilization(m.memoryUtilization()).decoderUtilization(0);
        if (model.hasEncoder()) {
            b.encoderUtilization(0);
        }

        List<GpuProcess> processes = processes(m);
        long used = 0;
        for (GpuProcess process : processes) {
            used += process.usedMemoryBytes().orElse(0);
        }
        b.memoryTotalBytes(model.memoryTotalBytes()).memoryReservedBytes(model.memoryReservedBytes())
                .memoryUsedBytes(used).memoryFreeBytes(usableMemory() - used)
                .processes(processes);

        double power = powerWatts(m);
        double rawTemp = temperature(m);
        long temp = Math.round(rawTemp);
        b.gpuTemperatureCelsius(temp).powerWatts(power).powerLimitWatts(model.powerLimitWatts())
                .energyJoules(Math.floor(integrated[0] * 1000) / 1000);
        if (model.hasMemoryTemperature()) {
            b.memoryTemperatureCelsius(Math.round(rawTemp + 4 + 0.9 * memTempNoise.at(m.s())));
        }
        if (model.hasFan()) {
            b.fanSpeedRatio(percent(clamp(0.3 + 0.7 * (temp - 35) / 50.0, 0.3, 1.0)));
        }
        int pState = processes.isEmpty() ? model.idlePerformanceState() : 0;
        b.performanceState(pState);
        clocks(b, m, power, pState);

        eccAndXids(b, counterT);
        b.pcieReplayErrors(replayAtStart + (long) (seconds(counterT) * replaysPerHour / 3600));
        Pcie pcie = pcie(m.utilization(), m.s());
        b.pcieRxBytesPerSecond(pcie.rx()).pcieTxBytesPerSecond(pcie.tx());
        b.gpmSupported(model.supportsGpm());
        if (model.supportsGpm()) {
            if (gpmWindow) {
                b.gpm(gpm(m, pcie));
            }
            gpmWindow = true;
        }
        if (model.hasNvlink()) {
            b.nvlinkTxBytes((long) integrated[1]).nvlinkRxBytes((long) integrated[2]);
        }
        if (model.supportsMig()) {
            b.migEnabled(false);
        }
        return b.build();
    }

    // ---- activity, power, temperature -------------------------------------------------------------------

    /**
     * What every value at one instant derives from: the scenario segment, whether this GPU's fault is on and
     * for how long, how busy the GPU is, what its kernels keep busy ({@code mix}) and how much of a full load
     * that is ({@code load}: what power and NVLink traffic follow; the utilisation but for a starved GPU).
     * Computed once per instant.
     */
    private record Moment(long t, double s, Segment segment, boolean fault, double sinceFault, double utilization,
            double memoryUtilization, KernelMix mix, double load, boolean lost) {

        Scenario scenario() {
            return segment.scenario();
        }

        boolean faultIs(Scenario scenario) {
            return fault && segment.scenario() == scenario;
        }

        boolean thermalPlateau() {
            return faultIs(Scenario.THERMAL_THROTTLING) && sinceFault >= THERMAL_RAMP_SECONDS;
        }
    }

    private Moment moment(long t) {
        Segment segment = timeline.at(t);
        Scenario scenario = segment.scenario();
        boolean fault = scenario.isFault() && (faulty || scenario.touchesEveryGpu()) && segment.sinceFault(t) >= 0;
        double since = seconds(segment.sinceFault(t));
        double s = seconds(t);
        if (fault && scenario == Scenario.XID79_GPU_LOST && segment.sinceFault(t) >= LOST_AFTER_XID_NANOS) {
            return new Moment(t, s, segment, true, since, 0, 0, mix, 0, true);
        }
        double u = switch (scenario) {
            case IDLE -> 0;
            case DIURNAL -> clamp(0.55 - 0.4 * Math.cos(2 * Math.PI * (s - index * DIURNAL_LAG_SECONDS_PER_GPU)
                    / DAY_SECONDS) + 0.04 * utilNoise.at(s), 0.1, 0.98);
            default -> clamp(utilLevel + 0.12 * utilNoise.at(s), 0.35, 0.95);
        };
        if (fault) {
            switch (scenario) {
                case IDLE_ALLOCATED, XID79_GPU_LOST -> u = 0;
                case POWER_THROTTLING -> u = clamp(0.965 + 0.015 * utilNoise.at(s), 0.95, 1.0);
                case INPUT_STARVED -> u = clamp(0.97 + 0.015 * utilNoise.at(s), 0.95, 0.99);
                case MEMORY_BOUND -> u = clamp(0.93 + 0.02 * utilNoise.at(s), 0.9, 0.96);
                default -> { }
            }
        }
        u = percent(u);
        double memUtil = u == 0 ? 0 : percent(clamp(0.2 + 0.5 * u + 0.05 * memUtilNoise.at(s), 0, 1));
        KernelMix kernels = mix;
        double load = u;
        if (fault && scenario == Scenario.INPUT_STARVED) {
            memUtil = percent(clamp(0.08 + 0.02 * memUtilNoise.at(s), 0.04, 0.12));
            kernels = KernelMix.INPUT_STARVED;
            load = STARVED_LOAD * u;
        } else if (fault && scenario == Scenario.MEMORY_BOUND) {
            memUtil = percent(clamp(0.97 + 0.015 * memUtilNoise.at(s), 0.94, 1.0));
            kernels = KernelMix.MEMORY_BOUND;
        }
        return new Moment(t, s, segment, fault, since, u, memUtil, kernels, load, false);
    }

    /** Board draw, in watts with NVML's milliwatt resolution; 0 while lost. */
    private double powerWatts(Moment m) {
        if (m.lost()) {
            return 0;
        }
        double n = powerNoise.at(m.s());
        double idle = model.idlePowerWatts();
        double limit = model.powerLimitWatts();
        double p;
        if (m.utilization() == 0) {
            // a loaded CUDA context keeps the board slightly above its bare idle draw
            p = idle * (m.scenario() == Scenario.IDLE ? 1.0 : 1.08) * (1 + 0.03 * n);
        } else {
            p = (idle + (0.88 * limit - idle) * m.load() * (0.9 + 0.1 * m.memoryUtilization()))
                    * (1 + 0.01 * n);
        }
        if (m.faultIs(Scenario.POWER_THROTTLING)) {
            p = limit * (0.9925 + 0.0075 * n);
        } else if (m.thermalPlateau()) {
            p *= 0.8;
        }
        return Math.round(p * 1000) / 1000.0;
    }

    /** Die temperature: ambient plus a share of the mean draw over the last minute, so it lags power. */
    private double temperature(Moment m) {
        double sum = 0;
        for (int k = 0; k < 9; k++) {
            sum += powerWatts(moment(Math.max(0, m.t() - k * 7_500_000_000L)));
        }
        double temp = ambientCelsius + 46 * (sum / 9) / model.powerLimitWatts() + 0.5 * tempNoise.at(m.s());
        if (m.faultIs(Scenario.THERMAL_THROTTLING)) {
            double ramp = Math.min(1, m.sinceFault() / THERMAL_RAMP_SECONDS);
            double target = THERMAL_TARGET_CELSIUS + 0.8 * plateauNoise.at(m.s());
            temp += ramp * (target - temp);
        }
        return temp;
    }

    private void clocks(GpuSnapshot.Builder b, Moment m, double power, int pState) {
        Set<ClockEventReason> reasons = EnumSet.noneOf(ClockEventReason.class);
        long sm;
        long memory;
        long video;
        if (m.utilization() == 0) {
            reasons.add(ClockEventReason.GPU_IDLE);
            sm = model.idleSmClockMhz();
            memory = pState == 0 ? model.maxMemoryClockMhz() : model.idleMemoryClockMhz();
            video = bin15(model.maxVideoClockMhz() * 0.45);
        } else {
            sm = model.maxSmClockMhz() - bin15(model.maxSmClockMhz() * 0.04 * power / model.powerLimitWatts());
            if (m.faultIs(Scenario.POWER_THROTTLING)) {
                reasons.add(ClockEventReason.SW_POWER_CAP);
                sm = bin15(model.maxSmClockMhz() * 0.85);
            } else if (m.thermalPlateau()) {
                reasons.addAll(EnumSet.of(ClockEventReason.SW_THERMAL_SLOWDOWN,
                        ClockEventReason.HW_THERMAL_SLOWDOWN, ClockEventReason.HW_SLOWDOWN));
                sm = bin15(model.maxSmClockMhz() * 0.6);
            }
            memory = model.maxMemoryClockMhz();
            video = bin15(model.maxVideoClockMhz() * 0.9);
        }
        b.clockHertz(ClockType.SM, sm * 1_000_000).clockHertz(ClockType.GRAPHICS, sm * 1_000_000)
                .clockHertz(ClockType.MEMORY, memory * 1_000_000).clockHertz(ClockType.VIDEO, video * 1_000_000)
                .maxClockHertz(ClockType.SM, model.maxSmClockMhz() * 1_000_000L)
                .maxClockHertz(ClockType.GRAPHICS, model.maxGraphicsClockMhz() * 1_000_000L)
                .maxClockHertz(ClockType.MEMORY, model.maxMemoryClockMhz() * 1_000_000L)
                .maxClockHertz(ClockType.VIDEO, model.maxVideoClockMhz() * 1_000_000L)
                .clockEventReasons(reasons);
    }

    private Pcie pcie(double u, double s) {
        double n = pcieNoise.at(s);
        double rx = u == 0 ? 4096 * (1 + 0.5 * n) : u * pcieRxPeak * (1 + 0.1 * n);
        double tx = u == 0 ? 2048 * (1 + 0.5 * n) : u * pcieTxPeak * (1 - 0.1 * n);
        // NVML reports KiB/s
        return new Pcie(Math.round(rx / 1024) * 1024.0, Math.round(tx / 1024) * 1024.0);
    }

    // ---- GPU Performance Monitoring -------------------------------------------------------------------

    /**
     * The GPM values at this instant: the kernel mix's ratios; PCIe exactly what the PCIe fields say; NVLink
     * the rate the byte counters integrate, split over the links by fixed seeded shares; the media engines idle
     * (LLM serving decodes nothing). NVENC is absent (Hopper has none), and so is DMMA (see {@link KernelMix}).
     */
    private Map<GpmMetric, Double> gpm(Moment m, Pcie pcie) {
        Map<GpmMetric, Double> values = new TreeMap<>();
        m.mix().putRatios(m.utilization(), m.memoryUtilization(), gpmNoise.at(m.s()), values);
        values.put(GpmField.PCIE_TX.metric(), pcie.tx());
        values.put(GpmField.PCIE_RX.metric(), pcie.rx());
        for (int i = 0; i < model.gpmDecoders(); i++) {
            values.put(GpmField.NVDEC.metric(i), 0.0);
        }
        for (int i = 0; i < model.gpmJpegDecoders(); i++) {
            values.put(GpmField.NVJPG.metric(i), 0.0);
        }
        for (int i = 0; i < model.gpmOpticalFlowEngines(); i++) {
            values.put(GpmField.NVOFA.metric(i), 0.0);
        }
        if (nvlinkLinkShares.length > 0) {
            double[] rates = nvlinkRates(m);
            values.put(GpmField.NVLINK_TX.metric(), rates[0]);
            values.put(GpmField.NVLINK_RX.metric(), rates[1]);
            for (int link = 0; link < nvlinkLinkShares.length; link++) {
                values.put(GpmField.NVLINK_LINK_TX.metric(link), rates[0] * nvlinkLinkShares[link]);
                values.put(GpmField.NVLINK_LINK_RX.metric(link), rates[1] * nvlinkLinkShares[link]);
            }
        }
        return values;
    }

    /** NVLink tx and rx in bytes per second: what the byte counters add up each second. */
    private double[] nvlinkRates(Moment m) {
        double tx = m.load() * nvlinkBytesPerSecond;
        return new double[] {tx, tx * nvlinkRxFactor};
    }

    /** Each link's share of the NVLink traffic: within about 10 % of an even split, adding up to 1. */
    private double[] linkShares(int links) {
        double[] shares = new double[links];
        double sum = 0;
        for (int i = 0; i < links; i++) {
            shares[i] = range(0.9, 1.1, Key.NVLINK_LINK, i);
            sum += shares[i];
        }
        for (int i = 0; i < links; i++) {
            shares[i] /= sum;
        }
        return shares;
    }

    // ---- memory and processes ---------------------------------------------------------------------------

    private long usableMemory() {
        return model.memoryTotalBytes() - model.memoryReservedBytes();
    }

    private List<GpuProcess> processes(Moment m) {
        if (m.scenario() == Scenario.IDLE) {
            return List.of();
        }
        long[] memory = new long[workload.size()];
        long others = 0;
        for (int i = 0; i < memory.length; i++) {
            BaseProcess p = workload.get(i);
            double wobble = 1 + p.wobble() * Math.sin(2 * Math.PI * m.s() / p.wobblePeriod() + p.wobblePhase());
            memory[i] = floorMib(p.memoryShare() * wobble * model.memoryTotalBytes());
            others += i == 0 ? 0 : memory[i];
        }
        if (m.faultIs(Scenario.MEMORY_LEAK)) {
            double grown = m.sinceFault() / LEAK_FULL_SECONDS;
            long full = usableMemory() - others;
            memory[0] = grown >= 1 ? full : memory[0] + floorMib((full - memory[0]) * grown);
        }
        List<GpuProcess> processes = new ArrayList<>();
        for (int i = 0; i < memory.length; i++) {
            BaseProcess p = workload.get(i);
            processes.add(process(p.pid(), p.command(), memory[i], p.mps()));
        }
        if (m.faultIs(Scenario.PROCESS_CHURN)) {
            addChurnWorkers(processes, m.segment().sinceFault(m.t()));
        }
        return withUtilization(processes, m);
    }

    /**
     * Each process's SM and memory utilisation, as nvmlDeviceGetProcessesUtilizationInfo reports it: its share of
     * the GPU's utilisation and memory utilisation (time-based, like NVML's; GPM's SM active is what tells how
     * much of the SMs the time was worth), in whole percent adding up exactly to the device's. Churn workers take
     * {@value #CHURN_BUSY_SHARE} of the busy time each. A GPU running nothing (utilisation 0) gives no samples,
     * so its processes have no utilisation, as with NVML's NOT_FOUND.
     */
    private List<GpuProcess> withUtilization(List<GpuProcess> processes, Moment m) {
        if (m.utilization() == 0) {
            return processes;
        }
        int churn = processes.size() - workload.size();
        double[] weights = new double[processes.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = i < workload.size()
                    ? workload.get(i).busyShare() * (1 - churn * CHURN_BUSY_SHARE)
                    : CHURN_BUSY_SHARE;
        }
        double[] sm = splitPercent(m.utilization(), weights);
        double[] memory = splitPercent(m.memoryUtilization(), weights);
        List<GpuProcess> out = new ArrayList<>(processes.size());
        for (int i = 0; i < weights.length; i++) {
            out.add(processes.get(i).withUtilization(sm[i], memory[i]));
        }
        return out;
    }

    /**
     * Splits {@code total} (a ratio in whole percent) in proportion to {@code weights} into whole percents that
     * add up to it exactly: each part rounded down, the percents left over to the largest remainders (the first
     * on a tie).
     */
    private static double[] splitPercent(double total, double[] weights) {
        long units = Math.round(total * 100);
        double sum = 0;
        for (double w : weights) {
            sum += w;
        }
        long[] parts = new long[weights.length];
        double[] remainders = new double[weights.length];
        long given = 0;
        for (int i = 0; i < weights.length; i++) {
            double exact = units * weights[i] / sum;
            parts[i] = (long) Math.floor(exact);
            remainders[i] = exact - parts[i];
            given += parts[i];
        }
        for (long left = units - given; left > 0; left--) {
            int best = 0;
            for (int i = 1; i < weights.length; i++) {
                if (remainders[i] > remainders[best]) {
                    best = i;
                }
            }
            parts[best]++;
            remainders[best] = -1;
        }
        double[] ratios = new double[weights.length];
        for (int i = 0; i < weights.length; i++) {
            ratios[i] = parts[i] / 100.0;
        }
        return ratios;
    }

    /** Slot k starts its first worker k half-seconds after T0 and replaces it with a new pid every 12 s. */
    private void addChurnWorkers(List<GpuProcess> processes, long sinceFault) {
        for (int slot = 0; slot < CHURN_SLOTS; slot++) {
            long alive = sinceFault - slot * CHURN_STAGGER_NANOS;
            if (alive < 0) {
                continue;
            }
            long generation = alive / CHURN_LIFETIME_NANOS;
            long serialNumber = (generation * CHURN_SLOTS + slot) * devices + index;
            int pid = CHURN_PID_FIRST + (int) Math.floorMod(churnPidBase + serialNumber, (long) CHURN_PID_SPAN);
            String command = (hash(Key.CHURN_COMMAND, generation, slot) & 1) == 0 ? "python3" : "pt_main_thread";
            long memory = floorMib(model.memoryTotalBytes() * range(0.0015, 0.0025, Key.CHURN_MEMORY, generation, slot));
            processes.add(process(pid, command, memory, false));
        }
    }

    private static GpuProcess process(int pid, String command, long memory, boolean mps) {
        return new GpuProcess(pid, Optional.of(command), OptionalLong.of(memory), OptionalInt.empty(),
                OptionalInt.empty(), OptionalDouble.empty(), OptionalDouble.empty(), mps);
    }

    /** Replaces the first workload process's pid and command; every hash stays as it was, so nothing else moves. */
    private static List<BaseProcess> withFirstProcessShownAs(List<BaseProcess> workload, ShownProcess host) {
        List<BaseProcess> out = new ArrayList<>(workload);
        BaseProcess first = out.getFirst();
        out.set(0, new BaseProcess(host.pid(), host.command().orElse(first.command()), first.memoryShare(),
                first.wobble(), first.wobblePeriod(), first.wobblePhase(), first.busyShare(), first.mps()));
        return List.copyOf(out);
    }

    private Workload pickWorkload() {
        double r = unit(Key.WORKLOAD);
        return r < 0.5 ? Workload.VLLM : r < 0.75 ? Workload.TRITON : Workload.PYTHON;
    }

    private List<BaseProcess> workload(Workload kind) {
        int firstPid = 1200 + (int) Math.floorMod(hash(Key.PID), 2_398_800L);
        return switch (kind) {
            // vLLM pre-allocates its KV cache: a constant share of the board
            case VLLM -> List.of(new BaseProcess(firstPid, "vllm", range(0.72, 0.78, Key.MEMORY), 0, 1, 0, 1, false));
            case TRITON -> List.of(new BaseProcess(firstPid, "tritonserver", range(0.35, 0.55, Key.MEMORY), 0, 1, 0,
                    1, false));
            // PyTorch's caching allocator grows and shrinks a little; the two processes share the GPU through MPS
            case PYTHON -> {
                double busy = range(0.35, 0.65, Key.BUSY_SHARE);
                yield List.of(
                        new BaseProcess(firstPid, "python3", range(0.10, 0.25, Key.MEMORY), 0.03,
                                range(400, 900, Key.WOBBLE), range(0, 2 * Math.PI, Key.WOBBLE, 1), busy, true),
                        new BaseProcess(firstPid + 1 + (int) Math.floorMod(hash(Key.PID, 1), 5000L), "python3",
                                range(0.10, 0.25, Key.MEMORY, 1), 0.03,
                                range(400, 900, Key.WOBBLE, 2), range(0, 2 * Math.PI, Key.WOBBLE, 3), 1 - busy, true));
            }
        };
    }

    // ---- counters -------------------------------------------------------------------------------------

    /** Energy and NVLink bytes at {@code t}: left Riemann sums on a one-second grid, then the partial second. */
    private double[] integrate(long t) {
        long target = t / SECOND;
        while (gridSecond < target) {
            double[] rates = rates(gridSecond * SECOND);
            for (int i = 0; i < integrals.length; i++) {
                integrals[i] += rates[i];
            }
            gridSecond++;
        }
        double[] rates = rates(gridSecond * SECOND);
        double partial = seconds(t - gridSecond * SECOND);
        double[] values = new double[integrals.length];
        for (int i = 0; i < integrals.length; i++) {
            values[i] = integrals[i] + partial * rates[i];
        }
        return values;
    }

    private double[] rates(long t) {
        Moment m = moment(t);
        double[] nvlink = nvlinkRates(m);
        return new double[] {powerWatts(m), nvlink[0], nvlink[1]};
    }

    /** ECC and Xid counters: the sum of what every scenario run so far produced on this GPU. */
    private void eccAndXids(GpuSnapshot.Builder b, long t) {
        long corrected = 0;
        long uncorrected = 0;
        long remapped = 0;
        boolean pending = false;
        Map<Long, Long> xids = new TreeMap<>();
        Optional<XidEvent> lastXid = Optional.empty();
        if (faulty) {
            for (Segment segment : timeline.upTo(t)) {
                long since = segment.sinceFault(segment.clip(t));
                switch (segment.scenario()) {
                    case ECC_STORM -> {
                        uncorrected += events(since, ECC_UNCORRECTED_PERIOD_NANOS);
                        corrected += events(since, ECC_CORRECTED_PERIOD_NANOS);
                        remapped += events(since, ROW_REMAP_PERIOD_NANOS);
                        pending = segment.endNanos() > t && since >= 0;
                    }
                    case XID79_GPU_LOST -> {
                        if (since >= 0) {
                            xids.merge(79L, 1L, Long::sum);
                            lastXid = Optional.of(xidAt(79, segment, 0));
                        }
                    }
                    case XID_ERRORS -> {
                        long n = events(since, XID_PERIOD_NANOS);
                        for (int c = 0; c < XID_CYCLE.length && c < n; c++) {
                            xids.merge(XID_CYCLE[c], (n - 1 - c) / XID_CYCLE.length + 1, Long::sum);
                        }
                        if (n > 0) {
                            lastXid = Optional.of(xidAt(XID_CYCLE[(int) ((n - 1) % XID_CYCLE.length)], segment,
                                    (n - 1) * XID_PERIOD_NANOS));
                        }
                    }
                    default -> { }
                }
            }
        }
        b.eccErrors(new EccErrors(OptionalLong.of(corrected), OptionalLong.of(uncorrected),
                OptionalLong.of(eccCorrectedLifetime + corrected), OptionalLong.of(uncorrected)));
        if (model.hasRowRemapping()) {
            b.remappedRows(new RemappedRows(remappedCorrectedRows, Math.min(MAX_REMAPPED_ROWS, remapped), pending,
                    false));
        }
        b.xidErrorCounts(xids);
        lastXid.ifPresent(b::lastXid);
    }

    private XidEvent xidAt(long code, Segment segment, long afterFault) {
        return new XidEvent(code, start.plusNanos(segment.startNanos() + segment.faultAfterNanos() + afterFault));
    }

    /** Events at 0, period, 2 period, ... after the fault began, counted up to {@code since}. */
    private static long events(long since, long period) {
        return since < 0 ? 0 : since / period + 1;
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private long hash(Key key, long... more) {
        long[] keys = new long[more.length + 2];
        keys[0] = index;
        keys[1] = key.ordinal();
        System.arraycopy(more, 0, keys, 2, more.length);
        return Seeds.hash(seed, keys);
    }

    private double unit(Key key, long... more) {
        return Seeds.unit(hash(key, more));
    }

    private double range(double lo, double hi, Key key, long... more) {
        return lo + (hi - lo) * unit(key, more);
    }

    private Noise noise(Key key) {
        return Noise.of(seed, index, key.ordinal());
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** NVML reports utilisation and fan speed in whole percent. */
    private static double percent(double ratio) {
        return Math.round(ratio * 100) / 100.0;
    }

    /** Clocks move in 15 MHz bins. */
    private static long bin15(double mhz) {
        return Math.round(mhz / 15) * 15;
    }

    private static long floorMib(double bytes) {
        return (long) Math.floor(bytes / MIB) * MIB;
    }
}
