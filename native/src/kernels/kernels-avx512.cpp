/*
 * kernels-avx512.cpp: the AVX-512 matmul (f32 weights with FMA; bf16 weights with vdpbf16ps on
 * bf16-rounded activations), compiled with target attributes: kernels.cpp calls it only on CPUs
 * that have them. TILED32 matrices run as tiles of 32 rows x C <= 12 inputs reading one sequential
 * stream (one input: 64 rows, two streams); every lane accumulates one output, so no horizontal
 * sums. ROWS matrices (loads without re-layout) go one row at a time. Each weight vector loaded
 * serves all C inputs. docs/engine.md.
 */
#include <immintrin.h>

#include "kernels.h"

// GCC 12 reports false "uninitialized" warnings inside _mm512_reduce_add_ps.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define AVX512BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

namespace {

constexpr int64_t TOKEN_BLOCK = 64;  // inputs processed per pass over a group of weight rows

// ---- element traits: one vector step of each dtype --------------------------------------------

struct bf16_ops {
    using elem = uint16_t;
    static constexpr int64_t CH = 32;
    static constexpr int64_t STEP = 2;  // columns per TILED32 step: one vdpbf16ps pair
    // the pair p[0], p[1] in all 16 lanes
    AVX512BF16_TARGET static inline __m512i bcast(const elem * p) {
        int32_t v;
        __builtin_memcpy(&v, p, 4);
        return _mm512_set1_epi32(v);
    }
    AVX512BF16_TARGET static inline __m512i load(const elem * p) { return _mm512_loadu_si512(p); }
    AVX512BF16_TARGET static inline __m512i load_mask(const elem * p, __mmask32 m) { return _mm512_maskz_loadu_epi16(m, p); }
    AVX512BF16_TARGET static inline __m512 madd(__m512 acc, __m512i w, __m512i x) {
        return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)x);
    }
};

struct f32_ops {
    using elem = float;
    static constexpr int64_t CH = 16;
    static constexpr int64_t STEP = 1;
    AVX512_TARGET static inline __m512i bcast(const elem * p) { return _mm512_castps_si512(_mm512_set1_ps(*p)); }
    AVX512_TARGET static inline __m512i load(const elem * p) { return _mm512_castps_si512(_mm512_loadu_ps(p)); }
    AVX512_TARGET static inline __m512i load_mask(const elem * p, __mmask32 m) {
        return _mm512_castps_si512(_mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p));
    }
    AVX512_TARGET static inline __m512 madd(__m512 acc, __m512i w, __m512i x) {
        return _mm512_fmadd_ps(_mm512_castsi512_ps(w), _mm512_castsi512_ps(x), acc);
    }
};

// ---- TILED32: 32 rows x C inputs ----------------------------------------------------------------

// y[i + c, r + 16a + l] = acc[a][c] lane l + bias[r + 16a + l], for the rows below rows_valid.
template <int B, int C>
AVX512BF16_TARGET inline void store_group(float * y, int64_t ldy, const __m512 (&acc)[B][C], const float * bias, int64_t r,
                                          int64_t rows_valid, int64_t i) {
    for (int a = 0; a < B; ++a) {
        const int64_t r16 = r + 16 * a;
        if (r16 >= rows_valid) break;
        const __mmask16 m = r16 + 16 <= rows_valid ? static_cast<__mmask16>(0xffff)
                                                   : static_cast<__mmask16>((1u << (rows_valid - r16)) - 1);
        const __m512 bv = bias ? _mm512_maskz_loadu_ps(m, bias + r16) : _mm512_setzero_ps();
        for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(y + (i + c) * ldy + r16, m, _mm512_add_ps(acc[a][c], bv));
    }
}

