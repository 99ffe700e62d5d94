/*
 * The stub's mutable state and the stub_nvml_* control functions tests call in-process.
 */
#define _GNU_SOURCE
#include "stub_nvml.h"

#include <stdlib.h>
#include <string.h>

HIDDEN pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
HIDDEN pthread_cond_t stub_changed = PTHREAD_COND_INITIALIZER;
HIDDEN stub_state stub;
HIDDEN stub_device stub_devices[STUB_MAX_DEVICES];
HIDDEN stub_device stub_migs[STUB_MAX_DEVICES][STUB_MIG_SLOTS];

static stub_counter *counters;

#define MAX_FORCED 64
static struct {
    char fn[96];
    int index; /* -1: every device and device-less calls */
    nvmlReturn_t ret;
} forced[MAX_FORCED];
static int forced_count;

#define MAX_EVENTS 256
static struct {
    int index;
    unsigned long long xid;
    int lost;
} events[MAX_EVENTS];
static int event_head, event_count;
HIDDEN int stub_registered[STUB_MAX_DEVICES];

__attribute__((constructor)) static void stub_load(void) {
    for (int i = 0; i < STUB_MAX_DEVICES; i++) {
        stub_devices[i] = (stub_device){i, -1};
        for (int j = 0; j < STUB_MIG_SLOTS; j++) stub_migs[i][j] = (stub_device){i, j};
    }
    pthread_mutex_lock(&stub_lock);
    stub_reset_locked();
    pthread_mutex_unlock(&stub_lock);
}

HIDDEN void stub_reset_locked(void) {
    memset(&stub, 0, sizeof stub);
    const char *count = getenv("STUB_NVML_DEVICE_COUNT");
    int n = count ? atoi(count) : STUB_DEFAULT_DEVICES;
    stub.device_count = n > 0 && n <= STUB_MAX_DEVICES ? (unsigned)n : STUB_DEFAULT_DEVICES;
    /* device 0: 1 process, 1: 2, 2: none, 3 (MIG): 2 */
    for (unsigned i = 0; i < stub.device_count; i++) stub.process_count[i] = i == 2 ? 0 : (i == 0 ? 1 : 2);
    stub.pcie_delay_us = 20000; /* the real call measures over ~20 ms */
    /* one utilisation sample per default process: SM 10 + 10k + i %, memory 5 + k + i % */
    for (unsigned i = 0; i < stub.device_count; i++) {
        stub.util_count[i] = stub.process_count[i];
        for (unsigned k = 0; k < STUB_MAX_UTIL_SAMPLES; k++) {
            stub.util_sm[i][k] = 10 + 10 * k + i;
            stub.util_mem[i][k] = 5 + k + i;
        }
    }
    for (stub_counter *c = counters; c; c = c->next) c->count = 0;
    forced_count = 0;
    event_head = event_count = 0;
    memset(stub_registered, 0, sizeof stub_registered);
    pthread_cond_broadcast(&stub_changed);
}

HIDDEN void stub_count(stub_counter *counter) {
    pthread_mutex_lock(&stub_lock);
    if (!counter->registered) {
        counter->registered = 1;
        counter->next = counters;
        counters = counter;
    }
    counter->count++;
    pthread_mutex_unlock(&stub_lock);
}

HIDDEN nvmlReturn_t stub_forced(const char *fn, int index) {
    nvmlReturn_t ret = NVML_SUCCESS;
    pthread_mutex_lock(&stub_lock);
    for (int i = 0; i < forced_count; i++) {
        if ((forced[i].index == -1 || forced[i].index == index) && strcmp(forced[i].fn, fn) == 0) {
            ret = forced[i].ret;
            break;
        }
    }
    pthread_mutex_unlock(&stub_lock);
    return ret;
}

HIDDEN int stub_has_forced(void) {
    pthread_mutex_lock(&stub_lock);
    int any = forced_count > 0;
    pthread_mutex_unlock(&stub_lock);
    return any;
}

HIDDEN nvmlReturn_t stub_system_entry(const char *fn) {
    pthread_mutex_lock(&stub_lock);
    int initialised = stub.init_count > 0;
    pthread_mutex_unlock(&stub_lock);
    return initialised ? stub_forced(fn, -1) : NVML_ERROR_UNINITIALIZED;
}

