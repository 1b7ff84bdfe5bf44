/*
 * quant-avx2-store.h: what the two 256-bit quantized kernels (quant-avx2.cpp, quant-avxvnni.cpp)
 * share: the input's 4-byte broadcast and the store of 8 rows' outputs of one input. Compiled
 * with AVX2 + FMA + F16C, a subset of both kernels' targets, so each inlines them.
 */
#pragma once
#include <immintrin.h>

#include <cstring>

#include "kernels.h"

#define QUANT_AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

namespace quant_avx2 {

constexpr int64_t HALF_ROWS = QUANT_GROUP_ROWS / 2;  // the rows of a 256-bit half of a unit

// The input's 4 bytes at x to every int32 lane.
QUANT_AVX2_TARGET inline __m256i broadcast4(const int8_t * x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm256_set1_epi32(v);
}

// Stores acc (8 rows from row ra, one input) + bias into y for the rows in [r0, r1); + 0 without a
// bias, as the reference (-0 + 0 = +0).
QUANT_AVX2_TARGET inline void store_rows(float * y, __m256 acc, const float * bias, int64_t ra, int64_t r0, int64_t r1) {
    if (ra >= r0 && ra + HALF_ROWS <= r1) {
        _mm256_storeu_ps(y + ra, _mm256_add_ps(acc, bias ? _mm256_loadu_ps(bias + ra) : _mm256_setzero_ps()));
        return;
    }
    alignas(32) float v[HALF_ROWS];
    _mm256_store_ps(v, acc);
    for (int64_t a = 0; a < HALF_ROWS; ++a) {
        const int64_t r = ra + a;
        if (r >= r0 && r < r1) y[r] = v[a] + (bias ? bias[r] : 0.0f);
    }
}

}  // namespace quant_avx2
