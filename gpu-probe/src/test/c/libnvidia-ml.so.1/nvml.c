/*
 * The NVML entry points the gpuwatch binding calls, answering with fixed values for a fleet of H100 80GB HBM3
 * (4 by default). Device i:
 *   UUID GPU-5ca1ab1e-0000-4000-8000-00000000000<i>, PCI bus id 00000000:<0x10+i>:00.0, serial 165022300000<i>
 *   utilisation gpu 20+10i %, memory 5+i %; encoder i %, decoder 2i %      (device 3 runs MIG: no utilisation)
 *   memory total 85520809984, reserved 553648128, used (i+1) GiB; v1 "used" includes reserved
 *   temperature 40+i C, memory temperature 50+i C (field 82); power 120500+1000i mW, limit 700000 mW
 *   energy 3600000000+1000i mJ; fan: not supported (SXM board); P-state 0
 *   clocks MHz graphics/sm 1410+i, memory 2619, video 1275; max 1980/1980/2619/1755
 *   clock-event reasons {0x1, 0x4, 0x0, 0x24}[i]
 *   ECC corrected volatile i, uncorrected volatile 0, corrected aggregate 10+i, uncorrected aggregate (i==2)
 *   remapped rows corrected i, uncorrected 0, pending (i==1), failure 0
 *   PCIe TX 1000(i+1) KB/s, RX 2000(i+1) KB/s, replays 7i; NVLink data TX 1000000(i+1) KiB, RX 2000000(i+1) KiB
 *   MIG: only device 3 (current=pending=1), 7 slots, MIG devices in slots 0 and 1
 *   processes: counts {1, 2, 0, 2}; process k has pid 4000000+1000i+k, memory (k+1)*256 MiB (device 1
 *   process 1: NVML_VALUE_NOT_AVAILABLE), instance ids 0xFFFFFFFF (device 3: gpu instance k+1, compute 0)
 *   per-process utilisation: one sample per default process, SM 10+10k+i %, memory 5+k+i %, stamped 1 s after
 *   the caller's lastSeenTimeStamp (1700000000000000 µs on the first call); none on device 3 (MIG:
 *   NOT_SUPPORTED, as drivers answer on MIG-enabled GPUs); MPS clients: none unless a test adds some
 *   GPM: see gpm.c
 * Driver 550.54.15, CUDA 12.4 (12040).
 *
 * Built with -DSTUB_LEGACY_DRIVER the newer symbols are left out, as an old driver lacks them (GPM,
 * ProcessesUtilizationInfo and MPS_v3 among them; nvmlDeviceGetProcessUtilization stays).
 */
#define _GNU_SOURCE
#include "stub_nvml.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef stub_device *nvmlDevice_t;

typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

typedef struct {
    unsigned int gpu, memory;
} nvmlUtilization_t;

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

typedef union {
    double dVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    long long sllVal;
    int siVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType;
    unsigned long long eventData;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlEventData_t;

typedef struct stub_event_set {
    int unused;
} *nvmlEventSet_t;

#define GIB 1073741824ULL
#define MIB 1048576ULL
#define MEMORY_TOTAL 85520809984ULL
#define MEMORY_RESERVED 553648128ULL
#define MIG_MEMORY_TOTAL (40 * GIB)
#define NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFULL
#define NO_INSTANCE 0xFFFFFFFFu
#define MEMORY_V2_VERSION ((unsigned)sizeof(nvmlMemory_v2_t) | (2u << 24))
#define FI_DEV_MEMORY_TEMP 82
#define FI_DEV_NVLINK_THROUGHPUT_DATA_TX 138
#define FI_DEV_NVLINK_THROUGHPUT_DATA_RX 139
#define EVENT_TYPE_XID 0x8ULL

static int put_string(char *out, unsigned int length, const char *value) {
    if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(value) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(out, value, strlen(value) + 1);
    return NVML_SUCCESS;
}

/* ---- life cycle ---- */

EXPORT nvmlReturn_t nvmlInit_v2(void) {
    STUB_CALLED();
    nvmlReturn_t forced = stub_forced(__func__, -1);
    if (forced != NVML_SUCCESS) return forced;
    pthread_mutex_lock(&stub_lock);
    stub.init_count++;
    pthread_mutex_unlock(&stub_lock);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
    STUB_CALLED();
    pthread_mutex_lock(&stub_lock);
    nvmlReturn_t ret = stub.init_count > 0 ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
    if (stub.init_count > 0) stub.init_count--;
    pthread_mutex_unlock(&stub_lock);
    return ret;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t result) {
    STUB_CALLED();
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
    }
}

