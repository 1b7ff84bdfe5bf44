/*
 * backend-cpu.h: what the CPU backend offers beyond the table (backends/backend.h): the settings of
 * its per-model context, for the C API's model info and for the tests that force a kernel path.
 */
#pragma once
#include "backends/backend.h"

// The kernel path the matmul op runs (AUTO unless a test forces REF / AVX2 / AVX512); the other
// ops always dispatch AUTO. ctx must come from engine_backend_cpu()->ctx_create.
void backend_cpu_set_matmul_path(engine_backend_ctx * ctx, kernel_path path);
// The pool size (the caller included).
int backend_cpu_threads(const engine_backend_ctx * ctx);