HIDDEN nvmlReturn_t stub_check_device(const void *device, const char *fn, int *index, int *mig_slot) {
    const stub_device *d = device;
    const char *lo = (const char *)stub_devices, *hi = (const char *)(stub_devices + STUB_MAX_DEVICES);
    const char *mlo = (const char *)stub_migs, *mhi = (const char *)(stub_migs + STUB_MAX_DEVICES);
    const char *p = device;
    if (!((p >= lo && p < hi) || (p >= mlo && p < mhi))) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&stub_lock);
    int initialised = stub.init_count > 0;
    int in_fleet = (unsigned)d->index < stub.device_count;
    int lost = in_fleet && stub.lost[d->index];
    pthread_mutex_unlock(&stub_lock);
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    if (!in_fleet) return NVML_ERROR_INVALID_ARGUMENT;
    if (lost) return NVML_ERROR_GPU_IS_LOST;
    *index = d->index;
    *mig_slot = d->mig_slot;
    return stub_forced(fn, d->index);
}

HIDDEN void stub_queue_event(int index, unsigned long long xid, int lost) {
    if (event_count == MAX_EVENTS) return;
    int tail = (event_head + event_count) % MAX_EVENTS;
    events[tail].index = index;
    events[tail].xid = xid;
    events[tail].lost = lost;
    event_count++;
    pthread_cond_broadcast(&stub_changed);
}

/* Takes the next queued event; the caller holds stub_lock. Returns 0 when none is queued. */
HIDDEN int stub_take_event(int *index, unsigned long long *xid, int *lost) {
    if (event_count == 0) return 0;
    *index = events[event_head].index;
    *xid = events[event_head].xid;
    *lost = events[event_head].lost;
    event_head = (event_head + 1) % MAX_EVENTS;
    event_count--;
    return 1;
}

/* ---- control functions (exported; called by tests through FFM) ---- */

/** Puts the default fleet back and zeroes every call count. Call it with no probe open. */
EXPORT void stub_nvml_reset(void) {
    pthread_mutex_lock(&stub_lock);
    stub_reset_locked();
    pthread_mutex_unlock(&stub_lock);
}

/** How many times the named NVML function was called since load or the last reset. */
EXPORT unsigned long long stub_nvml_call_count(const char *fn) {
    unsigned long long count = 0;
    pthread_mutex_lock(&stub_lock);
    for (stub_counter *c = counters; c; c = c->next) {
        if (strcmp(c->name, fn) == 0) count = c->count;
    }
    pthread_mutex_unlock(&stub_lock);
    return count;
}

/**
 * Makes the named function return `ret` for device `index` (-1: every device, and device-less functions such as
 * nvmlInit_v2). ret 0 removes the rule.
 */
EXPORT void stub_nvml_fail(const char *fn, int index, int ret) {
    pthread_mutex_lock(&stub_lock);
    int i = 0;
    while (i < forced_count && !(forced[i].index == index && strcmp(forced[i].fn, fn) == 0)) i++;
    if (ret == NVML_SUCCESS) {
        if (i < forced_count) forced[i] = forced[--forced_count];
    } else if (i < MAX_FORCED) {
        strncpy(forced[i].fn, fn, sizeof forced[i].fn - 1);
        forced[i].fn[sizeof forced[i].fn - 1] = '\0';
        forced[i].index = index;
        forced[i].ret = ret;
        if (i == forced_count) forced_count++;
    }
    pthread_mutex_unlock(&stub_lock);
}

/**
 * Loses (1) or restores (0) a GPU: while lost every call on it returns NVML_ERROR_GPU_IS_LOST, and losing it
 * also makes a registered event set's wait return GPU_IS_LOST once for it.
 */
EXPORT void stub_nvml_set_lost(int index, int lost) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    if (lost && !stub.lost[index] && stub_registered[index]) stub_queue_event(index, 0, 1);
    stub.lost[index] = lost;
    pthread_mutex_unlock(&stub_lock);
}

/** Sets how many compute processes device `index` runs (pids default to 4000000 + 1000 * index + k). */
EXPORT void stub_nvml_set_process_count(int index, unsigned count) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    stub.process_count[index] = count < STUB_MAX_PROCESSES ? count : STUB_MAX_PROCESSES;
    pthread_mutex_unlock(&stub_lock);
}

/** Gives process `k` of device `index` this pid (0: the default). */
EXPORT void stub_nvml_set_process_pid(int index, unsigned k, unsigned pid) {
    if (index < 0 || index >= STUB_MAX_DEVICES || k >= STUB_MAX_PROCESSES) return;
    pthread_mutex_lock(&stub_lock);
    stub.process_pid[index][k] = pid;
    pthread_mutex_unlock(&stub_lock);
}

/** The next `calls` process queries on device `index` each find `per_call` more processes than the last. */
EXPORT void stub_nvml_grow_processes(int index, unsigned per_call, unsigned calls) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    stub.growth_per_call[index] = per_call;
    stub.growth_calls[index] = calls;
    pthread_mutex_unlock(&stub_lock);
}

