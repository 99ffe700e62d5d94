/*
 * Stub libcuda.so.1: the part of the CUDA driver API that gpuwatch's CudaEnricher uses, with fake devices, a
 * call counter per function and failure injection, so the JCuda binding is tested through the real dynamic
 * loader (libJCudaDriver's DT_NEEDED libcuda.so.1 resolves here via LD_LIBRARY_PATH).
 *
 * Devices (default 2): identity i has UUID 5ca1ab1e-0000-4000-8000-00000000000<i>, PCI bus id
 * 0000:<0x10+i>:00.0 (the real driver's cuDeviceGetPCIBusId prints a 4-digit domain; NVML prints 8), name
 * "NVIDIA H100 80GB HBM3", compute capability 9.0, 132 SMs. The stub libnvidia-ml.so.1 uses the same
 * identities. CUDA ordinal o is identity o, or count-1-o after stub_cuda_reverse_order(1), to prove that
 * callers join CUDA and NVML devices by UUID and not by index.
 *
 * "Device memory" is host memory. The only kernel known is gpuwatch_health, the active health check's PTX
 * kernel (CudaHealthCheck.java): cuLaunchKernel applies its effect on the host, data[i] = 2 * data[i] + 1
 * for every i < n covered by the grid, so the caller's verification works.
 *
 * Control functions for tests (called through FFM) are the stub_cuda_* exports at the end of this file.
 * Every other cu* symbol libJCudaDriver references is in unsupported.c.
 */
#define _GNU_SOURCE
#include "stub_cuda.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 8
#define MAX_COUNTERS 512
#define MAX_FAILURES 32
#define MAX_ALLOCATIONS 64
#define NAME_LEN 64

struct stub_context { int ordinal; };
struct stub_module { struct stub_context *context; char *image; };
struct stub_function { struct stub_module *module; char name[NAME_LEN]; };
struct stub_stream { struct stub_context *context; int never_completes; };

struct counter { char name[NAME_LEN]; long count; };
struct failure { char name[NAME_LEN]; int ordinal; CUresult error; };
struct allocation { unsigned char *base; size_t size; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t unblocked = PTHREAD_COND_INITIALIZER;
static char blocked_function[NAME_LEN];
static struct counter counters[MAX_COUNTERS];
static int counter_count;
static struct failure failures[MAX_FAILURES];
static int failure_count;
static struct allocation allocations[MAX_ALLOCATIONS];
static int device_count = 2;
static int reversed;
static int initialized;
static int driver_version = 12060;
static int hung[MAX_DEVICES];
static int corrupt[MAX_DEVICES];
static int live_contexts;
static int live_modules;
static int live_streams;
static _Thread_local struct stub_context *current;

void stub_count(const char *function) {
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < counter_count && strcmp(counters[i].name, function) != 0) {
        i++;
    }
    if (i == counter_count && counter_count < MAX_COUNTERS) {
        snprintf(counters[i].name, NAME_LEN, "%s", function);
        counters[i].count = 0;
        counter_count++;
    }
    if (i < counter_count) {
        counters[i].count++;
    }
    pthread_mutex_unlock(&lock);
}

/* Holds a call of the blocked function until stub_cuda_unblock(), like a driver call stuck on a lost GPU. */
static void wait_while_blocked(const char *function) {
    pthread_mutex_lock(&lock);
    while (strcmp(blocked_function, function) == 0) {
        pthread_cond_wait(&unblocked, &lock);
    }
    pthread_mutex_unlock(&lock);
}