/* ---- system ---- */

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    return ret != NVML_SUCCESS ? ret : put_string(version, length, "550.54.15");
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret == NVML_SUCCESS) *version = 12040;
    return ret;
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret == NVML_SUCCESS) *version = 12040;
    return ret;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret != NVML_SUCCESS) return ret;
    pthread_mutex_lock(&stub_lock);
    *count = stub.device_count;
    pthread_mutex_unlock(&stub_lock);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret != NVML_SUCCESS) return ret;
    pthread_mutex_lock(&stub_lock);
    int valid = index < stub.device_count;
    int lost = valid && stub.lost[index];
    pthread_mutex_unlock(&stub_lock);
    if (!valid) return NVML_ERROR_INVALID_ARGUMENT;
    if (lost) return NVML_ERROR_GPU_IS_LOST;
    nvmlReturn_t forced = stub_forced(__func__, (int)index);
    if (forced != NVML_SUCCESS) return forced;
    *device = &stub_devices[index];
    return NVML_SUCCESS;
}

/* ---- identity ---- */

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    STUB_DEVICE_ENTRY(device, i, mig);
    char value[96];
    if (mig < 0) snprintf(value, sizeof value, "GPU-5ca1ab1e-0000-4000-8000-%012x", i);
    else snprintf(value, sizeof value, "MIG-5ca1ab1e-%04x-4000-8000-%012x", i, mig);
    return put_string(uuid, length, value);
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i;
    return put_string(name, length, mig < 0 ? "NVIDIA H100 80GB HBM3" : "NVIDIA H100 80GB HBM3 MIG 3g.40gb");
}

EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    char value[32];
    snprintf(value, sizeof value, "165022300000%d", i);
    return put_string(serial, length, value);
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    memset(pci, 0, sizeof *pci);
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02X:00.0", 0x10 + i);
    snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:00.0", 0x10 + i);
    pci->bus = 0x10 + (unsigned)i;
    pci->pciDeviceId = 0x233010DE;
    pci->pciSubSystemId = 0x16C110DE;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i, (void)mig;
    *major = 9;
    *minor = 0;
    return NVML_SUCCESS;
}

/* ---- utilisation, memory, thermal, power ---- */

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0 || i == STUB_MIG_DEVICE) return NVML_ERROR_NOT_SUPPORTED;
    utilization->gpu = 20 + 10 * (unsigned)i;
    utilization->memory = 5 + (unsigned)i;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                                    unsigned int *samplingPeriodUs) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *utilization = (unsigned)i;
    *samplingPeriodUs = 167000;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                                    unsigned int *samplingPeriodUs) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *utilization = 2 * (unsigned)i;
    *samplingPeriodUs = 167000;
    return NVML_SUCCESS;
}

static void memory_of(int i, int mig, unsigned long long *total, unsigned long long *reserved,
                      unsigned long long *used) {
    if (mig < 0) {
        *total = MEMORY_TOTAL;
        *reserved = MEMORY_RESERVED;
        *used = (unsigned long long)(i + 1) * GIB;
    } else {
        *total = MIG_MEMORY_TOTAL;
        *reserved = 0;
        *used = (unsigned long long)(mig + 1) * 512 * MIB;
    }
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    STUB_DEVICE_ENTRY(device, i, mig);
    unsigned long long total, reserved, used;
    memory_of(i, mig, &total, &reserved, &used);
    memory->total = total;
    memory->used = used + reserved; /* v1 counts driver-reserved memory as used */
    memory->free = total - reserved - used;
    return NVML_SUCCESS;
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (memory->version != MEMORY_V2_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    unsigned long long total, reserved, used;
    memory_of(i, mig, &total, &reserved, &used);
    memory->total = total;
    memory->reserved = reserved;
    memory->used = used;
    memory->free = total - reserved - used;
    return NVML_SUCCESS;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *temperature) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    if (sensor != 0) return NVML_ERROR_INVALID_ARGUMENT;
    *temperature = 40 + (unsigned)i;
    return NVML_SUCCESS;
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int count, nvmlFieldValue_t *values) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    if (count <= 0 || values == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    for (int k = 0; k < count; k++) {
        nvmlFieldValue_t *v = &values[k];
        v->timestamp = 1700000000000000LL;
        v->latencyUsec = 0;
        switch (v->fieldId) {
        case FI_DEV_MEMORY_TEMP:
            v->valueType = 1; /* unsigned int */
            v->value.uiVal = 50 + (unsigned)i;
            v->nvmlReturn = NVML_SUCCESS;
            break;
        case FI_DEV_NVLINK_THROUGHPUT_DATA_TX:
        case FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
            if (v->scopeId != 0xFFFFFFFFu) { /* this stub only answers the all-links aggregate */
                v->nvmlReturn = NVML_ERROR_INVALID_ARGUMENT;
                break;
            }
            v->valueType = 3; /* unsigned long long */
            v->value.ullVal = (v->fieldId == FI_DEV_NVLINK_THROUGHPUT_DATA_TX ? 1000000ULL : 2000000ULL) * (unsigned)(i + 1);
            v->nvmlReturn = NVML_SUCCESS;
            break;
        default:
            v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        }
        /* a per-field rule, e.g. stub_nvml_fail("field:82", i, NVML_ERROR_NOT_SUPPORTED) */
        char name[32];
        snprintf(name, sizeof name, "field:%u", v->fieldId);
        nvmlReturn_t forced = stub_forced(name, i);
        if (forced != NVML_SUCCESS) v->nvmlReturn = forced;
    }
    return NVML_SUCCESS;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *milliwatts) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *milliwatts = 120500 + 1000 * (unsigned)i;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *milliwatts) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i, (void)mig;
    *milliwatts = 700000;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *millijoules) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *millijoules = 3600000000ULL + 1000ULL * (unsigned)i;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *percent) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i, (void)mig, (void)percent;
    return NVML_ERROR_NOT_SUPPORTED; /* SXM boards have no fan of their own */
}

EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, int *pstate) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i, (void)mig;
    *pstate = 0;
    return NVML_SUCCESS;
}

/* ---- clocks ---- */

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int *mhz) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    static const unsigned base[] = {1410, 1410, 2619, 1275};
    if (type < 0 || type > 3) return NVML_ERROR_INVALID_ARGUMENT;
    *mhz = base[type] + (type <= 1 ? (unsigned)i : 0);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, int type, unsigned int *mhz) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i, (void)mig;
    static const unsigned max[] = {1980, 1980, 2619, 1755};
    if (type < 0 || type > 3) return NVML_ERROR_INVALID_ARGUMENT;
    *mhz = max[type];
    return NVML_SUCCESS;
}

static const unsigned long long clock_events[] = {0x1, 0x4, 0x0, 0x24};

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *reasons) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *reasons = clock_events[i % 4];
    return NVML_SUCCESS;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *reasons = clock_events[i % 4];
    return NVML_SUCCESS;
}

/* ---- errors and interconnect ---- */

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int errorType, int counterType,
                                                unsigned long long *count) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    if (errorType < 0 || errorType > 1 || counterType < 0 || counterType > 1) return NVML_ERROR_INVALID_ARGUMENT;
    unsigned long long corrected = counterType == 0 ? (unsigned)i : 10 + (unsigned)i;
    unsigned long long uncorrected = counterType == 0 ? 0 : (i == 2);
    *count = errorType == 0 ? corrected : uncorrected;
    return NVML_SUCCESS;
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows, unsigned int *uncRows,
                                              unsigned int *isPending, unsigned int *failureOccurred) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *corrRows = (unsigned)i;
    *uncRows = 0;
    *isPending = i == 1;
    *failureOccurred = 0;
    return NVML_SUCCESS;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, int counter, unsigned int *kilobytesPerSecond) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    if (counter < 0 || counter > 1) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&stub_lock);
    while (stub.pcie_blocked) pthread_cond_wait(&stub_changed, &stub_lock);
    unsigned delay = stub.pcie_delay_us;
    pthread_mutex_unlock(&stub_lock);
    usleep(delay);
    *kilobytesPerSecond = (counter == 0 ? 1000u : 2000u) * (unsigned)(i + 1);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t device, unsigned int *value) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)mig;
    *value = 7 * (unsigned)i;
    return NVML_SUCCESS;
}

/* ---- MIG ---- */

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
    *currentMode = *pendingMode = i == STUB_MIG_DEVICE;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i;
    if (mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
    *count = STUB_MIG_SLOTS;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                        nvmlDevice_t *migDevice) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0 || index >= STUB_MIG_SLOTS) return NVML_ERROR_INVALID_ARGUMENT;
    if (i != STUB_MIG_DEVICE || index >= STUB_MIG_DEVICES) return NVML_ERROR_NOT_FOUND;
    *migDevice = &stub_migs[i][index];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int *id) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i;
    if (mig < 0) return NVML_ERROR_INVALID_ARGUMENT;
    *id = (unsigned)mig + 1;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t device, unsigned int *id) {
    STUB_DEVICE_ENTRY(device, i, mig);
    (void)i;
    if (mig < 0) return NVML_ERROR_INVALID_ARGUMENT;
    *id = 0;
    return NVML_SUCCESS;
}
#endif

