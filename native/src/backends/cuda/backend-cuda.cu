/*
 * backend-cuda.cu: the CUDA backend's table (the probe; the ops are null until written) and module entry point. Built only when nvcc is found,
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
// The ops are not written yet (issue #18): every member past probe stays null, so
// backend_missing_ops names them all and a model asked to load on "cuda" is refused (UNSUPPORTED)
// while "auto" keeps choosing the CPU.
engine_backend_i make_table() {
    engine_backend_i t{};
    t.api_version = ENGINE_BACKEND_API_VERSION;
    t.name = "cuda";
    t.probe = cuda_probe;
    t.host_memory = 0;  // device memory: weights and KV will be uploaded
    return t;
}
}  // namespace

extern "C" __attribute__((visibility("default"))) const engine_backend_i * engine_backend_entry(void) {
    static const engine_backend_i table = make_table();
    return &table;
}
