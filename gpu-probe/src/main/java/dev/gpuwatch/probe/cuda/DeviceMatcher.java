package dev.gpuwatch.probe.cuda;

import dev.gpuwatch.probe.GpuSnapshot;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the CUDA device behind a snapshot of the primary backend (NVML). CUDA ordinals and NVML indices differ
 * (CUDA_VISIBLE_DEVICES renumbers, CUDA may order fastest-first), so the join is by UUID, falling back to the
 * PCI bus id, normalised because CUDA prints a 4-digit domain ({@code 0000:3b:00.0}) where NVML prints 8
 * ({@code 00000000:3B:00.0}). A PCI bus id shared by several CUDA devices (MIG instances of one GPU) is
 * ambiguous and never used.
 */
final class DeviceMatcher {
    private final Map<String, CudaDevice> byUuid = new HashMap<>();
    private final Map<String, CudaDevice> byPciBusId = new HashMap<>();

    DeviceMatcher(List<CudaDevice> devices) {
        Set<String> ambiguous = new HashSet<>();
        for (CudaDevice device : devices) {
            device.uuid().ifPresent(uuid -> byUuid.put(normaliseUuid(uuid), device));
            device.pciBusId().flatMap(DeviceMatcher::normalisePciBusId).ifPresent(busId -> {
                if (byPciBusId.putIfAbsent(busId, device) != null) {
                    ambiguous.add(busId);
                }
            });
        }
        byPciBusId.keySet().removeAll(ambiguous);
    }

    Optional<CudaDevice> match(GpuSnapshot snapshot) {
        Optional<CudaDevice> byId = snapshot.uuid().map(DeviceMatcher::normaliseUuid).map(byUuid::get);
        if (byId.isPresent()) {
            return byId;
        }
        return snapshot.pciBusId().flatMap(DeviceMatcher::normalisePciBusId).map(byPciBusId::get);
    }

    /** NVML's UUID format from the 16 bytes of cuDeviceGetUuid: {@code GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}. */
    static Optional<String> formatUuid(byte[] bytes) {
        if (bytes == null || bytes.length != 16) {
            return Optional.empty();
        }
        String hex = HexFormat.of().formatHex(bytes);
        return Optional.of("GPU-" + hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16)
                + "-" + hex.substring(16, 20) + "-" + hex.substring(20));
    }

    private static String normaliseUuid(String uuid) {
        return uuid.trim().toLowerCase(Locale.ROOT);
    }

    /** {@code [domain:]bus:device.function} in hex, any case or domain width, to {@code 0000002a:3b:00.0}. */
    static Optional<String> normalisePciBusId(String busId) {
        String[] parts = busId.trim().split("[:.]");
        if (parts.length != 3 && parts.length != 4) {
            return Optional.empty();
        }
        try {
            int i = parts.length - 3;
            long domain = i == 0 ? 0 : Long.parseLong(parts[0], 16);
            int bus = Integer.parseInt(parts[i], 16);
            int device = Integer.parseInt(parts[i + 1], 16);
            int function = Integer.parseInt(parts[i + 2], 16);
            if (domain < 0 || domain > 0xFFFF_FFFFL || bus < 0 || bus > 0xFF || device < 0 || device > 0x1F
                    || function < 0 || function > 7) {
                return Optional.empty();
            }
            return Optional.of(String.format(Locale.ROOT, "%08x:%02x:%02x.%x", domain, bus, device, function));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
