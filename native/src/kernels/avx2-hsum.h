/*
 * avx2-hsum.h: the horizontal sum of 8 floats the AVX2 kernels (kernels-avx2.cpp, quant-avx2.cpp,
 * quant-gemm-avx2.cpp) share. Its order of additions is part of their results: lanes
 * ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), the tree quant-ref.cpp reproduces so that the quantized
 * kernels equal their scalar reference bit for bit.
 */
#pragma once
#include <immintrin.h>

__attribute__((target("avx2,fma"))) inline float hsum_avx2(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}
