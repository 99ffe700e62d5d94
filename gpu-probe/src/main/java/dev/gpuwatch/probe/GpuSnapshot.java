package dev.gpuwatch.probe;

import dev.gpuwatch.probe.Values.ComputeCapability;
import dev.gpuwatch.probe.Values.CudaHealth;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.Values.MigDevice;
import dev.gpuwatch.probe.Values.MigGpm;
import dev.gpuwatch.probe.Values.RemappedRows;
import dev.gpuwatch.probe.Values.XidEvent;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything known about one device in one sample. Immutable. Every field but {@code index}, {@code state} and
 * {@code takenAt} is optional: a value the device or driver does not support is absent, never 0.
 *
 * <p>Units are base units already: bytes, ratios 0..1, degrees Celsius, watts, joules, hertz, bytes/second.
 * Counters ({@code energyJoules}, ECC, replay, NVLink bytes, Xid counts) are monotonic since driver load or
 * probe start, never rates.
 *
 * <p>{@code gpmSupported} says whether the device gives GPU Performance Monitoring at all (absent: the backend
 * cannot tell, e.g. an older driver without the symbols). {@code gpm} holds the values of the last sample
 * window: empty on a device without GPM and on the first sample (two samples are needed); a metric the device
 * cannot give is missing from the map, never 0. {@code migGpm} has the same per MIG GPU instance.
 */