/* The error injected for this function on this ordinal (-1 in the rule matches every ordinal), or 0. */
static CUresult injected(const char *function, int ordinal) {
    CUresult error = CUDA_SUCCESS;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < failure_count; i++) {
        if (strcmp(failures[i].name, function) == 0 && (failures[i].ordinal < 0 || failures[i].ordinal == ordinal)) {
            error = failures[i].error;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return error;
}

static int identity(int ordinal) {
    return reversed ? device_count - 1 - ordinal : ordinal;
}

static int valid_device(CUdevice dev) {
    return dev >= 0 && dev < device_count;
}

#define ENTER(ordinal)                                            \
    stub_count(__func__);                                         \
    wait_while_blocked(__func__);                                 \
    do {                                                          \
        CUresult stub_error_ = injected(__func__, (ordinal));     \
        if (stub_error_ != CUDA_SUCCESS) return stub_error_;      \
    } while (0)

#define REQUIRE_INIT() \
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED

#define REQUIRE_DEVICE(dev)                         \
    REQUIRE_INIT();                                 \
    if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE

#define REQUIRE_CONTEXT() \
    REQUIRE_INIT();       \
    if (current == NULL) return CUDA_ERROR_INVALID_CONTEXT

static int current_ordinal(void) {
    return current == NULL ? -1 : current->ordinal;
}

/* ---- initialisation and devices: usable without a context ---- */

CUresult cuInit(unsigned int flags) {
    ENTER(-1);
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (device_count == 0) return CUDA_ERROR_NO_DEVICE;
    initialized = 1;
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *version) {
    ENTER(-1);
    if (version == NULL) return CUDA_ERROR_INVALID_VALUE;
    *version = driver_version;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
    ENTER(-1);
    REQUIRE_INIT();
    if (count == NULL) return CUDA_ERROR_INVALID_VALUE;
    *count = device_count;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    ENTER(ordinal);
    REQUIRE_DEVICE(ordinal);
    if (device == NULL) return CUDA_ERROR_INVALID_VALUE;
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
    ENTER(dev);
    REQUIRE_DEVICE(dev);
    if (name == NULL || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "%s", "NVIDIA H100 80GB HBM3");
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev) {
    ENTER(dev);
    REQUIRE_DEVICE(dev);
    if (uuid == NULL) return CUDA_ERROR_INVALID_VALUE;
    static const unsigned char prefix[15] = {0x5c, 0xa1, 0xab, 0x1e, 0x00, 0x00, 0x40, 0x00, 0x80, 0x00, 0, 0, 0, 0, 0};
    memcpy(uuid->bytes, prefix, sizeof prefix);
    uuid->bytes[15] = (char)identity(dev);
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetPCIBusId(char *pciBusId, int len, CUdevice dev) {
    ENTER(dev);
    REQUIRE_DEVICE(dev);
    if (pciBusId == NULL || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(pciBusId, (size_t)len, "0000:%02x:00.0", 0x10 + identity(dev));
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice dev) {
    ENTER(dev);
    REQUIRE_DEVICE(dev);
    if (value == NULL) return CUDA_ERROR_INVALID_VALUE;
    switch (attribute) {
        case 16: *value = 132; return CUDA_SUCCESS; /* CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT */
        case 75: *value = 9; return CUDA_SUCCESS;   /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR */
        case 76: *value = 0; return CUDA_SUCCESS;   /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR */
        default: return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev) {
    ENTER(dev);
    REQUIRE_DEVICE(dev);
    if (bytes == NULL) return CUDA_ERROR_INVALID_VALUE;
    *bytes = 85520809984ULL;
    return CUDA_SUCCESS;
}

/* ---- contexts: each costs GPU memory on a real device; passive mode must never reach these ---- */

#ifndef STUB_CUDA_WITHOUT_CTX_CREATE /* the cuda-without-ctx-create variant plays a driver lacking it */
CUresult cuCtxCreate_v2(CUcontext *context, unsigned int flags, CUdevice dev) {
    ENTER(dev);
    REQUIRE_DEVICE(dev);
    (void)flags;
    if (context == NULL) return CUDA_ERROR_INVALID_VALUE;
    struct stub_context *created = calloc(1, sizeof *created);
    if (created == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
    created->ordinal = dev;
    pthread_mutex_lock(&lock);
    live_contexts++;
    pthread_mutex_unlock(&lock);
    current = created;
    *context = created;
    return CUDA_SUCCESS;
}
#endif

CUresult cuCtxDestroy_v2(CUcontext context) {
    ENTER(context == NULL ? -1 : context->ordinal);
    REQUIRE_INIT();
    if (context == NULL) return CUDA_ERROR_INVALID_CONTEXT;
    if (current == context) current = NULL;
    free(context);
    pthread_mutex_lock(&lock);
    live_contexts--;
    pthread_mutex_unlock(&lock);
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext context) {
    ENTER(context == NULL ? -1 : context->ordinal);
    REQUIRE_INIT();
    current = context;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *context) {
    ENTER(current_ordinal());
    REQUIRE_INIT();
    if (context == NULL) return CUDA_ERROR_INVALID_VALUE;
    *context = current;
    return CUDA_SUCCESS;
}

/* ---- modules, memory, streams and the one known kernel ---- */

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    if (module == NULL || image == NULL) return CUDA_ERROR_INVALID_VALUE;
    /* Only PTX text is accepted; the real driver also takes cubins and fatbins, which gpuwatch never sends. */
    if (strstr(image, ".version") == NULL || strstr(image, ".target") == NULL) return CUDA_ERROR_INVALID_IMAGE;
    struct stub_module *loaded = calloc(1, sizeof *loaded);
    if (loaded == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
    loaded->context = current;
    loaded->image = strdup(image);
    pthread_mutex_lock(&lock);
    live_modules++;
    pthread_mutex_unlock(&lock);
    *module = loaded;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
    ENTER(module == NULL ? -1 : module->context->ordinal);
    REQUIRE_INIT();
    if (module == NULL) return CUDA_ERROR_INVALID_HANDLE;
    free(module->image);
    free(module);
    pthread_mutex_lock(&lock);
    live_modules--;
    pthread_mutex_unlock(&lock);
    return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    if (function == NULL || module == NULL || name == NULL || strlen(name) >= NAME_LEN) return CUDA_ERROR_INVALID_VALUE;
    char entry[NAME_LEN + 16];
    snprintf(entry, sizeof entry, ".entry %s(", name);
    if (strstr(module->image, entry) == NULL) return CUDA_ERROR_NOT_FOUND;
    /* Functions live as long as their module in the real driver; the stub keeps them until exit, a few bytes. */
    struct stub_function *found = calloc(1, sizeof *found);
    if (found == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
    found->module = module;
    snprintf(found->name, NAME_LEN, "%s", name);
    *function = found;
    return CUDA_SUCCESS;
}

static struct allocation *find_allocation(CUdeviceptr pointer, size_t size) {
    for (int i = 0; i < MAX_ALLOCATIONS; i++) {
        struct allocation *a = &allocations[i];
        uintptr_t p = (uintptr_t)pointer, base = (uintptr_t)a->base;
        if (a->base != NULL && p >= base && size <= a->size && p - base <= a->size - size) return a;
    }
    return NULL;
}

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t size) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    if (pointer == NULL || size == 0) return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&lock);
    CUresult result = CUDA_ERROR_OUT_OF_MEMORY;
    for (int i = 0; i < MAX_ALLOCATIONS; i++) {
        if (allocations[i].base == NULL) {
            allocations[i].base = calloc(1, size);
            if (allocations[i].base == NULL) break;
            allocations[i].size = size;
            *pointer = (CUdeviceptr)(uintptr_t)allocations[i].base;
            result = CUDA_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    pthread_mutex_lock(&lock);
    struct allocation *a = find_allocation(pointer, 0);
    CUresult result = CUDA_ERROR_INVALID_VALUE;
    if (a != NULL && (uintptr_t)a->base == (uintptr_t)pointer) {
        free(a->base);
        a->base = NULL;
        a->size = 0;
        result = CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&lock);
    return result;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr destination, const void *source, size_t size) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    pthread_mutex_lock(&lock);
    struct allocation *a = find_allocation(destination, size);
    pthread_mutex_unlock(&lock);
    if (a == NULL || source == NULL) return CUDA_ERROR_INVALID_VALUE;
    memcpy((void *)(uintptr_t)destination, source, size);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH_v2(void *destination, CUdeviceptr source, size_t size) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    pthread_mutex_lock(&lock);
    struct allocation *a = find_allocation(source, size);
    pthread_mutex_unlock(&lock);
    if (a == NULL || destination == NULL) return CUDA_ERROR_INVALID_VALUE;
    memcpy(destination, (const void *)(uintptr_t)source, size);
    return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream *stream, unsigned int flags) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    (void)flags;
    if (stream == NULL) return CUDA_ERROR_INVALID_VALUE;
    struct stub_stream *created = calloc(1, sizeof *created);
    if (created == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
    created->context = current;
    pthread_mutex_lock(&lock);
    live_streams++;
    pthread_mutex_unlock(&lock);
    *stream = created;
    return CUDA_SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
    ENTER(stream == NULL ? -1 : stream->context->ordinal);
    REQUIRE_INIT();
    if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
    free(stream);
    pthread_mutex_lock(&lock);
    live_streams--;
    pthread_mutex_unlock(&lock);
    return CUDA_SUCCESS;
}

CUresult cuStreamQuery(CUstream stream) {
    ENTER(stream == NULL ? current_ordinal() : stream->context->ordinal);
    REQUIRE_CONTEXT();
    if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
    return stream->never_completes ? CUDA_ERROR_NOT_READY : CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
    ENTER(stream == NULL ? current_ordinal() : stream->context->ordinal);
    REQUIRE_CONTEXT();
    if (stream == NULL) return CUDA_ERROR_INVALID_HANDLE;
    /* A hung kernel would block here forever on a real GPU, which is why gpuwatch polls cuStreamQuery. */
    return stream->never_completes ? CUDA_ERROR_NOT_SUPPORTED : CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                        unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedBytes,
                        CUstream stream, void **params, void **extra) {
    ENTER(current_ordinal());
    REQUIRE_CONTEXT();
    (void)sharedBytes;
    (void)extra;
    if (function == NULL || function->module->context != current) return CUDA_ERROR_INVALID_HANDLE;
    if (stream != NULL && stream->context != current) return CUDA_ERROR_INVALID_HANDLE;
    if (gridX == 0 || gridY == 0 || gridZ == 0 || blockX == 0 || blockY == 0 || blockZ == 0 ||
        blockX * blockY * blockZ > 1024) return CUDA_ERROR_INVALID_VALUE;
    if (strcmp(function->name, "gpuwatch_health") != 0 || params == NULL) return CUDA_ERROR_NOT_SUPPORTED;

    /* gpuwatch_health(unsigned int *data, unsigned int n): data[i] = 2 * data[i] + 1 for covered i < n. */
    CUdeviceptr data = *(CUdeviceptr *)params[0];
    unsigned int n = *(unsigned int *)params[1];
    pthread_mutex_lock(&lock);
    struct allocation *a = find_allocation(data, (size_t)n * sizeof(unsigned int));
    int corrupted = corrupt[current->ordinal];
    int never_completes = hung[current->ordinal];
    pthread_mutex_unlock(&lock);
    if (a == NULL) return 700; /* CUDA_ERROR_ILLEGAL_ADDRESS, as a real kernel would fault */
    unsigned int *values = (unsigned int *)(uintptr_t)data;
    unsigned long long threads = (unsigned long long)gridX * blockX;
    for (unsigned int i = 0; i < n && i < threads; i++) {
        values[i] = 2 * values[i] + (corrupted ? 0 : 1);
    }
    if (stream != NULL && never_completes) stream->never_completes = 1;
    return CUDA_SUCCESS;
}

CUresult cuGetErrorName(CUresult error, const char **name) {
    stub_count(__func__);
    if (name == NULL) return CUDA_ERROR_INVALID_VALUE;
    *name = error == CUDA_SUCCESS ? "CUDA_SUCCESS" : "CUDA_ERROR_STUB";
    return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult error, const char **text) {
    stub_count(__func__);
    if (text == NULL) return CUDA_ERROR_INVALID_VALUE;
    *text = error == CUDA_SUCCESS ? "no error" : "stub error";
    return CUDA_SUCCESS;
}

/* ---- control functions for tests ---- */

/* Back to 2 devices in natural order, nothing injected, counters zeroed, cuInit not yet called. Live
 * context/module/stream/allocation counts are kept, so a leak shows up in the test that caused it. */
void stub_cuda_reset(void) {
    pthread_mutex_lock(&lock);
    counter_count = 0;
    failure_count = 0;
    device_count = 2;
    reversed = 0;
    initialized = 0;
    driver_version = 12060;
    memset(hung, 0, sizeof hung);
    memset(corrupt, 0, sizeof corrupt);
    blocked_function[0] = '\0';
    pthread_cond_broadcast(&unblocked);
    pthread_mutex_unlock(&lock);
}

long stub_cuda_call_count(const char *function) {
    long count = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < counter_count; i++) {
        if (strcmp(counters[i].name, function) == 0) count = counters[i].count;
    }
    pthread_mutex_unlock(&lock);
    return count;
}

/* Writes the names of all functions called since the last reset, comma-separated, into buffer. */
void stub_cuda_called_functions(char *buffer, int len) {
    if (buffer == NULL || len <= 0) return;
    buffer[0] = '\0';
    size_t used = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < counter_count; i++) {
        int written = snprintf(buffer + used, (size_t)len - used, "%s%s", used == 0 ? "" : ",", counters[i].name);
        if (written < 0 || (size_t)written >= (size_t)len - used) break;
        used += (size_t)written;
    }
    pthread_mutex_unlock(&lock);
}

void stub_cuda_set_device_count(int count) {
    pthread_mutex_lock(&lock);
    device_count = count < 0 ? 0 : count > MAX_DEVICES ? MAX_DEVICES : count;
    pthread_mutex_unlock(&lock);
}

void stub_cuda_set_driver_version(int version) {
    pthread_mutex_lock(&lock);
    driver_version = version;
    pthread_mutex_unlock(&lock);
}

/* CUDA ordinal o becomes identity count-1-o, as CUDA_VISIBLE_DEVICES or FASTEST_FIRST ordering would. */
void stub_cuda_reverse_order(int reverse) {
    pthread_mutex_lock(&lock);
    reversed = reverse != 0;
    pthread_mutex_unlock(&lock);
}

/* Makes the named driver function return error for the given CUDA ordinal (-1: every ordinal). */
void stub_cuda_fail_call(const char *function, int ordinal, int error) {
    pthread_mutex_lock(&lock);
    if (failure_count < MAX_FAILURES) {
        snprintf(failures[failure_count].name, NAME_LEN, "%s", function);
        failures[failure_count].ordinal = ordinal;
        failures[failure_count].error = error;
        failure_count++;
    }
    pthread_mutex_unlock(&lock);
}

/* Kernels launched on this ordinal never complete: cuStreamQuery answers CUDA_ERROR_NOT_READY for ever. */
void stub_cuda_hang_kernels(int ordinal, int hang) {
    pthread_mutex_lock(&lock);
    if (ordinal >= 0 && ordinal < MAX_DEVICES) hung[ordinal] = hang != 0;
    pthread_mutex_unlock(&lock);
}

/* Kernels on this ordinal compute a wrong result (2 * x instead of 2 * x + 1) but report success. */
void stub_cuda_corrupt_results(int ordinal, int corrupted) {
    pthread_mutex_lock(&lock);
    if (ordinal >= 0 && ordinal < MAX_DEVICES) corrupt[ordinal] = corrupted != 0;
    pthread_mutex_unlock(&lock);
}

/* Calls of the named function block (after being counted) until stub_cuda_unblock(). */
void stub_cuda_block_call(const char *function) {
    pthread_mutex_lock(&lock);
    snprintf(blocked_function, NAME_LEN, "%s", function);
    pthread_mutex_unlock(&lock);
}

void stub_cuda_unblock(void) {
    pthread_mutex_lock(&lock);
    blocked_function[0] = '\0';
    pthread_cond_broadcast(&unblocked);
    pthread_mutex_unlock(&lock);
}

int stub_cuda_live_contexts(void) { return live_contexts; }
int stub_cuda_live_modules(void) { return live_modules; }
int stub_cuda_live_streams(void) { return live_streams; }

int stub_cuda_live_allocations(void) {
    int live = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_ALLOCATIONS; i++) live += allocations[i].base != NULL;
    pthread_mutex_unlock(&lock);
    return live;
}