// y[i + c, r + 16a + l] for c < C, a < B = 2, l < 16 (rows >= rows_valid are padding and not
// written). grp: the group's weights (S steps of 32 rows x STEP); x: inputs with row stride ldx, read STEP
// columns at a time (bf16: ldx even and the pad column zero). Lane l of acc[a][c] sums
// w[r + 16a + l, k] * x[i + c, k] over the steps in order, the same for every tile shape, so an
// output does not depend on how many inputs share its tile (docs/engine.md, "Batch invariance").
// next (or null): the following group; its steps [pf0, pf1) are prefetched (to L1: prefetcht0 made
// 16-24 inputs 5-7% faster than prefetcht1 on Zen 5) while this tile computes, so DRAM keeps
// streaming while the tiles re-read this group (without it, N = 8 cost 2-3x N = 1). The tiles over a
// group split the next group between them, and each spreads its share evenly over all S of its own
// steps: prefetching the share in a burst (tile t over the matching span of its steps) left DRAM idle
// half of each tile with two tiles a group (N = 16 1.14-1.27x slower; docs/performance.md).
template <typename OPS, int C>
AVX512BF16_TARGET void tile_group(float * y, int64_t ldy, const typename OPS::elem * x, int64_t ldx,
                                  const typename OPS::elem * grp, int64_t S, const float * bias, int64_t r,
                                  int64_t rows_valid, int64_t i, const typename OPS::elem * next, int64_t pf0,
                                  int64_t pf1) {
    constexpr int64_t P = OPS::STEP, G = WEIGHT_GROUP_ROWS;
    constexpr int B = static_cast<int>(G / 16);  // 16-row vectors per step (a step is B lines)
    __m512 acc[B][C];
    for (int a = 0; a < B; ++a)
        for (int c = 0; c < C; ++c) acc[a][c] = _mm512_setzero_ps();
    const typename OPS::elem * xi = x + i * ldx;
    // prefetched so far: steps [pf0, pf); pf_acc / S the fraction of the next one due (pf1 - pf0 of
    // them over S steps, Bresenham's way)
    int64_t pf = pf0, pf_acc = 0;
    for (int64_t s = 0; s < S; ++s) {
        const typename OPS::elem * p = grp + s * G * P;
        if (next)
            for (pf_acc += pf1 - pf0; pf_acc >= S; pf_acc -= S, ++pf) {
                const char * q = reinterpret_cast<const char *>(next + pf * G * P);
                for (int l = 0; l < B; ++l) _mm_prefetch(q + 64 * l, _MM_HINT_T0);
            }
        __m512i w[B];
        for (int a = 0; a < B; ++a) {
            w[a] = OPS::load(p + a * 16 * P);
            // pinned to a register: left alone, GCC re-loads (or folds) w[a] once per input, which
            // multiplies the L1 loads by C; with one input folding is right
            if constexpr (C > 1) __asm__("" : "+v"(w[a]));
        }
        for (int c = 0; c < C; ++c) {
            const __m512i xv = OPS::bcast(xi + c * ldx + s * P);
            for (int a = 0; a < B; ++a) acc[a][c] = OPS::madd(acc[a][c], w[a], xv);
        }
    }
    store_group<B, C>(y, ldy, acc, bias, r, rows_valid, i);
}

// One input and two adjacent groups at once (rows r .. r + 2G, weights grp and the S steps after
// it): each output is the sum tile_group<OPS, 1> makes, in the same order (the same bits), but four
// chains of vdpbf16ps run side by side where one group has two, each ~6 cycles after its last: one
// group's chains held a thread's stream below DRAM's pace on Zen 5 (docs/performance.md, "bf16
// decode on two groups at once"). Two sequential weight streams, one per group.
template <typename OPS>
AVX512BF16_TARGET void tile_two_groups(float * y, const typename OPS::elem * xi, const typename OPS::elem * grp, int64_t S,
                                       const float * bias, int64_t r, int64_t rows_valid) {
    constexpr int64_t P = OPS::STEP, G = WEIGHT_GROUP_ROWS;
    constexpr int B = static_cast<int>(G / 16);
    __m512 acc[2][B][1];
    for (int g = 0; g < 2; ++g)
        for (int a = 0; a < B; ++a) acc[g][a][0] = _mm512_setzero_ps();
    const typename OPS::elem * grp1 = grp + S * G * P;
    for (int64_t s = 0; s < S; ++s) {
        const __m512i xv = OPS::bcast(xi + s * P);
        for (int a = 0; a < B; ++a) acc[0][a][0] = OPS::madd(acc[0][a][0], OPS::load(grp + s * G * P + a * 16 * P), xv);
        for (int a = 0; a < B; ++a) acc[1][a][0] = OPS::madd(acc[1][a][0], OPS::load(grp1 + s * G * P + a * 16 * P), xv);
    }
    for (int g = 0; g < 2; ++g) store_group<B, 1>(y, 0, acc[g], bias, r + g * G, rows_valid, 0);
}