public record GpuSnapshot(
        int index,
        Optional<String> uuid,
        DeviceState state,
        Optional<String> stateReason,
        Instant takenAt,
        // identity
        Optional<String> name,
        Optional<String> serial,
        Optional<String> pciBusId,
        Optional<String> driverVersion,
        Optional<String> cudaDriverVersion,
        Optional<ComputeCapability> computeCapability,
        OptionalInt cudaOrdinal,
        OptionalInt smCount,
        // utilisation
        OptionalDouble gpuUtilization,
        OptionalDouble memoryUtilization,
        OptionalDouble encoderUtilization,
        OptionalDouble decoderUtilization,
        // memory
        OptionalLong memoryTotalBytes,
        OptionalLong memoryUsedBytes,
        OptionalLong memoryFreeBytes,
        OptionalLong memoryReservedBytes,
        // thermal, power, energy
        OptionalDouble gpuTemperatureCelsius,
        OptionalDouble memoryTemperatureCelsius,
        OptionalDouble powerWatts,
        OptionalDouble powerLimitWatts,
        OptionalDouble energyJoules,
        OptionalDouble fanSpeedRatio,
        OptionalInt performanceState,
        // clocks
        Map<ClockType, Long> clocksHertz,
        Map<ClockType, Long> maxClocksHertz,
        Optional<Set<ClockEventReason>> clockEventReasons,
        // errors
        Optional<EccErrors> eccErrors,
        Optional<RemappedRows> remappedRows,
        Map<Long, Long> xidErrorCounts,
        Optional<XidEvent> lastXid,
        // interconnect
        OptionalDouble pcieTxBytesPerSecond,
        OptionalDouble pcieRxBytesPerSecond,
        OptionalLong pcieReplayErrors,
        OptionalLong nvlinkTxBytes,
        OptionalLong nvlinkRxBytes,
        // partitioning and processes
        Optional<Boolean> migEnabled,
        List<MigDevice> migDevices,
        Optional<List<GpuProcess>> processes,
        // profiling (GPM)
        Optional<Boolean> gpmSupported,
        SortedMap<GpmMetric, Double> gpm,
        List<MigGpm> migGpm,
        // active check
        Optional<CudaHealth> cudaHealth) {

    public GpuSnapshot {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(takenAt, "takenAt");
        clocksHertz = Map.copyOf(clocksHertz);
        maxClocksHertz = Map.copyOf(maxClocksHertz);
        clockEventReasons = clockEventReasons.map(Set::copyOf);
        xidErrorCounts = Map.copyOf(xidErrorCounts);
        migDevices = List.copyOf(migDevices);
        processes = processes.map(List::copyOf);
        gpm = Values.sorted(gpm);
        migGpm = List.copyOf(migGpm);
    }

    public boolean isUp() {
        return state == DeviceState.OK;
    }

    public static Builder builder(int index, Instant takenAt) {
        return new Builder(index, takenAt);
    }

    public Builder toBuilder() {
        Builder b = new Builder(index, takenAt);
        b.uuid = uuid;
        b.state = state;
        b.stateReason = stateReason;
        b.name = name;
        b.serial = serial;
        b.pciBusId = pciBusId;
        b.driverVersion = driverVersion;
        b.cudaDriverVersion = cudaDriverVersion;
        b.computeCapability = computeCapability;
        b.cudaOrdinal = cudaOrdinal;
        b.smCount = smCount;
        b.gpuUtilization = gpuUtilization;
        b.memoryUtilization = memoryUtilization;
        b.encoderUtilization = encoderUtilization;
        b.decoderUtilization = decoderUtilization;
        b.memoryTotalBytes = memoryTotalBytes;
        b.memoryUsedBytes = memoryUsedBytes;
        b.memoryFreeBytes = memoryFreeBytes;
        b.memoryReservedBytes = memoryReservedBytes;
        b.gpuTemperatureCelsius = gpuTemperatureCelsius;
        b.memoryTemperatureCelsius = memoryTemperatureCelsius;
        b.powerWatts = powerWatts;
        b.powerLimitWatts = powerLimitWatts;
        b.energyJoules = energyJoules;
        b.fanSpeedRatio = fanSpeedRatio;
        b.performanceState = performanceState;
        b.clocksHertz.putAll(clocksHertz);
        b.maxClocksHertz.putAll(maxClocksHertz);
        b.clockEventReasons = clockEventReasons;
        b.eccErrors = eccErrors;
        b.remappedRows = remappedRows;
        b.xidErrorCounts.putAll(xidErrorCounts);
        b.lastXid = lastXid;
        b.pcieTxBytesPerSecond = pcieTxBytesPerSecond;
        b.pcieRxBytesPerSecond = pcieRxBytesPerSecond;
        b.pcieReplayErrors = pcieReplayErrors;
        b.nvlinkTxBytes = nvlinkTxBytes;
        b.nvlinkRxBytes = nvlinkRxBytes;
        b.migEnabled = migEnabled;
        b.migDevices = migDevices;
        b.processes = processes;
        b.gpmSupported = gpmSupported;
        b.gpm.putAll(gpm);
        b.migGpm = migGpm;
        b.cudaHealth = cudaHealth;
        return b;
    }

    /** Mutable builder; fields left unset stay absent. Not thread-safe. */
    public static final class Builder {
        private final int index;
        private final Instant takenAt;
        private Optional<String> uuid = Optional.empty();
        private DeviceState state = DeviceState.OK;
        private Optional<String> stateReason = Optional.empty();
        private Optional<String> name = Optional.empty();
        private Optional<String> serial = Optional.empty();
        private Optional<String> pciBusId = Optional.empty();
        private Optional<String> driverVersion = Optional.empty();
        private Optional<String> cudaDriverVersion = Optional.empty();
        private Optional<ComputeCapability> computeCapability = Optional.empty();
        private OptionalInt cudaOrdinal = OptionalInt.empty();
        private OptionalInt smCount = OptionalInt.empty();
        private OptionalDouble gpuUtilization = OptionalDouble.empty();
        private OptionalDouble memoryUtilization = OptionalDouble.empty();
        private OptionalDouble encoderUtilization = OptionalDouble.empty();
        private OptionalDouble decoderUtilization = OptionalDouble.empty();
        private OptionalLong memoryTotalBytes = OptionalLong.empty();
        private OptionalLong memoryUsedBytes = OptionalLong.empty();
        private OptionalLong memoryFreeBytes = OptionalLong.empty();
        private OptionalLong memoryReservedBytes = OptionalLong.empty();
        private OptionalDouble gpuTemperatureCelsius = OptionalDouble.empty();
        private OptionalDouble memoryTemperatureCelsius = OptionalDouble.empty();
        private OptionalDouble powerWatts = OptionalDouble.empty();
        private OptionalDouble powerLimitWatts = OptionalDouble.empty();
        private OptionalDouble energyJoules = OptionalDouble.empty();
        private OptionalDouble fanSpeedRatio = OptionalDouble.empty();
        private OptionalInt performanceState = OptionalInt.empty();
        private final Map<ClockType, Long> clocksHertz = new EnumMap<>(ClockType.class);
        private final Map<ClockType, Long> maxClocksHertz = new EnumMap<>(ClockType.class);
        private Optional<Set<ClockEventReason>> clockEventReasons = Optional.empty();
        private Optional<EccErrors> eccErrors = Optional.empty();
        private Optional<RemappedRows> remappedRows = Optional.empty();
        private final Map<Long, Long> xidErrorCounts = new TreeMap<>();
        private Optional<XidEvent> lastXid = Optional.empty();
        private OptionalDouble pcieTxBytesPerSecond = OptionalDouble.empty();
        private OptionalDouble pcieRxBytesPerSecond = OptionalDouble.empty();
        private OptionalLong pcieReplayErrors = OptionalLong.empty();
        private OptionalLong nvlinkTxBytes = OptionalLong.empty();
        private OptionalLong nvlinkRxBytes = OptionalLong.empty();
        private Optional<Boolean> migEnabled = Optional.empty();
        private List<MigDevice> migDevices = List.of();
        private Optional<List<GpuProcess>> processes = Optional.empty();
        private Optional<Boolean> gpmSupported = Optional.empty();
        private final SortedMap<GpmMetric, Double> gpm = new TreeMap<>();
        private List<MigGpm> migGpm = List.of();
        private Optional<CudaHealth> cudaHealth = Optional.empty();

        private Builder(int index, Instant takenAt) {
            this.index = index;
            this.takenAt = Objects.requireNonNull(takenAt, "takenAt");
        }

        public Builder uuid(String v) { uuid = Optional.of(v); return this; }
        public Builder state(DeviceState v, String reason) { state = v; stateReason = Optional.of(reason); return this; }
        public Builder name(String v) { name = Optional.of(v); return this; }
        public Builder serial(String v) { serial = Optional.of(v); return this; }
        public Builder pciBusId(String v) { pciBusId = Optional.of(v); return this; }
        public Builder driverVersion(String v) { driverVersion = Optional.of(v); return this; }
        public Builder cudaDriverVersion(String v) { cudaDriverVersion = Optional.of(v); return this; }
        public Builder computeCapability(int major, int minor) { computeCapability = Optional.of(new ComputeCapability(major, minor)); return this; }
        public Builder cudaOrdinal(int v) { cudaOrdinal = OptionalInt.of(v); return this; }
        public Builder smCount(int v) { smCount = OptionalInt.of(v); return this; }
        public Builder gpuUtilization(double ratio) { gpuUtilization = OptionalDouble.of(ratio); return this; }
        public Builder memoryUtilization(double ratio) { memoryUtilization = OptionalDouble.of(ratio); return this; }
        public Builder encoderUtilization(double ratio) { encoderUtilization = OptionalDouble.of(ratio); return this; }
        public Builder decoderUtilization(double ratio) { decoderUtilization = OptionalDouble.of(ratio); return this; }
        public Builder memoryTotalBytes(long v) { memoryTotalBytes = OptionalLong.of(v); return this; }
        public Builder memoryUsedBytes(long v) { memoryUsedBytes = OptionalLong.of(v); return this; }
        public Builder memoryFreeBytes(long v) { memoryFreeBytes = OptionalLong.of(v); return this; }
        public Builder memoryReservedBytes(long v) { memoryReservedBytes = OptionalLong.of(v); return this; }
        public Builder gpuTemperatureCelsius(double v) { gpuTemperatureCelsius = OptionalDouble.of(v); return this; }
        public Builder memoryTemperatureCelsius(double v) { memoryTemperatureCelsius = OptionalDouble.of(v); return this; }
        public Builder powerWatts(double v) { powerWatts = OptionalDouble.of(v); return this; }
        public Builder powerLimitWatts(double v) { powerLimitWatts = OptionalDouble.of(v); return this; }
        public Builder energyJoules(double v) { energyJoules = OptionalDouble.of(v); return this; }
        public Builder fanSpeedRatio(double v) { fanSpeedRatio = OptionalDouble.of(v); return this; }
        public Builder performanceState(int v) { performanceState = OptionalInt.of(v); return this; }
        public Builder clockHertz(ClockType t, long hz) { clocksHertz.put(t, hz); return this; }
        public Builder maxClockHertz(ClockType t, long hz) { maxClocksHertz.put(t, hz); return this; }
        public Builder clockEventReasons(Set<ClockEventReason> v) { clockEventReasons = Optional.of(v); return this; }
        public Builder eccErrors(EccErrors v) { eccErrors = Optional.of(v); return this; }
        public Builder remappedRows(RemappedRows v) { remappedRows = Optional.of(v); return this; }
        public Builder xidErrorCounts(Map<Long, Long> v) { xidErrorCounts.clear(); xidErrorCounts.putAll(v); return this; }
        public Builder lastXid(XidEvent v) { lastXid = Optional.of(v); return this; }
        public Builder pcieTxBytesPerSecond(double v) { pcieTxBytesPerSecond = OptionalDouble.of(v); return this; }
        public Builder pcieRxBytesPerSecond(double v) { pcieRxBytesPerSecond = OptionalDouble.of(v); return this; }
        public Builder pcieReplayErrors(long v) { pcieReplayErrors = OptionalLong.of(v); return this; }
        public Builder nvlinkTxBytes(long v) { nvlinkTxBytes = OptionalLong.of(v); return this; }
        public Builder nvlinkRxBytes(long v) { nvlinkRxBytes = OptionalLong.of(v); return this; }
        public Builder migEnabled(boolean v) { migEnabled = Optional.of(v); return this; }
        public Builder migDevices(List<MigDevice> v) { migDevices = List.copyOf(v); return this; }
        public Builder processes(List<GpuProcess> v) { processes = Optional.of(List.copyOf(v)); return this; }
        public Builder gpmSupported(boolean v) { gpmSupported = Optional.of(v); return this; }
        public Builder gpm(GpmMetric metric, double value) { gpm.put(metric, value); return this; }
        public Builder gpm(Map<GpmMetric, Double> values) { gpm.clear(); gpm.putAll(values); return this; }
        public Builder migGpm(List<MigGpm> v) { migGpm = List.copyOf(v); return this; }
        public Builder cudaHealth(CudaHealth v) { cudaHealth = Optional.of(v); return this; }

        public GpuSnapshot build() {
            return new GpuSnapshot(index, uuid, state, stateReason, takenAt,
                    name, serial, pciBusId, driverVersion, cudaDriverVersion, computeCapability, cudaOrdinal, smCount,
                    gpuUtilization, memoryUtilization, encoderUtilization, decoderUtilization,
                    memoryTotalBytes, memoryUsedBytes, memoryFreeBytes, memoryReservedBytes,
                    gpuTemperatureCelsius, memoryTemperatureCelsius, powerWatts, powerLimitWatts, energyJoules,
                    fanSpeedRatio, performanceState,
                    clocksHertz, maxClocksHertz, clockEventReasons,
                    eccErrors, remappedRows, xidErrorCounts, lastXid,
                    pcieTxBytesPerSecond, pcieRxBytesPerSecond, pcieReplayErrors, nvlinkTxBytes, nvlinkRxBytes,
                    migEnabled, migDevices, processes, gpmSupported, gpm, migGpm, cudaHealth);
        }
    }
}
