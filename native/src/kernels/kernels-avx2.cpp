/*
 * kernels-avx2.cpp: the AVX2+FMA matmul for CPUs without AVX-512, and the dot / axpy of the generic
 * attention (f32 or bf16 K/V, the latter on every CPU with AVX2). bf16 weights are widened to f32
 * (a 16-bit shift) and multiplied with the bf16-rounded activations (xb), so the products equal
 * the other paths'. Compiled with target attributes; kernels.cpp calls it only when supported.
 */
#include <immintrin.h>

#include "avx2-hsum.h"
#include "kernels.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))

namespace {

// One weight row r against C inputs; T = float or uint16_t (bf16).
template <int C, bool BF16>
AVX2_TARGET inline void tile(float * y, int64_t ldy, const float * x, const uint16_t * xb, int64_t K, const void * w,
                             const float * bias, int64_t r, int64_t i) {
    __m256 acc[2][C];
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < C; ++b) acc[a][b] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[2];
        for (int a = 0; a < 2; ++a)
            wv[a] = BF16 ? load_bf16x8(static_cast<const uint16_t *>(w) + (r + a) * K + k)
                         : _mm256_loadu_ps(static_cast<const float *>(w) + (r + a) * K + k);
        for (int b = 0; b < C; ++b) {
            __m256 xv = BF16 ? load_bf16x8(xb + (i + b) * K + k) : _mm256_loadu_ps(x + (i + b) * K + k);
            for (int a = 0; a < 2; ++a) acc[a][b] = _mm256_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < C; ++b) {
            float s = hsum_avx2(acc[a][b]);
            for (int64_t kk = k; kk < K; ++kk) {
                float wf = BF16 ? bf16_to_f32(static_cast<const uint16_t *>(w)[(r + a) * K + kk])
                                : static_cast<const float *>(w)[(r + a) * K + kk];
                float xf = BF16 ? bf16_to_f32(xb[(i + b) * K + kk]) : x[(i + b) * K + kk];
                s += wf * xf;
            }
            y[(i + b) * ldy + r + a] = s + (bias ? bias[r + a] : 0.0f);
        }
    }
}

template <bool BF16>
AVX2_TARGET void rows(float * y, int64_t ldy, const float * x, const uint16_t * xb, int64_t n, const weight_matrix & w,
                      const float * bias, int64_t r0, int64_t r1) {
    const int64_t K = w.cols;
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int64_t i1 = i0 + 64 < n ? i0 + 64 : n;
        int64_t r = r0;
        for (; r + 2 <= r1; r += 2) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile<4, BF16>(y, ldy, x, xb, K, w.data, bias, r, i);
            for (; i < i1; ++i) tile<1, BF16>(y, ldy, x, xb, K, w.data, bias, r, i);
        }
        if (r < r1) matmul_rows_ref(y + i0 * ldy, ldy, x + i0 * K, i1 - i0, w, bias, r, r1);
    }
}

}  // namespace

void matmul_rows_avx2(float * y, int64_t ldy, const float * x, const uint16_t * xb, int64_t n, const weight_matrix & w,
                      const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_BF16) rows<true>(y, ldy, x, xb, n, w, bias, r0, r1);
    else rows<false>(y, ldy, x, xb, n, w, bias, r0, r1);
}

AVX2_TARGET float dot_f32_avx2(const float * a, const float * b, int64_t len) {
    __m256 acc = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= len; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc);
    float s = hsum_avx2(acc);
    for (; k < len; ++k) s += a[k] * b[k];
    return s;
}

AVX2_TARGET void axpy_f32_avx2(float * y, float a, const float * x, int64_t len) {
    __m256 av = _mm256_set1_ps(a);
    int64_t k = 0;
    for (; k + 8 <= len; k += 8) _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k)));
    for (; k < len; ++k) y[k] += a * x[k];
}

// bf16 K/V (attention): dot_f32_avx2 / axpy_f32_avx2 with b or x widened from bf16 as loaded.
AVX2_TARGET float dot_f32_bf16_avx2(const float * a, const uint16_t * b, int64_t len) {
    __m256 acc = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= len; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), load_bf16x8(b + k), acc);
    float s = hsum_avx2(acc);
    // the tail widened first, then the f32 version's own loop, so the compiler treats it alike
    // (it vectorizes that loop's products; an FMA-contracted tail would round differently)
    float t[8];
    const int64_t k0 = k;
    for (int64_t j = k0; j < len; ++j) t[j - k0] = bf16_to_f32(b[j]);
    for (; k < len; ++k) s += a[k] * t[k - k0];
    return s;
}

AVX2_TARGET void axpy_f32_bf16_avx2(float * y, float a, const uint16_t * x, int64_t len) {
    __m256 av = _mm256_set1_ps(a);
    int64_t k = 0;
    for (; k + 8 <= len; k += 8) _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, load_bf16x8(x + k), _mm256_loadu_ps(y + k)));
    for (; k < len; ++k) y[k] += a * bf16_to_f32(x[k]);
}