/* ---- processes ---- */

static nvmlReturn_t running_processes(int i, unsigned int *count, unsigned char *infos, size_t record_size) {
    if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&stub_lock);
    if (stub.growth_calls[i] > 0) {
        stub.growth_calls[i]--;
        unsigned grown = stub.process_count[i] + stub.growth_per_call[i];
        stub.process_count[i] = grown < STUB_MAX_PROCESSES ? grown : STUB_MAX_PROCESSES;
    }
    unsigned n = stub.process_count[i];
    unsigned pids[STUB_MAX_PROCESSES];
    memcpy(pids, stub.process_pid[i], sizeof pids);
    pthread_mutex_unlock(&stub_lock);
    if (*count < n) {
        *count = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    *count = n;
    if (n > 0 && infos == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned k = 0; k < n; k++) {
        unsigned char *r = infos + k * record_size;
        unsigned pid = pids[k] ? pids[k] : 4000000u + 1000u * (unsigned)i + k;
        unsigned long long used = (i == 1 && k == 1) ? NOT_AVAILABLE : (k + 1) * 256 * MIB;
        unsigned gi = i == STUB_MIG_DEVICE ? k + 1 : NO_INSTANCE;
        unsigned ci = i == STUB_MIG_DEVICE ? 0 : NO_INSTANCE;
        memset(r, 0, record_size);
        memcpy(r, &pid, 4);
        memcpy(r + 8, &used, 8);
        memcpy(r + 16, &gi, 4);
        memcpy(r + 20, &ci, 4);
        /* a 32-byte record ends with usedGpuCcProtectedMemory, left 0 */
    }
    return NVML_SUCCESS;
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count, void *infos) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
    return running_processes(i, count, infos, STUB_PROCESS_RECORD_SIZE);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *count, void *infos) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
    return running_processes(i, count, infos, 24);
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count, void *infos) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
    if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&stub_lock);
    unsigned n = stub.mps_count[i];
    pthread_mutex_unlock(&stub_lock);
    if (*count < n) {
        *count = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    *count = n;
    if (n > 0 && infos == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned k = 0; k < n; k++) {
        unsigned char *r = (unsigned char *)infos + k * STUB_PROCESS_RECORD_SIZE;
        unsigned pid = 5000000u + 1000u * (unsigned)i + k;
        unsigned long long used = (k + 1) * 128 * MIB;
        unsigned gi = NO_INSTANCE, ci = NO_INSTANCE;
        memset(r, 0, STUB_PROCESS_RECORD_SIZE);
        memcpy(r, &pid, 4);
        memcpy(r + 8, &used, 8);
        memcpy(r + 16, &gi, 4);
        memcpy(r + 20, &ci, 4);
    }
    return NVML_SUCCESS;
}
#endif

/* ---- per-process utilisation ---- */

typedef struct {
    unsigned long long timeStamp;
    unsigned int pid, smUtil, memUtil, encUtil, decUtil, jpgUtil, ofaUtil;
} nvmlProcessUtilizationInfo_v1_t;

typedef struct {
    unsigned int version;
    unsigned int processSamplesCount;
    unsigned long long lastSeenTimeStamp;
    nvmlProcessUtilizationInfo_v1_t *procUtilArray;
} nvmlProcessesUtilizationInfo_v1_t;

typedef struct {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

_Static_assert(sizeof(nvmlProcessUtilizationInfo_v1_t) == 40, "40-byte entries");
_Static_assert(sizeof(nvmlProcessesUtilizationInfo_v1_t) == 24, "24-byte header");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "32-byte samples");

#define PROCESSES_UTILIZATION_INFO_VERSION ((unsigned)sizeof(nvmlProcessesUtilizationInfo_v1_t) | (1u << 24))
#define FIRST_SAMPLE_US 1700000000000000ULL

typedef struct {
    unsigned pid, sm, mem;
} util_sample;

