/*
 * Stub libcuda.so.1 for gpuwatch's binding tests: shared declarations.
 *
 * Types follow cuda.h on x86-64 (CUdevice is int, CUdeviceptr is 64-bit, handles are pointers), so that
 * JCuda's libJCudaDriver, linked against the real driver, calls into this library unchanged.
 */
#ifndef STUB_CUDA_H
#define STUB_CUDA_H

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct stub_context *CUcontext;
typedef struct stub_module *CUmodule;
typedef struct stub_function *CUfunction;
typedef struct stub_stream *CUstream;
typedef struct { char bytes[16]; } CUuuid;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_NOT_SUPPORTED = 801,
};

/* Counts one call of the named driver function (every exported cu* function calls this first). */
void stub_count(const char *function);

#endif