/** Raises an Xid critical error on device `index`; delivered only if the device registered for Xid events. */
EXPORT void stub_nvml_fire_xid(int index, unsigned long long xid) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    if (stub_registered[index] & 0x8) stub_queue_event(index, xid, 0);
    pthread_mutex_unlock(&stub_lock);
}

/** While blocked (1), nvmlDeviceGetPcieThroughput waits instead of answering. */
EXPORT void stub_nvml_block_pcie(int blocked) {
    pthread_mutex_lock(&stub_lock);
    stub.pcie_blocked = blocked;
    pthread_cond_broadcast(&stub_changed);
    pthread_mutex_unlock(&stub_lock);
}

/* ---- GPM ---- */

/** Whether device `index` supports GPM (nvmlGpmQueryDeviceSupport's isSupportedDevice; default 1). */
EXPORT void stub_nvml_set_gpm_supported(int index, int supported) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    stub.gpm_unsupported[index] = !supported;
    pthread_mutex_unlock(&stub_lock);
}

/** The value metric `id` of device `index` gives (gpu_instance 0: the device, else that GPU instance). */
EXPORT void stub_nvml_set_gpm_value(int index, int gpu_instance, int id, double value) {
    if (index < 0 || index >= STUB_MAX_DEVICES || gpu_instance < 0 || gpu_instance >= STUB_GPM_SLOTS || id < 0
        || id >= STUB_GPM_IDS) return;
    pthread_mutex_lock(&stub_lock);
    stub.gpm_value[index][gpu_instance][id] = value;
    stub.gpm_value_set[index][gpu_instance][id] = 1;
    pthread_mutex_unlock(&stub_lock);
}

/** How many nvmlGpmMetricsGet calls asked for metric `id` on device `index` (gpu_instance as above). */
EXPORT unsigned long long stub_nvml_gpm_asked(int index, int gpu_instance, int id) {
    if (index < 0 || index >= STUB_MAX_DEVICES || gpu_instance < 0 || gpu_instance >= STUB_GPM_SLOTS || id < 0
        || id >= STUB_GPM_IDS) return 0;
    pthread_mutex_lock(&stub_lock);
    unsigned long long asked = stub.gpm_asked[index][gpu_instance][id];
    pthread_mutex_unlock(&stub_lock);
    return asked;
}

/** GPM samples allocated and not yet freed since load or the last reset. */
EXPORT long stub_nvml_gpm_live_samples(void) {
    pthread_mutex_lock(&stub_lock);
    long live = stub.gpm_live_samples;
    pthread_mutex_unlock(&stub_lock);
    return live;
}

/* ---- per-process utilisation and MPS ---- */

/** Device `index` has `count` utilisation samples (0: NOT_FOUND, no process had a sample). */
EXPORT void stub_nvml_set_utilization_count(int index, unsigned count) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    stub.util_count[index] = count < STUB_MAX_UTIL_SAMPLES ? count : STUB_MAX_UTIL_SAMPLES;
    pthread_mutex_unlock(&stub_lock);
}

/** Sample `k` of device `index`: its pid (0: the pid of process k) and SM / memory utilisation in percent. */
EXPORT void stub_nvml_set_utilization(int index, unsigned k, unsigned pid, unsigned sm, unsigned mem) {
    if (index < 0 || index >= STUB_MAX_DEVICES || k >= STUB_MAX_UTIL_SAMPLES) return;
    pthread_mutex_lock(&stub_lock);
    stub.util_pid[index][k] = pid;
    stub.util_sm[index][k] = sm;
    stub.util_mem[index][k] = mem;
    pthread_mutex_unlock(&stub_lock);
}

/** The lastSeenTimeStamp the latest utilisation call on device `index` passed. */
EXPORT unsigned long long stub_nvml_utilization_last_seen(int index) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return 0;
    pthread_mutex_lock(&stub_lock);
    unsigned long long seen = stub.util_last_seen[index];
    pthread_mutex_unlock(&stub_lock);
    return seen;
}

/** Device `index` serves `count` MPS clients (pid 5000000 + 1000 * index + k, (k+1) * 128 MiB; default 0). */
EXPORT void stub_nvml_set_mps_count(int index, unsigned count) {
    if (index < 0 || index >= STUB_MAX_DEVICES) return;
    pthread_mutex_lock(&stub_lock);
    stub.mps_count[index] = count < STUB_MAX_PROCESSES ? count : STUB_MAX_PROCESSES;
    pthread_mutex_unlock(&stub_lock);
}
