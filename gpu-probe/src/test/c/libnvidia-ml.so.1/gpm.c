/*
 * GPU Performance Monitoring (nvml.h, NVML API 13 declarations; this stub behaves as NVML 12.4, driver 550):
 *   nvmlGpmQueryDeviceSupport: version 1 or ARGUMENT_VERSION_MISMATCH; every device supports GPM unless a test
 *     says otherwise (stub_nvml_set_gpm_supported); then nvmlGpmSampleGet answers NOT_SUPPORTED on it.
 *   nvmlGpmSampleGet on a physical device, nvmlGpmMigSampleGet(parent, gpu instance id) on the MIG device's GPU
 *     instances 1..STUB_MIG_DEVICES (NOT_FOUND for others, NOT_SUPPORTED off MIG).
 *   nvmlGpmMetricsGet: version 1 or ARGUMENT_VERSION_MISMATCH; at most 98 metrics (NVML_GPM_METRIC_MAX before
 *     12.9) else INVALID_ARGUMENT; both samples allocated, filled, of the same device or GPU instance, sample2
 *     taken after sample1, else INVALID_ARGUMENT. Each metric gets its own nvmlReturn: NOT_SUPPORTED for ids the
 *     stub does not know and for 8 (DMMA, NVML 13.2.1+), a forced code for "gpm:<id>" (stub_nvml_fail), else
 *     SUCCESS with the value a test set (stub_nvml_set_gpm_value) or 0.5 * (id % 100) + i + 0.25 * gi
 *     (device i; gi 0 for the device, else the GPU instance id), percent or MiB/s as the id says.
 */
#define _GNU_SOURCE
#include "stub_nvml.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#ifndef STUB_LEGACY_DRIVER /* drivers before R520 have no GPM symbols */

typedef stub_device *nvmlDevice_t;

typedef struct {
    unsigned int version;
    unsigned int isSupportedDevice;
} nvmlGpmSupport_t;

#define SAMPLE_MAGIC 0x67706d73u /* "gpms" */

typedef struct stub_gpm_sample {
    unsigned magic;
    int filled;
    int index;
    int slot; /* 0: the device, else the GPU instance id */
    unsigned long long sequence;
} *nvmlGpmSample_t;

typedef struct {
    unsigned int metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    struct {
        char *shortName;
        char *longName;
        char *unit;
    } metricInfo;
} nvmlGpmMetric_t;

#define NVML_GPM_METRIC_MAX 333
#define NVML_GPM_METRIC_MAX_12_4 98

typedef struct {
    unsigned int version;
    unsigned int numMetrics;
    nvmlGpmSample_t sample1;
    nvmlGpmSample_t sample2;
    nvmlGpmMetric_t metrics[NVML_GPM_METRIC_MAX];
} nvmlGpmMetricsGet_t;

_Static_assert(sizeof(nvmlGpmMetric_t) == 40, "nvmlGpmMetric_t is 40 bytes on x86-64");
_Static_assert(offsetof(nvmlGpmMetricsGet_t, metrics) == 24, "metrics start at offset 24");

#define GPM_SUPPORT_VERSION 1
#define GPM_METRICS_GET_VERSION 1

static char SHORT_NAME[] = "stub", LONG_NAME[] = "stub metric", PERCENT[] = "%", MIB_PER_SECOND[] = "MiB/sec";

/* Ids this stub's driver knows (the ones gpuwatch maps, REFERENCE section 9). */
static int known(unsigned id) {
    return (id >= 1 && id <= 13) || id == 20 || id == 21 || (id >= 30 && id <= 37) || (id >= 40 && id <= 47)
           || id == 50 || id == 51 || (id >= 60 && id <= 97) || (id >= 166 && id <= 169);
}

static int throughput(unsigned id) {
    return id == 20 || id == 21 || (id >= 60 && id <= 97);
}

EXPORT nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t device, nvmlGpmSupport_t *gpmSupport) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (gpmSupport == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (gpmSupport->version != GPM_SUPPORT_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    pthread_mutex_lock(&stub_lock);
    gpmSupport->isSupportedDevice = mig < 0 && !stub.gpm_unsupported[i];
    pthread_mutex_unlock(&stub_lock);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *gpmSample) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret != NVML_SUCCESS) return ret;
    if (gpmSample == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlGpmSample_t sample = calloc(1, sizeof *sample);
    if (sample == NULL) return NVML_ERROR_UNKNOWN;
    sample->magic = SAMPLE_MAGIC;
    pthread_mutex_lock(&stub_lock);
    stub.gpm_live_samples++;
    pthread_mutex_unlock(&stub_lock);
    *gpmSample = sample;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t gpmSample) {
    STUB_CALLED();
    if (gpmSample == NULL || gpmSample->magic != SAMPLE_MAGIC) return NVML_ERROR_INVALID_ARGUMENT;
    gpmSample->magic = 0;
    free(gpmSample);
    pthread_mutex_lock(&stub_lock);
    stub.gpm_live_samples--;
    pthread_mutex_unlock(&stub_lock);
    return NVML_SUCCESS;
}

