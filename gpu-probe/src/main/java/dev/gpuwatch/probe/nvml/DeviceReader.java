package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.Values.MigDevice;
import dev.gpuwatch.probe.Values.RemappedRows;
import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Reads one physical device into a {@link GpuSnapshot}. Called only under the probe's sample lock, so its
 * scratch memory and capability cache need no further locking; {@link #handle()} and {@link #markLost()} are
 * the only members other threads touch.
 *
 * <p>Return codes are values here: SUCCESS fills a field; NOT_SUPPORTED, FUNCTION_NOT_FOUND (or a missing
 * symbol), NO_PERMISSION and ARGUMENT_VERSION_MISMATCH leave it absent and are remembered so the query is never
 * made again for this device; GPU_IS_LOST (or another code that concerns the whole device, such as
 * RESET_REQUIRED) stops the read and turns the snapshot into LOST/UNREADABLE with only the identity of the last
 * good read; anything else (UNKNOWN, NO_DATA, TIMEOUT...) leaves that one field absent for this sample.
 */
final class DeviceReader {

    private static final int CHARS = 96; // NVML_DEVICE_UUID_V2_BUFFER_SIZE, enough for names and serials too
    private static final int MEMORY_V2_VERSION = 40 | 2 << 24; // sizeof(nvmlMemory_v2_t) | version 2
    private static final int FIELD_BYTES = 40; // sizeof(nvmlFieldValue_t)
    private static final int ALL_LINKS = -1; // scopeId UINT_MAX: the sum over every NVLink
    private static final int MIG_ENABLED = 1;
    private static final int PSTATE_MAX = 15; // NVML_PSTATE_UNKNOWN is 32
    private static final List<Query> FIELD_QUERIES =
            List.of(Query.MEMORY_TEMPERATURE, Query.NVLINK_TX, Query.NVLINK_RX);
    private static final List<Query> PROCESS_QUERIES = List.of(Query.PROCESSES_V3, Query.PROCESSES_V2);
    private static final List<Query> UTILIZATION_QUERIES =
            List.of(Query.PROCESSES_UTILIZATION_INFO, Query.PROCESS_UTILIZATION);

    private final Nvml nvml;
    private final int index;
    private final Optional<String> driverVersion;
    private final Optional<String> cudaDriverVersion;
    private final Set<Query> unsupported = EnumSet.noneOf(Query.class);
    private final AtomicBoolean lostSignal = new AtomicBoolean();
    private final GpmReader gpm;
    private final ProcessUtilization processUtilization = new ProcessUtilization();
    // scratch cells, allocated once
    private final MemorySegment chars;
    private final MemorySegment struct;
    private final MemorySegment fields;
    private final MemorySegment a;
    private final MemorySegment b;
    private final MemorySegment c;
    private final MemorySegment d;
    private final MemorySegment u64;
    private final MemorySegment pointer;

    private volatile MemorySegment handle;
    /** The identity of the last good read; static for the life of the process. */
    private Optional<Identity> identity = Optional.empty();
    /** The first whole-device error of the read in progress, or SUCCESS. */
    private int fatal;

    private record Identity(String uuid, Optional<String> name, Optional<String> serial, Optional<String> pciBusId,
                            OptionalInt ccMajor, OptionalInt ccMinor) {}

    DeviceReader(Nvml nvml, Arena arena, int index, MemorySegment handle, Optional<String> driverVersion,
                 Optional<String> cudaDriverVersion, boolean gpm, LongSupplier nanoClock) {
        this.nvml = nvml;
        this.gpm = new GpmReader(nvml, arena, gpm, nanoClock, this::noteDeviceError);
        this.index = index;
        this.handle = handle;
        this.driverVersion = driverVersion;
        this.cudaDriverVersion = cudaDriverVersion;
        MemorySegment scratch = arena.allocate(512, Long.BYTES);
        chars = scratch.asSlice(0, CHARS);
        struct = scratch.asSlice(128, 128);
        fields = scratch.asSlice(256, (long) FIELD_QUERIES.size() * FIELD_BYTES);
        a = scratch.asSlice(384, 4);
        b = scratch.asSlice(388, 4);
        c = scratch.asSlice(392, 4);
        d = scratch.asSlice(396, 4);
        u64 = scratch.asSlice(400, 8);
        pointer = scratch.asSlice(408, ADDRESS.byteSize());
    }

    int index() {
        return index;
    }

    /** The NVML handle, or NULL while it could not be had; read by the PCIe sampler thread. */
    MemorySegment handle() {
        return handle;
    }

    /** The event set reported this GPU lost: an unsuccessful read of it now counts as LOST. */
    void markLost() {
        lostSignal.set(true);
    }

    /** One sample of this device; {@code extras} adds what other threads gathered, for a device that is up. */
    GpuSnapshot read(Instant takenAt, Consumer<GpuSnapshot.Builder> extras) {
        fatal = Nvml.SUCCESS;
        if (handle.equals(MemorySegment.NULL)) {
            int rc = nvml.call(Fn.HANDLE_BY_INDEX_V2, index, pointer);
            if (rc != Nvml.SUCCESS) {
                return down(takenAt, rc);
            }
            handle = pointer.get(ADDRESS, 0);
        }
        if (identity.isEmpty()) {
            identity = readIdentity();
            if (identity.isEmpty()) {
                return down(takenAt, fatal);
            }
        }
        GpuSnapshot.Builder snapshot = GpuSnapshot.builder(index, takenAt);
        withIdentity(snapshot);
        readUtilization(snapshot);
        readMemory(snapshot);
        readThermalAndPower(snapshot);
        readClocks(snapshot);
        readErrors(snapshot);
        readFields(snapshot);
        List<MigDevice> migDevices = readMig(snapshot);
        readGpm(snapshot, migDevices);
        readProcesses(snapshot);
        if (fatal != Nvml.SUCCESS) {
            return down(takenAt, fatal);
        }
        lostSignal.set(false);
        extras.accept(snapshot);
        return snapshot.build();
    }

    private GpuSnapshot down(Instant takenAt, int code) {
        boolean lost = code == Nvml.GPU_IS_LOST || lostSignal.get();
        GpuSnapshot.Builder snapshot = GpuSnapshot.builder(index, takenAt)
                .state(lost ? DeviceState.LOST : DeviceState.UNREADABLE, Nvml.name(lost ? Nvml.GPU_IS_LOST : code));
        withIdentity(snapshot);
        return snapshot.build();
    }

    private void withIdentity(GpuSnapshot.Builder snapshot) {
        driverVersion.ifPresent(snapshot::driverVersion);
        cudaDriverVersion.ifPresent(snapshot::cudaDriverVersion);
        identity.ifPresent(id -> {
            snapshot.uuid(id.uuid());
            id.name().ifPresent(snapshot::name);
            id.serial().ifPresent(snapshot::serial);
            id.pciBusId().ifPresent(snapshot::pciBusId);
            if (id.ccMajor().isPresent() && id.ccMinor().isPresent()) {
                snapshot.computeCapability(id.ccMajor().getAsInt(), id.ccMinor().getAsInt());
            }
        });
    }

    /** The UUID is required (devices are keyed on it); the rest is optional. Empty when the UUID failed. */
    private Optional<Identity> readIdentity() {
        chars.fill((byte) 0);
        int rc = nvml.call(Fn.UUID, handle, chars, CHARS);
        if (rc != Nvml.SUCCESS) {
            fatal = rc; // without its UUID a device cannot be keyed: any failure makes it unreadable
            return Optional.empty();
        }
        String uuid = cString(chars);
        Optional<String> name = string(Fn.NAME, handle);
        Optional<String> serial = string(Fn.SERIAL, handle);
        Optional<String> pciBusId = Optional.empty();
        struct.fill((byte) 0);
        if (succeeded(nvml.call(Fn.PCI_INFO_V3, handle, struct))) {
            pciBusId = Optional.of(cString(struct.asSlice(36, 32))); // nvmlPciInfo_t.busId
        }
        OptionalInt major = OptionalInt.empty();
        OptionalInt minor = OptionalInt.empty();
        if (succeeded(nvml.call(Fn.COMPUTE_CAPABILITY, handle, a, b))) {
            major = OptionalInt.of(a.get(JAVA_INT, 0));
            minor = OptionalInt.of(b.get(JAVA_INT, 0));
        }
        if (fatal != Nvml.SUCCESS) {
            return Optional.empty();
        }
        return Optional.of(new Identity(uuid, name, serial, pciBusId, major, minor));
    }

    private void readUtilization(GpuSnapshot.Builder snapshot) {
        if (query(Query.UTILIZATION, struct)) {
            snapshot.gpuUtilization(u32(struct, 0) / 100.0).memoryUtilization(u32(struct, 4) / 100.0);
        }
        if (live(Query.ENCODER_UTILIZATION) && ok(Query.ENCODER_UTILIZATION, nvml.call(Fn.ENCODER_UTILIZATION, handle, a, b))) {
            snapshot.encoderUtilization(u32(a, 0) / 100.0);
        }
        if (live(Query.DECODER_UTILIZATION) && ok(Query.DECODER_UTILIZATION, nvml.call(Fn.DECODER_UTILIZATION, handle, a, b))) {
            snapshot.decoderUtilization(u32(a, 0) / 100.0);
        }
    }

    /** v2 (used excludes reserved, as nvidia-smi shows it); v1 only once v2 proved unsupported. */
    private void readMemory(GpuSnapshot.Builder snapshot) {
        if (live(Query.MEMORY_V2)) {
            struct.fill((byte) 0);
            struct.set(JAVA_INT, 0, MEMORY_V2_VERSION);
            if (query(Query.MEMORY_V2, struct)) {
                snapshot.memoryTotalBytes(struct.get(JAVA_LONG, 8))
                        .memoryReservedBytes(struct.get(JAVA_LONG, 16))
                        .memoryFreeBytes(struct.get(JAVA_LONG, 24))
                        .memoryUsedBytes(struct.get(JAVA_LONG, 32));
                return;
            }
        }
        if (unsupported.contains(Query.MEMORY_V2) && query(Query.MEMORY_V1, struct)) {
            snapshot.memoryTotalBytes(struct.get(JAVA_LONG, 0))
                    .memoryFreeBytes(struct.get(JAVA_LONG, 8))
                    .memoryUsedBytes(struct.get(JAVA_LONG, 16));
        }
    }

    private void readThermalAndPower(GpuSnapshot.Builder snapshot) {
        if (query(Query.TEMPERATURE, a)) {
            snapshot.gpuTemperatureCelsius(u32(a, 0));
        }
        if (query(Query.POWER, a)) {
            snapshot.powerWatts(u32(a, 0) / 1000.0);
        }
        if (query(Query.POWER_LIMIT, a)) {
            snapshot.powerLimitWatts(u32(a, 0) / 1000.0);
        }
        if (query(Query.ENERGY, u64)) {
            snapshot.energyJoules(u64.get(JAVA_LONG, 0) / 1000.0);
        }
        if (query(Query.FAN_SPEED, a)) {
            snapshot.fanSpeedRatio(u32(a, 0) / 100.0);
        }
        if (query(Query.PERFORMANCE_STATE, a) && u32(a, 0) <= PSTATE_MAX) {
            snapshot.performanceState(a.get(JAVA_INT, 0));
        }
    }

    private void readClocks(GpuSnapshot.Builder snapshot) {
        for (ClockType type : ClockType.values()) {
            if (query(Query.clock(type), a)) {
                snapshot.clockHertz(type, u32(a, 0) * 1_000_000L);
            }
            if (query(Query.maxClock(type), a)) {
                snapshot.maxClockHertz(type, u32(a, 0) * 1_000_000L);
            }
        }
        // The older name of the same bitmask, for drivers before the rename.
        if (query(Query.CLOCK_EVENT_REASONS, u64)
                || (unsupported.contains(Query.CLOCK_EVENT_REASONS) && query(Query.CLOCK_THROTTLE_REASONS, u64))) {
            snapshot.clockEventReasons(ClockEventReason.decode(u64.get(JAVA_LONG, 0)));
        }
    }

    private void readErrors(GpuSnapshot.Builder snapshot) {
        OptionalLong correctedVolatile = counter(Query.ECC_CORRECTED_VOLATILE);
        OptionalLong uncorrectedVolatile = counter(Query.ECC_UNCORRECTED_VOLATILE);
        OptionalLong correctedAggregate = counter(Query.ECC_CORRECTED_AGGREGATE);
        OptionalLong uncorrectedAggregate = counter(Query.ECC_UNCORRECTED_AGGREGATE);
        if (correctedVolatile.isPresent() || uncorrectedVolatile.isPresent() || correctedAggregate.isPresent()
                || uncorrectedAggregate.isPresent()) {
            snapshot.eccErrors(new EccErrors(correctedVolatile, uncorrectedVolatile, correctedAggregate,
                    uncorrectedAggregate));
        }
        if (live(Query.REMAPPED_ROWS) && ok(Query.REMAPPED_ROWS, nvml.call(Fn.REMAPPED_ROWS, handle, a, b, c, d))) {
            snapshot.remappedRows(new RemappedRows(u32(a, 0), u32(b, 0), u32(c, 0) != 0, u32(d, 0) != 0));
        }
        if (query(Query.PCIE_REPLAY, a)) {
            snapshot.pcieReplayErrors(u32(a, 0));
        }
    }

    private OptionalLong counter(Query query) {
        return query(query, u64) ? OptionalLong.of(u64.get(JAVA_LONG, 0)) : OptionalLong.empty();
    }

    /** Memory temperature and NVLink byte counters, in one nvmlDeviceGetFieldValues call. */
    private void readFields(GpuSnapshot.Builder snapshot) {
        if (!live(Query.FIELD_VALUES)) {
            return;
        }
        List<Query> asked = new ArrayList<>(FIELD_QUERIES.size());
        for (Query field : FIELD_QUERIES) {
            if (!unsupported.contains(field)) {
                MemorySegment entry = fields.asSlice((long) asked.size() * FIELD_BYTES, FIELD_BYTES);
                entry.fill((byte) 0);
                entry.set(JAVA_INT, 0, field.arg);
                entry.set(JAVA_INT, 4, field == Query.MEMORY_TEMPERATURE ? 0 : ALL_LINKS);
                asked.add(field);
            }
        }
        if (asked.isEmpty()
                || !ok(Query.FIELD_VALUES, nvml.call(Fn.FIELD_VALUES, handle, asked.size(), fields))) {
            return;
        }
        for (int k = 0; k < asked.size(); k++) {
            MemorySegment entry = fields.asSlice((long) k * FIELD_BYTES, FIELD_BYTES);
            Query field = asked.get(k);
            if (!ok(field, entry.get(JAVA_INT, 28))) {
                continue;
            }
            int type = entry.get(JAVA_INT, 24);
            switch (field) {
                case MEMORY_TEMPERATURE -> snapshot.memoryTemperatureCelsius(fieldDouble(entry, type));
                case NVLINK_TX -> snapshot.nvlinkTxBytes(fieldLong(entry, type) * 1024);
                case NVLINK_RX -> snapshot.nvlinkRxBytes(fieldLong(entry, type) * 1024);
                default -> throw new IllegalStateException("not a field query: " + field);
            }
        }
    }

    /** nvmlValue_t by nvmlValueType_t: 0 double, 1 uint, 2 ulong, 3 ull, 4 sll, 5 int, 6 ushort. */
    private static long fieldLong(MemorySegment entry, int type) {
        return switch (type) {
            case 0 -> (long) entry.get(JAVA_DOUBLE, 32);
            case 1 -> u32(entry, 32);
            case 5 -> entry.get(JAVA_INT, 32);
            case 6 -> Short.toUnsignedLong(entry.get(JAVA_SHORT, 32));
            default -> entry.get(JAVA_LONG, 32);
        };
    }

    private static double fieldDouble(MemorySegment entry, int type) {
        return type == 0 ? entry.get(JAVA_DOUBLE, 32) : fieldLong(entry, type);
    }

    /** The MIG devices it found (empty off MIG), for GPM's per-instance rings. */
    private List<MigDevice> readMig(GpuSnapshot.Builder snapshot) {
        if (!live(Query.MIG_MODE) || !ok(Query.MIG_MODE, nvml.call(Fn.MIG_MODE, handle, a, b))) {
            return List.of();
        }
        boolean enabled = u32(a, 0) == MIG_ENABLED;
        snapshot.migEnabled(enabled);
        if (enabled && succeeded(nvml.call(Fn.MAX_MIG_DEVICE_COUNT, handle, a))) {
            List<MigDevice> devices = migDevices(u32(a, 0));
            snapshot.migDevices(devices);
            return devices;
        }
        return List.of();
    }

    /** GPM of the device and of each GPU instance its MIG devices belong to (several may share one). */
    private void readGpm(GpuSnapshot.Builder snapshot, List<MigDevice> migDevices) {
        if (fatal != Nvml.SUCCESS) {
            return;
        }
        SortedSet<Integer> gpuInstances = new TreeSet<>();
        migDevices.forEach(mig -> mig.gpuInstanceId().ifPresent(gpuInstances::add));
        gpm.read(handle, gpuInstances, snapshot);
    }

    /** MIG devices sit in numbered slots, most of them empty (NOT_FOUND). */
    private List<MigDevice> migDevices(long slots) {
        List<MigDevice> devices = new ArrayList<>();
        for (int slot = 0; slot < slots && fatal == Nvml.SUCCESS; slot++) {
            int rc = nvml.call(Fn.MIG_DEVICE_HANDLE_BY_INDEX, handle, slot, pointer);
            if (rc == Nvml.NOT_FOUND || !succeeded(rc)) {
                continue;
            }
            MemorySegment mig = pointer.get(ADDRESS, 0);
            Optional<String> uuid = string(Fn.UUID, mig);
            OptionalInt gpuInstance = succeeded(nvml.call(Fn.GPU_INSTANCE_ID, mig, a))
                    ? OptionalInt.of(a.get(JAVA_INT, 0)) : OptionalInt.empty();
            OptionalInt computeInstance = succeeded(nvml.call(Fn.COMPUTE_INSTANCE_ID, mig, a))
                    ? OptionalInt.of(a.get(JAVA_INT, 0)) : OptionalInt.empty();
            OptionalLong total = OptionalLong.empty();
            OptionalLong used = OptionalLong.empty();
            struct.fill((byte) 0);
            struct.set(JAVA_INT, 0, MEMORY_V2_VERSION);
            if (!unsupported.contains(Query.MEMORY_V2) && succeeded(nvml.call(Fn.MEMORY_INFO_V2, mig, struct))) {
                total = OptionalLong.of(struct.get(JAVA_LONG, 8));
                used = OptionalLong.of(struct.get(JAVA_LONG, 32));
            } else if (succeeded(nvml.call(Fn.MEMORY_INFO, mig, struct))) {
                total = OptionalLong.of(struct.get(JAVA_LONG, 0));
                used = OptionalLong.of(struct.get(JAVA_LONG, 16));
            }
            devices.add(new MigDevice(slot, uuid, gpuInstance, computeInstance, total, used));
        }
        return devices;
    }

    /**
     * The compute processes (_v3, or _v2 on a driver without it), the MPS clients (marked {@code mps}; one listed
     * by both calls appears once), and each process's utilisation joined by pid; a pid with utilisation samples
     * but in neither list (it holds no memory) is added without memory. No list when the compute processes could
     * not be read.
     */
    private void readProcesses(GpuSnapshot.Builder snapshot) {
        Optional<List<GpuProcess>> compute = readComputeProcesses();
        if (compute.isEmpty()) {
            return;
        }
        Map<Integer, GpuProcess> byPid = new LinkedHashMap<>();
        compute.get().forEach(process -> byPid.put(process.pid(), process));
        if (live(Query.MPS_PROCESSES_V3)) {
            switch (RunningProcesses.query(nvml, Fn.MPS_PROCESSES_V3, handle, a)) {
                case RunningProcesses.Result.Read read -> read.processes().forEach(client -> byPid.put(client.pid(),
                        new GpuProcess(client.pid(), client.command(), client.usedMemoryBytes(),
                                client.gpuInstanceId(), client.computeInstanceId(), OptionalDouble.empty(),
                                OptionalDouble.empty(), true)));
                case RunningProcesses.Result.Failed failed -> ok(Query.MPS_PROCESSES_V3, failed.code());
            }
        }
        for (ProcessUtilization.Sample sample : readProcessUtilization().values()) {
            GpuProcess process = byPid.computeIfAbsent(sample.pid(), pid -> new GpuProcess(pid,
                    RunningProcesses.command(pid), OptionalLong.empty(), OptionalInt.empty(), OptionalInt.empty()));
            byPid.put(sample.pid(), process.withUtilization(sample.sm(), sample.memory()));
        }
        snapshot.processes(List.copyOf(byPid.values()));
    }

    private Optional<List<GpuProcess>> readComputeProcesses() {
        for (Query query : PROCESS_QUERIES) {
            if (!live(query)) {
                continue;
            }
            switch (RunningProcesses.query(nvml, query.fn, handle, a)) {
                case RunningProcesses.Result.Read read -> {
                    return Optional.of(read.processes());
                }
                case RunningProcesses.Result.Failed failed -> {
                    ok(query, failed.code());
                    if (!unsupported.contains(query)) {
                        return Optional.empty(); // a transient failure: no fallback to the older call this time
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** ProcessesUtilizationInfo, or the older ProcessUtilization once the newer call proved unsupported. */
    private Map<Integer, ProcessUtilization.Sample> readProcessUtilization() {
        for (Query query : UTILIZATION_QUERIES) {
            if (!live(query)) {
                continue;
            }
            ProcessUtilization.Result result = query == Query.PROCESSES_UTILIZATION_INFO
                    ? processUtilization.readInfo(nvml, handle, struct.asSlice(0, ProcessUtilization.INFO_BYTES))
                    : processUtilization.readLegacy(nvml, handle, a);
            switch (result) {
                case ProcessUtilization.Result.Read read -> {
                    return read.byPid();
                }
                case ProcessUtilization.Result.Failed failed -> {
                    ok(query, failed.code());
                    if (!unsupported.contains(query)) {
                        return Map.of();
                    }
                }
            }
        }
        return Map.of();
    }

    /** Frees the GPM samples; called before NVML shuts down. */
    void close() {
        gpm.close();
    }

    // ---- return-code handling ----

    private boolean live(Query query) {
        return fatal == Nvml.SUCCESS && !unsupported.contains(query);
    }

    /** Calls a query of the common shapes (device, [args], out) unless it is known unsupported. */
    private boolean query(Query query, MemorySegment out) {
        if (!live(query)) {
            return false;
        }
        int rc = switch (query.fn) {
            case TEMPERATURE, CLOCK_INFO, MAX_CLOCK_INFO -> nvml.call(query.fn, handle, query.arg, out);
            case TOTAL_ECC_ERRORS -> nvml.call(query.fn, handle, query.arg, query.arg2, out);
            default -> nvml.call(query.fn, handle, out);
        };
        return ok(query, rc);
    }

    /** SUCCESS, or learns from the code: unsupported for good, the whole device down, or just absent now. */
    private boolean ok(Query query, int rc) {
        if (rc == Nvml.SUCCESS) {
            return true;
        }
        if (Query.learnedFrom(rc)) {
            unsupported.add(query);
        } else {
            noteDeviceError(rc);
        }
        return false;
    }

    /** For calls outside the capability cache (identity, MIG devices). */
    private boolean succeeded(int rc) {
        if (rc == Nvml.SUCCESS) {
            return true;
        }
        noteDeviceError(rc);
        return false;
    }

    private void noteDeviceError(int rc) {
        boolean wholeDevice = rc == Nvml.GPU_IS_LOST || rc == Nvml.UNINITIALIZED || rc == Nvml.RESET_REQUIRED
                || rc == Nvml.GPU_NOT_FOUND || rc == Nvml.DRIVER_NOT_LOADED || rc == Nvml.LIB_RM_VERSION_MISMATCH;
        if (wholeDevice && fatal == Nvml.SUCCESS) {
            fatal = rc;
        }
    }

    /** An optional char-buffer getter (name, serial, a MIG device's UUID). */
    private Optional<String> string(Fn fn, MemorySegment device) {
        chars.fill((byte) 0);
        return succeeded(nvml.call(fn, device, chars, CHARS)) ? Optional.of(cString(chars)) : Optional.empty();
    }

    private static String cString(MemorySegment buffer) {
        buffer.set(JAVA_BYTE, buffer.byteSize() - 1, (byte) 0);
        return buffer.getString(0);
    }

    private static long u32(MemorySegment segment, long offset) {
        return Integer.toUnsignedLong(segment.get(JAVA_INT, offset));
    }
}