/* Device i's samples newer than last_seen (all of them, stamped 1 s later); records last_seen. 0: none. */
static unsigned utilization_samples(int i, unsigned long long last_seen, util_sample *out,
                                    unsigned long long *stamp) {
    pthread_mutex_lock(&stub_lock);
    stub.util_last_seen[i] = last_seen;
    unsigned n = stub.util_count[i];
    for (unsigned k = 0; k < n; k++) {
        out[k].pid = stub.util_pid[i][k] ? stub.util_pid[i][k]
                     : (stub.process_pid[i][k] ? stub.process_pid[i][k] : 4000000u + 1000u * (unsigned)i + k);
        out[k].sm = stub.util_sm[i][k];
        out[k].mem = stub.util_mem[i][k];
    }
    pthread_mutex_unlock(&stub_lock);
    *stamp = last_seen < FIRST_SAMPLE_US ? FIRST_SAMPLE_US : last_seen + 1000000ULL;
    return n;
}

#ifndef STUB_LEGACY_DRIVER
EXPORT nvmlReturn_t nvmlDeviceGetProcessesUtilizationInfo(nvmlDevice_t device,
                                                          nvmlProcessesUtilizationInfo_v1_t *procesesUtilInfo) {
    STUB_DEVICE_ENTRY(device, i, mig);
    nvmlProcessesUtilizationInfo_v1_t *info = procesesUtilInfo;
    if (info == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (info->version != PROCESSES_UTILIZATION_INFO_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (mig >= 0 || i == STUB_MIG_DEVICE) return NVML_ERROR_NOT_SUPPORTED;
    util_sample samples[STUB_MAX_UTIL_SAMPLES];
    unsigned long long stamp;
    unsigned n = utilization_samples(i, info->lastSeenTimeStamp, samples, &stamp);
    if (n == 0) return NVML_ERROR_NOT_FOUND;
    if (info->procUtilArray == NULL || info->processSamplesCount < n) {
        info->processSamplesCount = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned k = 0; k < n; k++) {
        info->procUtilArray[k] = (nvmlProcessUtilizationInfo_v1_t){
            .timeStamp = stamp, .pid = samples[k].pid, .smUtil = samples[k].sm, .memUtil = samples[k].mem};
    }
    info->processSamplesCount = n;
    return NVML_SUCCESS;
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device, nvmlProcessUtilizationSample_t *utilization,
                                                    unsigned int *processSamplesCount,
                                                    unsigned long long lastSeenTimeStamp) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (processSamplesCount == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig >= 0 || i == STUB_MIG_DEVICE) return NVML_ERROR_NOT_SUPPORTED;
    util_sample samples[STUB_MAX_UTIL_SAMPLES];
    unsigned long long stamp;
    unsigned n = utilization_samples(i, lastSeenTimeStamp, samples, &stamp);
    if (n == 0) return NVML_ERROR_NOT_FOUND;
    if (utilization == NULL || *processSamplesCount < n) {
        *processSamplesCount = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned k = 0; k < n; k++) {
        utilization[k] = (nvmlProcessUtilizationSample_t){
            .pid = samples[k].pid, .timeStamp = stamp, .smUtil = samples[k].sm, .memUtil = samples[k].mem};
    }
    *processSamplesCount = n;
    return NVML_SUCCESS;
}

/* ---- events ---- */

static struct stub_event_set the_event_set;

EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret != NVML_SUCCESS) return ret;
    *set = &the_event_set;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long eventTypes, nvmlEventSet_t set) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0 || set != &the_event_set) return NVML_ERROR_INVALID_ARGUMENT;
    if (eventTypes & ~EVENT_TYPE_XID) return NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_lock(&stub_lock);
    stub_registered[i] |= (int)eventTypes;
    pthread_mutex_unlock(&stub_lock);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
    STUB_CALLED();
    if (set != &the_event_set || data == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeoutms / 1000;
    deadline.tv_nsec += (long)(timeoutms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int index, lost;
    unsigned long long xid;
    pthread_mutex_lock(&stub_lock);
    int got;
    while (!(got = stub_take_event(&index, &xid, &lost))) {
        if (pthread_cond_timedwait(&stub_changed, &stub_lock, &deadline) == ETIMEDOUT) {
            got = stub_take_event(&index, &xid, &lost);
            break;
        }
    }
    pthread_mutex_unlock(&stub_lock);
    if (!got) return NVML_ERROR_TIMEOUT;
    memset(data, 0, sizeof *data);
    data->device = &stub_devices[index];
    if (lost) return NVML_ERROR_GPU_IS_LOST;
    data->eventType = EVENT_TYPE_XID;
    data->eventData = xid;
    data->gpuInstanceId = NO_INSTANCE;
    data->computeInstanceId = NO_INSTANCE;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
    STUB_CALLED();
    if (set != &the_event_set) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&stub_lock);
    memset(stub_registered, 0, sizeof stub_registered);
    pthread_mutex_unlock(&stub_lock);
    return NVML_SUCCESS;
}
