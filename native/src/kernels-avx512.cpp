/*
 * kernels-avx512.cpp: the AVX-512 matmul (f32 weights with FMA; bf16 weights with the AVX512-BF16
 * dot product vdpbf16ps on bf16-rounded activations). Compiled with target attributes, so the rest
 * of the core runs on any x86-64; kernels.cpp calls these only when the CPU has the features.
 * Tiles of R weight rows x C inputs keep R*C accumulators in registers; each weight vector loaded
 * is used C times, each input vector R times (docs/engine.md, "matmul").
 */
#include <immintrin.h>

// GCC 12 reports false "uninitialized" warnings inside _mm512_reduce_add_ps.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels.h"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define AVX512BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

namespace {

constexpr int64_t TOKEN_BLOCK = 64;  // inputs processed per pass over a block of weight rows

template <int R, int C>
AVX512_TARGET inline void tile_f32(float * y, int64_t ldy, const float * x, int64_t K, const float * w,
                                   const float * bias, int64_t r, int64_t i) {
    __m512 acc[R][C];
    for (int a = 0; a < R; ++a)
        for (int b = 0; b < C; ++b) acc[a][b] = _mm512_setzero_ps();
    const float * wr[R];
    for (int a = 0; a < R; ++a) wr[a] = w + (r + a) * K;
    const float * xr[C];
    for (int b = 0; b < C; ++b) xr[b] = x + (i + b) * K;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 wv[R];
        for (int a = 0; a < R; ++a) wv[a] = _mm512_loadu_ps(wr[a] + k);
        for (int b = 0; b < C; ++b) {
            __m512 xv = _mm512_loadu_ps(xr[b] + k);
            for (int a = 0; a < R; ++a) acc[a][b] = _mm512_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    if (k < K) {
        __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
        __m512 wv[R];
        for (int a = 0; a < R; ++a) wv[a] = _mm512_maskz_loadu_ps(m, wr[a] + k);
        for (int b = 0; b < C; ++b) {
            __m512 xv = _mm512_maskz_loadu_ps(m, xr[b] + k);
            for (int a = 0; a < R; ++a) acc[a][b] = _mm512_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    for (int a = 0; a < R; ++a)
        for (int b = 0; b < C; ++b)
            y[(i + b) * ldy + r + a] = _mm512_reduce_add_ps(acc[a][b]) + (bias ? bias[r + a] : 0.0f);
}

template <int R, int C>
AVX512BF16_TARGET inline void tile_bf16(float * y, int64_t ldy, const uint16_t * x, int64_t K, const uint16_t * w,
                                        const float * bias, int64_t r, int64_t i) {
    __m512 acc[R][C];
    for (int a = 0; a < R; ++a)
        for (int b = 0; b < C; ++b) acc[a][b] = _mm512_setzero_ps();
    const uint16_t * wr[R];
    for (int a = 0; a < R; ++a) wr[a] = w + (r + a) * K;
    const uint16_t * xr[C];
    for (int b = 0; b < C; ++b) xr[b] = x + (i + b) * K;
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512bh wv[R];
        for (int a = 0; a < R; ++a) wv[a] = (__m512bh)_mm512_loadu_si512(wr[a] + k);
        for (int b = 0; b < C; ++b) {
            __m512bh xv = (__m512bh)_mm512_loadu_si512(xr[b] + k);
            for (int a = 0; a < R; ++a) acc[a][b] = _mm512_dpbf16_ps(acc[a][b], wv[a], xv);
        }
    }
    if (k < K) {
        __mmask32 m = static_cast<__mmask32>((K - k) >= 32 ? 0xffffffffu : ((1u << (K - k)) - 1));
        __m512bh wv[R];
        for (int a = 0; a < R; ++a) wv[a] = (__m512bh)_mm512_maskz_loadu_epi16(m, wr[a] + k);
        for (int b = 0; b < C; ++b) {
            __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, xr[b] + k);
            for (int a = 0; a < R; ++a) acc[a][b] = _mm512_dpbf16_ps(acc[a][b], wv[a], xv);
        }
    }
    for (int a = 0; a < R; ++a)
        for (int b = 0; b < C; ++b)
            y[(i + b) * ldy + r + a] = _mm512_reduce_add_ps(acc[a][b]) + (bias ? bias[r + a] : 0.0f);
}

}  // namespace

AVX512_TARGET void matmul_rows_avx512_f32(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w,
                                          const float * bias, int64_t r0, int64_t r1) {
    const int64_t K = w.cols;
    const float * W = static_cast<const float *>(w.data);
    for (int64_t i0 = 0; i0 < n; i0 += TOKEN_BLOCK) {
        const int64_t i1 = i0 + TOKEN_BLOCK < n ? i0 + TOKEN_BLOCK : n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile_f32<4, 4>(y, ldy, x, K, W, bias, r, i);
            for (; i + 2 <= i1; i += 2) tile_f32<4, 2>(y, ldy, x, K, W, bias, r, i);
            for (; i < i1; ++i) tile_f32<4, 1>(y, ldy, x, K, W, bias, r, i);
        }
        for (; r < r1; ++r) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile_f32<1, 4>(y, ldy, x, K, W, bias, r, i);
            for (; i < i1; ++i) tile_f32<1, 1>(y, ldy, x, K, W, bias, r, i);
        }
    }
}

AVX512BF16_TARGET void matmul_rows_avx512_bf16(float * y, int64_t ldy, const uint16_t * xb, int64_t n,
                                               const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t K = w.cols;
    const uint16_t * W = static_cast<const uint16_t *>(w.data);
    for (int64_t i0 = 0; i0 < n; i0 += TOKEN_BLOCK) {
        const int64_t i1 = i0 + TOKEN_BLOCK < n ? i0 + TOKEN_BLOCK : n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile_bf16<4, 4>(y, ldy, xb, K, W, bias, r, i);
            for (; i + 2 <= i1; i += 2) tile_bf16<4, 2>(y, ldy, xb, K, W, bias, r, i);
            for (; i < i1; ++i) tile_bf16<4, 1>(y, ldy, xb, K, W, bias, r, i);
        }
        for (; r < r1; ++r) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile_bf16<1, 4>(y, ldy, xb, K, W, bias, r, i);
            for (; i < i1; ++i) tile_bf16<1, 1>(y, ldy, xb, K, W, bias, r, i);
        }
    }
}

AVX512_TARGET float dot_f32_avx512(const float * a, const float * b, int64_t len) {
    __m512 acc = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= len; k += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc);
    if (k < len) {
        __mmask16 m = static_cast<__mmask16>((1u << (len - k)) - 1);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

AVX512_TARGET void axpy_f32_avx512(float * y, float a, const float * x, int64_t len) {
    __m512 av = _mm512_set1_ps(a);
    int64_t k = 0;
    for (; k + 16 <= len; k += 16) _mm512_storeu_ps(y + k, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + k), _mm512_loadu_ps(y + k)));
    if (k < len) {
        __mmask16 m = static_cast<__mmask16>((1u << (len - k)) - 1);
        _mm512_mask_storeu_ps(y + k, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + k), _mm512_maskz_loadu_ps(m, y + k)));
    }
}

AVX512BF16_TARGET void convert_f32_to_bf16_avx512(uint16_t * dst, const float * src, int64_t count) {
    int64_t k = 0;
    for (; k + 16 <= count; k += 16) {
        __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + k));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + k), (__m256i)v);
    }
    for (; k < count; ++k) dst[k] = f32_to_bf16(src[k]);
}