static nvmlReturn_t fill(nvmlGpmSample_t sample, int index, int slot) {
    if (sample == NULL || sample->magic != SAMPLE_MAGIC) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&stub_lock);
    int unsupported = stub.gpm_unsupported[index];
    sample->sequence = ++stub.gpm_sequence;
    pthread_mutex_unlock(&stub_lock);
    if (unsupported) return NVML_ERROR_NOT_SUPPORTED;
    sample->filled = 1;
    sample->index = index;
    sample->slot = slot;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t device, nvmlGpmSample_t gpmSample) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0) return NVML_ERROR_INVALID_ARGUMENT; /* GPU instances go through nvmlGpmMigSampleGet */
    return fill(gpmSample, i, 0);
}

EXPORT nvmlReturn_t nvmlGpmMigSampleGet(nvmlDevice_t device, unsigned int gpuInstanceId, nvmlGpmSample_t gpmSample) {
    STUB_DEVICE_ENTRY(device, i, mig);
    if (mig >= 0) return NVML_ERROR_INVALID_ARGUMENT; /* the parent's handle, not a MIG device's */
    if (i != STUB_MIG_DEVICE) return NVML_ERROR_NOT_SUPPORTED;
    if (gpuInstanceId < 1 || gpuInstanceId > STUB_MIG_DEVICES) return NVML_ERROR_NOT_FOUND;
    return fill(gpmSample, i, (int)gpuInstanceId);
}

EXPORT nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *metricsGet) {
    STUB_CALLED();
    nvmlReturn_t ret = stub_system_entry(__func__);
    if (ret != NVML_SUCCESS) return ret;
    if (metricsGet == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (metricsGet->version != GPM_METRICS_GET_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (metricsGet->numMetrics > NVML_GPM_METRIC_MAX_12_4) return NVML_ERROR_INVALID_ARGUMENT;
    nvmlGpmSample_t s1 = metricsGet->sample1, s2 = metricsGet->sample2;
    if (s1 == NULL || s2 == NULL || s1->magic != SAMPLE_MAGIC || s2->magic != SAMPLE_MAGIC) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (!s1->filled || !s2->filled || s1->index != s2->index || s1->slot != s2->slot || s2->sequence <= s1->sequence) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    int i = s1->index, slot = s1->slot;
    pthread_mutex_lock(&stub_lock);
    int lost = stub.lost[i];
    pthread_mutex_unlock(&stub_lock);
    if (lost) return NVML_ERROR_GPU_IS_LOST;
    ret = stub_forced(__func__, i);
    if (ret != NVML_SUCCESS) return ret;
    int rules = stub_has_forced();
    for (unsigned k = 0; k < metricsGet->numMetrics; k++) {
        nvmlGpmMetric_t *m = &metricsGet->metrics[k];
        unsigned id = m->metricId;
        nvmlReturn_t forced = NVML_SUCCESS;
        if (rules) {
            char name[32];
            snprintf(name, sizeof name, "gpm:%u", id);
            forced = stub_forced(name, i);
        }
        m->value = 0;
        m->metricInfo.shortName = SHORT_NAME;
        m->metricInfo.longName = LONG_NAME;
        m->metricInfo.unit = throughput(id) ? MIB_PER_SECOND : PERCENT;
        pthread_mutex_lock(&stub_lock);
        if (id < STUB_GPM_IDS) stub.gpm_asked[i][slot][id]++;
        if (forced != NVML_SUCCESS) {
            m->nvmlReturn = forced;
        } else if (!known(id) || id == 8) {
            m->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        } else {
            m->nvmlReturn = NVML_SUCCESS;
            m->value = stub.gpm_value_set[i][slot][id] ? stub.gpm_value[i][slot][id]
                                                       : 0.5 * (id % 100) + i + 0.25 * slot;
        }
        pthread_mutex_unlock(&stub_lock);
    }
    return NVML_SUCCESS;
}

#endif