template <typename OPS>
using tile_fn = void (*)(float *, int64_t, const typename OPS::elem *, int64_t, const typename OPS::elem *, int64_t,
                         const float *, int64_t, int64_t, int64_t, const typename OPS::elem *, int64_t, int64_t);

// Inputs per tile: 24 accumulators of 16 rows (the registers left hold the step's weights and an input).
constexpr int64_t MAX_TILE_INPUTS = 24 / (WEIGHT_GROUP_ROWS / 16);

// The tile for c inputs, 1 <= c <= MAX_TILE_INPUTS.
template <typename OPS>
tile_fn<OPS> tile_for(int64_t c) {
    static_assert(MAX_TILE_INPUTS == 12, "one instantiation per tile width");
    static const tile_fn<OPS> fns[] = {tile_group<OPS, 1>, tile_group<OPS, 2>,  tile_group<OPS, 3>,  tile_group<OPS, 4>,
                                       tile_group<OPS, 5>, tile_group<OPS, 6>,  tile_group<OPS, 7>,  tile_group<OPS, 8>,
                                       tile_group<OPS, 9>, tile_group<OPS, 10>, tile_group<OPS, 11>, tile_group<OPS, 12>};
    return fns[c - 1];
}

// Rows [r0, r1) (r0 a multiple of WEIGHT_GROUP_ROWS) of y = x W^T + bias for n inputs with row stride ldx.
template <typename OPS>
AVX512BF16_TARGET void tiled_rows(float * y, int64_t ldy, const typename OPS::elem * x, int64_t ldx, int64_t n,
                                  const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    constexpr int64_t P = OPS::STEP, G = WEIGHT_GROUP_ROWS;
    const int64_t S = weight_padded_cols(w) / P;
    const auto * W = static_cast<const typename OPS::elem *>(w.data);
    for (int64_t i0 = 0; i0 < n; i0 += TOKEN_BLOCK) {
        const int64_t i1 = i0 + TOKEN_BLOCK < n ? i0 + TOKEN_BLOCK : n;
        const int64_t m = i1 - i0;
        // the fewest tiles (passes over a group) for m inputs, balanced; tile t covers inputs
        // [first[t], first[t + 1]) and prefetches steps [share[t], share[t + 1]) of the next group
        int64_t first[TOKEN_BLOCK + 2], share[TOKEN_BLOCK + 2];
        int passes = 0;
        first[0] = i0;
        const int64_t n_pass = (m + MAX_TILE_INPUTS - 1) / MAX_TILE_INPUTS;
        for (int64_t i = i0; i < i1; ++passes) {
            i += (i1 - i) / (n_pass - passes);  // balanced: tile sizes differ by at most 1
            first[passes + 1] = i;
        }
        for (int t = 0; t <= passes; ++t) share[t] = S * t / passes;
        // the next group, prefetched in shares by the tiles over this one (a step is 2 lines); with
        // fewer than 4 inputs the hardware prefetcher alone streams faster (measured with the
        // previous 4-row layout: bf16 N = 1 15% slower with it; N >= 6 1.5x faster)
        const bool prefetch = m >= 4;
        if (m == 1) {  // decode: two groups at a time, then a last one alone
            int64_t r = r0;
            for (; r + G < r1; r += 2 * G) tile_two_groups<OPS>(y + i0 * ldy, x + i0 * ldx, W + (r / G) * S * G * P, S, bias, r, r1);
            if (r < r1) tile_group<OPS, 1>(y, ldy, x, ldx, W + (r / G) * S * G * P, S, bias, r, r1, i0, nullptr, 0, 0);
            continue;
        }
        for (int64_t r = r0; r < r1; r += G) {
            const typename OPS::elem * grp = W + (r / G) * S * G * P;
            const typename OPS::elem * next = prefetch && r + G < r1 ? grp + S * G * P : nullptr;
            for (int t = 0; t < passes; ++t) {
                const int64_t i = first[t];
                tile_for<OPS>(first[t + 1] - i)(y, ldy, x, ldx, grp, S, bias, r, r1, i, next, share[t], share[t + 1]);
            }
        }
    }
}

