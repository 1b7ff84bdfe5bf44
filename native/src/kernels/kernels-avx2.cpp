/*
 * kernels-avx2.cpp: the AVX2+FMA matmul for CPUs without AVX-512, and the dot / axpy of the generic
 * attention (f32 or bf16 K/V, the latter on every CPU with AVX2). bf16 weights (ROWS or TILED4X16)
 * are widened to f32 exactly (16 at a time, split into even and odd elements: see "bf16 weights" below) and multiplied with the
 * bf16-rounded activations (xb), widened the same way, so the products equal the other paths'.
 * Compiled with target attributes; kernels.cpp calls it only when supported.
 */
#include <immintrin.h>

#include <cmath>
#include <vector>

#include "avx2-hsum.h"
#include "kernels.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))

namespace {

// f32 weights: rows r, r+1 against C inputs, 8 weights a step.
template <int C>
AVX2_TARGET inline void tile_f32(float * y, int64_t ldy, const float * x, int64_t K, const float * w, const float * bias,
                                 int64_t r, int64_t i) {
    __m256 acc[2][C];
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < C; ++b) acc[a][b] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[2];
        for (int a = 0; a < 2; ++a) wv[a] = _mm256_loadu_ps(w + (r + a) * K + k);
        for (int b = 0; b < C; ++b) {
            __m256 xv = _mm256_loadu_ps(x + (i + b) * K + k);
            for (int a = 0; a < 2; ++a) acc[a][b] = _mm256_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < C; ++b) {
            float s = hsum_avx2(acc[a][b]);
            for (int64_t kk = k; kk < K; ++kk) s += w[(r + a) * K + kk] * x[(i + b) * K + kk];
            y[(i + b) * ldy + r + a] = s + (bias ? bias[r + a] : 0.0f);
        }
    }
}

AVX2_TARGET void rows_f32(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w, const float * bias,
                          int64_t r0, int64_t r1) {
    const int64_t K = w.cols;
    const float * wd = static_cast<const float *>(w.data);
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int64_t i1 = i0 + 64 < n ? i0 + 64 : n;
        int64_t r = r0;
        for (; r + 2 <= r1; r += 2) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile_f32<4>(y, ldy, x, K, wd, bias, r, i);
            for (; i < i1; ++i) tile_f32<1>(y, ldy, x, K, wd, bias, r, i);
        }
        if (r < r1) matmul_rows_ref(y + i0 * ldy, ldy, x + i0 * K, i1 - i0, w, bias, r, r1);
    }
}

// ---- bf16 weights: 16 weights a step, split into even and odd elements --------------------------
// A 256-bit load of 16 bf16 values holds element 2j in the low and 2j + 1 in the high half of
// 32-bit lane j: a shift left by 16 makes the even elements f32, a mask of the high half the odd
// ones (2 operations for 16 values, where widening 8 at a time takes 2 for 8). Each (row, input)
// sums its products in one 8-lane accumulator, a step adding its 8 even products and then its 8
// odd ones (two FMAs), the same whatever the tile shape (R rows x C inputs): batch-invariant.
// One input (decode) splits its 16 bf16 inputs a step in registers (tile_bf16_one_input). Several
// read them split already (split_bf16_inputs_avx2: each step's 8 even then 8 odd values as f32,
// made once per product) as the FMAs' memory operands: a 4 x 2 tile holds 8 accumulators and one
// row's split weights, and does 16 FMAs to 8 widening operations a step (splitting the inputs in
// registers took 12, and 4 registers more). docs/performance.md has the measurements.
// Result = hsum(accumulator), then the K % 16 tail in order (exact widening, one FMA each), + bias.
// The weights are ROWS or TILED4X16 (kernels.h): either way a row is a run of 16-value steps, the
// next step `stride` values on (16 or 64), so both layouts give the same bits.

