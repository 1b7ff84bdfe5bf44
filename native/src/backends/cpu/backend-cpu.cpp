/*
 * backend-cpu.cpp: the CPU backend's table and its probe (which reports the SIMD level the
 * run-time dispatch will use). The kernels themselves live in their own files.
 */
#include "backends/backend.h"
#include <cstdio>

namespace {
int cpu_probe(char * detail, size_t detail_len) {
    __builtin_cpu_init();
    const char * simd = __builtin_cpu_supports("avx512bf16") ? "avx512+bf16"
                      : __builtin_cpu_supports("avx512f")    ? "avx512"
                      : __builtin_cpu_supports("avx2")       ? "avx2"
                                                             : "scalar";
    std::snprintf(detail, detail_len, "x86-64 %s", simd);
    return 1;
}
const engine_backend_i g_cpu_backend = {ENGINE_BACKEND_API_VERSION, "cpu", cpu_probe};
}  // namespace

const engine_backend_i * engine_backend_cpu(void) { return &g_cpu_backend; }
