/*
 * x86-paths-absent.cpp: built only for CPUs other than x86-64 (CMakeLists.txt; kernels.h,
 * ENGINE_X86_PATHS). There the AVX2 / AVX-512 / VNNI files are not compiled, every CPU feature
 * reads false, and the dispatch runs the scalar reference; the dispatch tables and the tests still
 * name the x86 entry points (behind kernel_path_supported and the *_supported checks), so each is
 * defined here as an abort naming it. Reaching one is a dispatch bug, never a slow path.
 */
#include <cstdio>
#include <cstdlib>

#include "kernels/kernels.h"

#if ENGINE_X86_PATHS
#error "x86-paths-absent.cpp is for builds without the x86 kernel paths"
#endif

namespace {

[[noreturn]] void absent(const char * name) {
    std::fprintf(stderr, "%s: an x86 kernel path, not built for this CPU, was called (kernels.h, ENGINE_X86_PATHS)\n", name);
    std::abort();
}

}  // namespace

void quantize_input_q8_avx2(int8_t *, float *, const float *, int64_t, int64_t) { absent(__func__); }
void matmul_rows_quant_avx2(float *, int64_t, const int8_t *, const float *, const int32_t *, int64_t, const weight_matrix &,
                            const float *, int64_t, int64_t) {
    absent(__func__);
}
void matmul_rows_quant_vnni(float *, int64_t, const quant_packed_inputs &, int64_t, const weight_matrix &, const float *, int64_t,
                            int64_t) {
    absent(__func__);
}
void matmul_rows_quant_avxvnni(float *, int64_t, const int8_t *, const float *, const int32_t *, int64_t, const weight_matrix &,
                               const float *, int64_t, int64_t) {
    absent(__func__);
}
void matmul_rows_avx2(float *, int64_t, const float *, const uint16_t *, int64_t, const weight_matrix &, const float *, int64_t, int64_t,
                      const float *) {
    absent(__func__);
}
void split_bf16_inputs_avx2(float *, const uint16_t *, int64_t, int64_t) { absent(__func__); }
void matmul_rows_avx512_f32(float *, int64_t, const float *, int64_t, const weight_matrix &, const float *, int64_t, int64_t) {
    absent(__func__);
}
void matmul_rows_avx512_bf16(float *, int64_t, const uint16_t *, int64_t, int64_t, const weight_matrix &, const float *, int64_t,
                             int64_t) {
    absent(__func__);
}
float dot_f32_avx2(const float *, const float *, int64_t) { absent(__func__); }
float dot_f32_avx512(const float *, const float *, int64_t) { absent(__func__); }
void axpy_f32_avx2(float *, float, const float *, int64_t) { absent(__func__); }
float dot_f32_bf16_avx2(const float *, const uint16_t *, int64_t) { absent(__func__); }
void axpy_f32_bf16_avx2(float *, float, const uint16_t *, int64_t) { absent(__func__); }
void axpy_f32_avx512(float *, float, const float *, int64_t) { absent(__func__); }
void attention_dots_avx2(float *, int64_t, const float * const *, int64_t, const float *, int64_t, int64_t) { absent(__func__); }
void axpys_f32_avx2(float *, const float *, const float * const *, int64_t, int64_t, int64_t) { absent(__func__); }
void attention_dots_avx512vl(float *, int64_t, const float * const *, int64_t, const float *, int64_t, int64_t) { absent(__func__); }
void attention_widen_bf16_avx2(float *, const uint16_t * const *, int64_t, int64_t, int64_t) { absent(__func__); }
float attention_scale_max_avx2(float *, int64_t, float) { absent(__func__); }
void attention_scale_avx2(float *, int64_t, float) { absent(__func__); }
void axpys2_f32_avx512vl(float *, float *, const float *, const float *, const float * const *, int64_t, int64_t, int64_t) {
    absent(__func__);
}
void axpys2_f32_avx2(float *, float *, const float *, const float *, const float * const *, int64_t, int64_t, int64_t) {
    absent(__func__);
}
void attention_dots_bf16_avx2(float *, int64_t, const float * const *, int64_t, const uint16_t * const *, int64_t, int64_t, int64_t) {
    absent(__func__);
}
void attention_dots_bf16_avx512vl(float *, int64_t, const float * const *, int64_t, const uint16_t * const *, int64_t, int64_t,
                                  int64_t) {
    absent(__func__);
}
void axpys_bf16_avx2(float *, const float *, const uint16_t * const *, int64_t, int64_t, int64_t) { absent(__func__); }
void axpys2_bf16_avx512vl(float *, float *, const float *, const float *, const uint16_t * const *, int64_t, int64_t, int64_t) {
    absent(__func__);
}
void axpys2_bf16_avx2(float *, float *, const float *, const float *, const uint16_t * const *, int64_t, int64_t, int64_t) {
    absent(__func__);
}
void convert_f32_to_bf16_avx512(uint16_t *, const float *, int64_t) { absent(__func__); }
void silu_glu_avx512(float *, const float *, int64_t) { absent(__func__); }
void silu_glu_avx2(float *, const float *, int64_t) { absent(__func__); }
void exp_shifted_avx2(float *, int64_t, float) { absent(__func__); }
bool attention_tile_avx512(const attention_args<float> &, int, int64_t, int64_t) { absent(__func__); }
bool attention_tile_avx512(const attention_args<uint16_t> &, int, int64_t, int64_t) { absent(__func__); }