AVX2_TARGET inline void load_bf16x16_split(const uint16_t * p, __m256 & even, __m256 & odd) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    odd = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// Where the rows of a bf16 matrix start, and the distance between a row's steps.
struct bf16_rows {
    const uint16_t * base;
    int64_t K;
    int64_t group_stride;  // TILED4X16: values per group of 4 rows (4 x padded K); ROWS: 0
    int64_t stride;        // values from a step of a row to its next step: 64 (TILED4X16) or 16 (ROWS)
    explicit bf16_rows(const weight_matrix & w)
        : base(static_cast<const uint16_t *>(w.data)),
          K(w.cols),
          group_stride(w.layout == WEIGHT_TILED4X16 ? 4 * weight_padded_cols(w) : 0),
          stride(w.layout == WEIGHT_TILED4X16 ? 64 : 16) {}
    const uint16_t * row(int64_t r) const { return group_stride ? base + (r / 4) * group_stride + (r % 4) * 16 : base + r * K; }
    // element k of a row, from the row's start
    int64_t at(int64_t k) const { return (k / 16) * stride + k % 16; }
};

// y[i][r + a] = hsum(acc[a]) + the K % 16 tail from k on + bias, for input i of xb (n, K).
template <int R>
AVX2_TARGET inline void finish_bf16(float * y, int64_t ldy, const uint16_t * xb, const bf16_rows & w, const uint16_t * const * wr,
                                    const float * bias, int64_t r, int64_t i, int64_t k, const __m256 * acc) {
    for (int a = 0; a < R; ++a) {
        float sum = hsum_avx2(acc[a]);
        for (int64_t kk = k; kk < w.K; ++kk) sum = std::fma(bf16_to_f32(wr[a][w.at(kk)]), bf16_to_f32(xb[i * w.K + kk]), sum);
        y[i * ldy + r + a] = sum + (bias ? bias[r + a] : 0.0f);
    }
}

// Rows r..r+R-1 x input i, the input split in registers. w: (rows, K) bf16; xb: (n, K) bf16-rounded inputs.
template <int R>
AVX2_TARGET inline void tile_bf16_one_input(float * y, int64_t ldy, const uint16_t * xb, const bf16_rows & w, const float * bias,
                                            int64_t r, int64_t i) {
    const int64_t K = w.K, S = w.stride;
    const uint16_t * wr[R];
    for (int a = 0; a < R; ++a) wr[a] = w.row(r + a);
    __m256 acc[R];
    for (int a = 0; a < R; ++a) acc[a] = _mm256_setzero_ps();
    int64_t k = 0, s = 0;
    for (; k + 16 <= K; k += 16, s += S) {
        __m256 xe, xo;
        load_bf16x16_split(xb + i * K + k, xe, xo);
        for (int a = 0; a < R; ++a) {
            __m256 we, wo;
            load_bf16x16_split(wr[a] + s, we, wo);
            acc[a] = _mm256_fmadd_ps(wo, xo, _mm256_fmadd_ps(we, xe, acc[a]));
        }
    }
    finish_bf16<R>(y, ldy, xb, w, wr, bias, r, i, k, acc);
}

// Rows r..r+R-1 x inputs i..i+C-1, the inputs read split from xs (n, K16).
template <int R, int C>
AVX2_TARGET inline void tile_bf16_split(float * y, int64_t ldy, const uint16_t * xb, const float * xs, int64_t K16,
                                        const bf16_rows & w, const float * bias, int64_t r, int64_t i) {
    const int64_t K = w.K, S = w.stride;
    const uint16_t * wr[R];
    for (int a = 0; a < R; ++a) wr[a] = w.row(r + a);
    const float * xp[C];
    for (int c = 0; c < C; ++c) xp[c] = xs + (i + c) * K16;
    __m256 acc[C][R];
    for (int c = 0; c < C; ++c)
        for (int a = 0; a < R; ++a) acc[c][a] = _mm256_setzero_ps();
    int64_t k = 0, s = 0;
    for (; k + 16 <= K; k += 16, s += S)
        for (int a = 0; a < R; ++a) {
            __m256 we, wo;
            load_bf16x16_split(wr[a] + s, we, wo);
            for (int c = 0; c < C; ++c)
                acc[c][a] = _mm256_fmadd_ps(wo, _mm256_loadu_ps(xp[c] + k + 8), _mm256_fmadd_ps(we, _mm256_loadu_ps(xp[c] + k), acc[c][a]));
        }
    for (int c = 0; c < C; ++c) finish_bf16<R>(y, ldy, xb, w, wr, bias, r, i + c, k, acc[c]);
}