// ---- ROWS: 1 row x C inputs -----------------------------------------------------------------------

template <typename OPS, int C>
AVX512BF16_TARGET inline void row1(float * y, int64_t ldy, const typename OPS::elem * x, int64_t K,
                                   const typename OPS::elem * wr, const float * bias, int64_t r, int64_t i,
                                   __mmask32 tail) {
    __m512 acc[C][2];
    for (int c = 0; c < C; ++c) acc[c][0] = acc[c][1] = _mm512_setzero_ps();
    const int64_t CH = OPS::CH;
    int64_t k = 0;
    for (; k + 2 * CH <= K; k += 2 * CH) {
        __m512i w0 = OPS::load(wr + k), w1 = OPS::load(wr + k + CH);
        for (int c = 0; c < C; ++c) {
            acc[c][0] = OPS::madd(acc[c][0], w0, OPS::load(x + (i + c) * K + k));
            acc[c][1] = OPS::madd(acc[c][1], w1, OPS::load(x + (i + c) * K + k + CH));
        }
    }
    for (; k + CH <= K; k += CH) {
        __m512i w0 = OPS::load(wr + k);
        for (int c = 0; c < C; ++c) acc[c][0] = OPS::madd(acc[c][0], w0, OPS::load(x + (i + c) * K + k));
    }
    if (k < K) {
        __m512i w0 = OPS::load_mask(wr + k, tail);
        for (int c = 0; c < C; ++c) acc[c][0] = OPS::madd(acc[c][0], w0, OPS::load_mask(x + (i + c) * K + k, tail));
    }
    const float b = bias ? bias[r] : 0.0f;
    for (int c = 0; c < C; ++c) y[(i + c) * ldy + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[c][0], acc[c][1])) + b;
}

template <typename OPS>
AVX512BF16_TARGET void plain_rows(float * y, int64_t ldy, const typename OPS::elem * x, int64_t n,
                                  const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t K = w.cols, CH = OPS::CH;
    const auto * W = static_cast<const typename OPS::elem *>(w.data);
    const int64_t rem = K % CH;
    const __mmask32 tail = rem == 0 ? static_cast<__mmask32>(0xffffffffu) : static_cast<__mmask32>((1u << rem) - 1);
    for (int64_t i0 = 0; i0 < n; i0 += TOKEN_BLOCK) {
        const int64_t i1 = i0 + TOKEN_BLOCK < n ? i0 + TOKEN_BLOCK : n;
        for (int64_t r = r0; r < r1; ++r) {
            const typename OPS::elem * wr = W + r * K;
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) row1<OPS, 4>(y, ldy, x, K, wr, bias, r, i, tail);
            for (; i + 2 <= i1; i += 2) row1<OPS, 2>(y, ldy, x, K, wr, bias, r, i, tail);
            for (; i < i1; ++i) row1<OPS, 1>(y, ldy, x, K, wr, bias, r, i, tail);
        }
    }
}

}  // namespace

// Callers guarantee AVX-512 F/BW/VL/DQ (f32) and additionally AVX512-BF16 (bf16).
void matmul_rows_avx512_f32(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w,
                            const float * bias, int64_t r0, int64_t r1) {
    if (w.layout == WEIGHT_TILED32) tiled_rows<f32_ops>(y, ldy, x, w.cols, n, w, bias, r0, r1);
    else plain_rows<f32_ops>(y, ldy, x, n, w, bias, r0, r1);
}

// xb: (n, cols) with row stride cols (ROWS) or ldxb = cols rounded up to even, the pad zero (TILED32).
void matmul_rows_avx512_bf16(float * y, int64_t ldy, const uint16_t * xb, int64_t ldxb, int64_t n,
                             const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    if (w.layout == WEIGHT_TILED32) tiled_rows<bf16_ops>(y, ldy, xb, ldxb, n, w, bias, r0, r1);
    else plain_rows<bf16_ops>(y, ldy, xb, n, w, bias, r0, r1);
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
