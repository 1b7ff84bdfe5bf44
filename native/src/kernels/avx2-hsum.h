/*
 * avx2-hsum.h: what the AVX2 kernels (kernels-avx2.cpp, attention-avx2.cpp) share: the load of 8
 * bf16 values widened to f32, and the horizontal sum of 8 floats. The sum's order of additions is
 * part of their results: lanes ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)).
 */
#pragma once
#include <immintrin.h>

#include <cstdint>

__attribute__((target("avx2,fma"))) inline float hsum_avx2(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

// 8 bf16 values widened to f32 (exact: a 16-bit shift).
__attribute__((target("avx2,fma"))) inline __m256 load_bf16x8(const uint16_t * p) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