// Rows r..r+R-1 x inputs [i0, i1): pairs read split (xs), a last odd one split in registers.
template <int R>
AVX2_TARGET inline void row_tiles_bf16(float * y, int64_t ldy, const uint16_t * xb, const float * xs, int64_t K16,
                                       const bf16_rows & wr, const float * bias, int64_t r, int64_t i0, int64_t i1) {
    int64_t i = i0;
    for (; i + 2 <= i1; i += 2) tile_bf16_split<R, 2>(y, ldy, xb, xs, K16, wr, bias, r, i);
    if (i < i1) tile_bf16_one_input<R>(y, ldy, xb, wr, bias, r, i);
}

// Rows [r0, r1) x inputs [i0, i1) in tiles of R rows: 1 up to the first multiple of 4, then 4 (one
// TILED4X16 group, one stream of weights), 1 for the last rows.
AVX2_TARGET void rows_bf16_inputs(float * y, int64_t ldy, const uint16_t * xb, const float * xs, int64_t K16, const bf16_rows & wr,
                                  const float * bias, int64_t r0, int64_t r1, int64_t i0, int64_t i1) {
    int64_t r = r0;
    for (; r < r1 && r % 4; ++r) row_tiles_bf16<1>(y, ldy, xb, xs, K16, wr, bias, r, i0, i1);
    for (; r + 4 <= r1; r += 4) row_tiles_bf16<4>(y, ldy, xb, xs, K16, wr, bias, r, i0, i1);
    for (; r < r1; ++r) row_tiles_bf16<1>(y, ldy, xb, xs, K16, wr, bias, r, i0, i1);
}

// One input (decode): 4-row tiles, 4 chains of two FMAs a step (measured as fast as the 8 chains of
// one FMA the two-accumulator sums had, in cache and from DRAM; 8-row tiles were no faster; reading
// the input split from memory was slower). Several inputs: 4 rows x 2 inputs, 64 inputs at a time,
// which stay in L2 while the rows stream.
AVX2_TARGET void rows_bf16(float * y, int64_t ldy, const uint16_t * xb, const float * xs, int64_t n, const weight_matrix & w,
                           const float * bias, int64_t r0, int64_t r1) {
    const bf16_rows wr(w);
    const int64_t K16 = w.cols / 16 * 16;
    if (n >= 2 && !xs) {  // a caller without the split inputs (tests, benchmarks): made here
        thread_local std::vector<float> xs_buf;
        xs_buf.resize(static_cast<size_t>(n * K16));
        split_bf16_inputs_avx2(xs_buf.data(), xb, n, w.cols);
        xs = xs_buf.data();
    }
    for (int64_t i0 = 0; i0 < n; i0 += 64) rows_bf16_inputs(y, ldy, xb, xs, K16, wr, bias, r0, r1, i0, i0 + 64 < n ? i0 + 64 : n);
}

}  // namespace

AVX2_TARGET void split_bf16_inputs_avx2(float * xs, const uint16_t * xb, int64_t n, int64_t K) {
    const int64_t K16 = K / 16 * 16;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < K16; k += 16) {
            __m256 even, odd;
            load_bf16x16_split(xb + i * K + k, even, odd);
            _mm256_storeu_ps(xs + i * K16 + k, even);
            _mm256_storeu_ps(xs + i * K16 + k + 8, odd);
        }
}

void matmul_rows_avx2(float * y, int64_t ldy, const float * x, const uint16_t * xb, int64_t n, const weight_matrix & w,
                      const float * bias, int64_t r0, int64_t r1, const float * xs) {
    if (w.dtype == WEIGHT_BF16) rows_bf16(y, ldy, xb, xs, n, w, bias, r0, r1);
    else rows_f32(y, ldy, x, n, w, bias, r0, r1);
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
