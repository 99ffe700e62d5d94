/*
 * Internal declarations shared by the stub libnvidia-ml.so.1 sources (not an NVML header).
 *
 * The stub answers every NVML call the gpuwatch binding makes with deterministic values for a small fleet of
 * H100s, and exports stub_nvml_* control functions that tests call in-process (through FFM) to change its
 * behaviour: lose a GPU, force a return code, grow the process list, fire an Xid. Internal symbols are hidden
 * so that two builds of the stub loaded side by side (default and a variant) never bind to each other.
 */
#ifndef STUB_NVML_H
#define STUB_NVML_H

#include <pthread.h>
#include <stddef.h>

#define HIDDEN __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_UNKNOWN = 999,
};

#define STUB_MAX_DEVICES 16
#define STUB_MIG_SLOTS 7
#define STUB_MAX_PROCESSES 256
#define STUB_DEFAULT_DEVICES 4
/* The MIG-enabled device of the default fleet and how many MIG devices it carries (slots 0..n-1). */
#define STUB_MIG_DEVICE 3
#define STUB_MIG_DEVICES 2

#ifndef STUB_PROCESS_RECORD_SIZE
/* nvmlProcessInfo_v2_t is 24 bytes; R535-family drivers wrote 32-byte records (an extra
 * usedGpuCcProtectedMemory) into the _v3 call without a version bump. The "nvml-r535" variant sets 32. */
#define STUB_PROCESS_RECORD_SIZE 24
#endif

/* GPM: metric ids are below this (NVML_GPM_METRIC_MAX of NVML 13.2.1 is 333, the last id 332). */
#define STUB_GPM_IDS 333
/* Ring slots per device: 0 is the device itself, 1..STUB_MIG_SLOTS a GPU instance id. */
#define STUB_GPM_SLOTS (STUB_MIG_SLOTS + 1)
/* Per-process utilisation samples per device. */
#define STUB_MAX_UTIL_SAMPLES 64

/* nvmlDevice_t points at one of these: physical devices and MIG devices alike. */
typedef struct stub_device {
    int index;    /* physical device index (the parent's for a MIG device) */
    int mig_slot; /* -1 for a physical device */
} stub_device;

typedef struct stub_counter {
    const char *name;
    unsigned long long count;
    int registered;
    struct stub_counter *next;
} stub_counter;

/* All mutable state; guarded by stub_lock. */
typedef struct stub_state {
    unsigned device_count;
    int init_count;
    int lost[STUB_MAX_DEVICES];
    unsigned process_count[STUB_MAX_DEVICES];
    unsigned process_pid[STUB_MAX_DEVICES][STUB_MAX_PROCESSES]; /* 0 = the default pid */
    unsigned growth_per_call[STUB_MAX_DEVICES];
    unsigned growth_calls[STUB_MAX_DEVICES];
    int pcie_blocked;
    unsigned pcie_delay_us;
    /* GPM */
    int gpm_unsupported[STUB_MAX_DEVICES];
    unsigned char gpm_value_set[STUB_MAX_DEVICES][STUB_GPM_SLOTS][STUB_GPM_IDS];
    double gpm_value[STUB_MAX_DEVICES][STUB_GPM_SLOTS][STUB_GPM_IDS];
    unsigned long long gpm_asked[STUB_MAX_DEVICES][STUB_GPM_SLOTS][STUB_GPM_IDS];
    unsigned long long gpm_sequence;
    long gpm_live_samples;
    /* per-process utilisation samples (nvmlDeviceGetProcessesUtilizationInfo / GetProcessUtilization) */
    unsigned util_count[STUB_MAX_DEVICES];
    unsigned util_pid[STUB_MAX_DEVICES][STUB_MAX_UTIL_SAMPLES]; /* 0: the pid of process k */
    unsigned util_sm[STUB_MAX_DEVICES][STUB_MAX_UTIL_SAMPLES];
    unsigned util_mem[STUB_MAX_DEVICES][STUB_MAX_UTIL_SAMPLES];
    unsigned long long util_last_seen[STUB_MAX_DEVICES]; /* the lastSeenTimeStamp of the last call */
    /* MPS clients (nvmlDeviceGetMPSComputeRunningProcesses_v3) */
    unsigned mps_count[STUB_MAX_DEVICES];
} stub_state;

HIDDEN extern pthread_mutex_t stub_lock;
HIDDEN extern pthread_cond_t stub_changed;
HIDDEN extern stub_state stub;
HIDDEN extern stub_device stub_devices[STUB_MAX_DEVICES];
HIDDEN extern stub_device stub_migs[STUB_MAX_DEVICES][STUB_MIG_SLOTS];

/* Counts one call of the named function (see STUB_CALLED). */
HIDDEN void stub_count(stub_counter *counter);
/* The return code a test forced for this function on this device (-1: a call without a device), else 0. */
HIDDEN nvmlReturn_t stub_forced(const char *fn, int index);
/* Whether any test rule is set (lets hot loops skip the per-item lookups). */
HIDDEN int stub_has_forced(void);
/* Start of a call without a device: UNINITIALIZED before nvmlInit_v2, else the forced code (or 0). */
HIDDEN nvmlReturn_t stub_system_entry(const char *fn);
/* Validates a handle and applies init, lost and forced-failure rules; sets *index and *mig_slot. */
HIDDEN nvmlReturn_t stub_check_device(const void *device, const char *fn, int *index, int *mig_slot);
/* Puts the default fleet state back; the caller holds stub_lock. */
HIDDEN void stub_reset_locked(void);
/* Event types each device registered for (0: none). */
HIDDEN extern int stub_registered[STUB_MAX_DEVICES];
/* Queues an event for the event set; the caller holds stub_lock. */
HIDDEN void stub_queue_event(int index, unsigned long long xid, int lost);
/* Takes the next queued event; the caller holds stub_lock. Returns 0 when none is queued. */
HIDDEN int stub_take_event(int *index, unsigned long long *xid, int *lost);

#define STUB_CALLED()                                                  \
    static stub_counter stub_counter_ = {__func__, 0, 0, NULL};        \
    stub_count(&stub_counter_)

/* Start of every per-device entry point: counts the call and returns early on an invalid, lost or failed one. */
#define STUB_DEVICE_ENTRY(device, index, mig_slot)                                          \
    STUB_CALLED();                                                                          \
    int index, mig_slot;                                                                    \
    do {                                                                                    \
        nvmlReturn_t entry_ = stub_check_device((device), __func__, &index, &mig_slot);     \
        if (entry_ != NVML_SUCCESS) return entry_;                                          \
    } while (0)

#endif
