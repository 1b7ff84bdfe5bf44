/*
 * exp-avx2.cpp: the exponentials of the forward pass on AVX2+FMA, 8 lanes at a time: SiLU-GLU
 * (the MLP's silu(gate) * up) and the generic attention's softmax numerators exp(s - max).
 * Before 2026-12-03 both called the C library's scalar expf on CPUs without AVX-512, SiLU-GLU on
 * one thread: most of the ~13% of a q4_0 prefill's wall time that ran serially (docs/performance.md).
 *
 * exp256 is the AVX-512 path's exp512 (kernels-avx512-ops.cpp) on 8 lanes, with the same
 * constants (exp-poly.h): n = round(x log2 e), r = x - n ln 2 (ln 2 in two parts), a degree-7
 * polynomial for e^r, times 2^n (built in the exponent field; AVX-512 has vscalefps). Accuracy ~1 ulp
 * on [-87, 88] (test-kernels.cpp bounds it against double exp); it is not libm's expf, so outputs
 * differ from the scalar path's in the last bits, as the AVX-512 path's always did.
 * Batch invariance: every element goes through exp256, the row tails too (through an 8-lane
 * buffer), so a value never depends on its position, its row's length or the thread split.
 */
#include <immintrin.h>

#include <cstring>

#include "exp-poly.h"
#include "kernels.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))

namespace {

// exp(x) for each lane; x < -88 gives exactly 0 (so does -inf), x >= 88.7 gives +inf.
AVX2_TARGET inline __m256 exp256(__m256 x) {
    const __m256 zero = _mm256_cmp_ps(x, _mm256_set1_ps(EXP_MIN), _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_MIN)), _mm256_set1_ps(EXP_MAX));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(EXP_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n built in the exponent field: n in [-127, 128]; -127 gives 0 (the true value is below
    // 2^-126 * 1.5, denormal), 128 gives +inf
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(zero, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

AVX2_TARGET inline __m256 silu_glu8(__m256 g, __m256 u) {
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), exp256(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    return _mm256_mul_ps(s, u);
}

}  // namespace

AVX2_TARGET void silu_glu_avx2(float * g, const float * u, int64_t len) {
    int64_t j = 0;
    for (; j + 8 <= len; j += 8) _mm256_storeu_ps(g + j, silu_glu8(_mm256_loadu_ps(g + j), _mm256_loadu_ps(u + j)));
    if (j == len) return;
    float gt[8] = {}, ut[8] = {};  // the tail through the same 8 lanes
    const size_t rest = static_cast<size_t>(len - j) * sizeof(float);
    std::memcpy(gt, g + j, rest);
    std::memcpy(ut, u + j, rest);
    _mm256_storeu_ps(gt, silu_glu8(_mm256_loadu_ps(gt), _mm256_loadu_ps(ut)));
    std::memcpy(g + j, gt, rest);
}

AVX2_TARGET void exp_shifted_avx2(float * s, int64_t len, float shift) {
    const __m256 m = _mm256_set1_ps(shift);
    int64_t j = 0;
    for (; j + 8 <= len; j += 8) _mm256_storeu_ps(s + j, exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), m)));
    if (j == len) return;
    float t[8] = {};
    const size_t rest = static_cast<size_t>(len - j) * sizeof(float);
    std::memcpy(t, s + j, rest);
    _mm256_storeu_ps(t, exp256(_mm256_sub_ps(_mm256_loadu_ps(t), m)));
    std::memcpy(s + j, t, rest);
}
