/*
 * backend-cuda.cu: the CUDA backend's table and module entry point. Built only when nvcc is found,
 * loaded only through dlopen by backend-registry.cpp. The probe reports "no device: <reason>" on
 * machines without a GPU or driver, which is how this module behaves on the CPU machines.
 */
#include <cuda_runtime.h>

#include <cstdio>
#include <dlfcn.h>

#include "backends/backend.h"

namespace {
int cuda_probe(char * detail, size_t detail_len) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        // cudart says "insufficient driver" also when there is no driver at all: libcuda never loaded
        bool no_driver = err == cudaErrorInsufficientDriver && !dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
        std::snprintf(detail, detail_len, "no device: %s", no_driver ? "no NVIDIA driver (libcuda.so.1 not found)" : cudaGetErrorString(err));
        return 0;
    }
    if (count == 0) {
        std::snprintf(detail, detail_len, "no device: cudaGetDeviceCount returned 0");
        return 0;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        std::snprintf(detail, detail_len, "no device: cannot read device 0 properties");
        return 0;
    }
    std::snprintf(detail, detail_len, "%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
                  prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return 100;  // preferred over the CPU whenever a device is present
}
const engine_backend_i g_cuda_backend = {ENGINE_BACKEND_API_VERSION, "cuda", cuda_probe};
}  // namespace

extern "C" __attribute__((visibility("default"))) const engine_backend_i * engine_backend_entry(void) {
    return &g_cuda_backend;
}
