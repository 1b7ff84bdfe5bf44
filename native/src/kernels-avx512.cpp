/*
 * kernels-avx512.cpp: the AVX-512 matmul (f32 weights with FMA; bf16 weights with the AVX512-BF16
 * dot product vdpbf16ps on bf16-rounded activations). Compiled with target attributes, so the rest
 * of the core runs on any x86-64; kernels.cpp calls these only when the CPU has the features.
 * TILED4 matrices (the model's, re-laid out at load) run as tiles of 4 rows x C <= 6 inputs that
 * read one sequential stream, as few tiles per block as the inputs allow; ROWS matrices (e.g. the
 * drafter's, used in place) go one row at a time, which also streams sequentially. Each weight
 * vector loaded is used for all C inputs.
 * See docs/engine.md, "matmul".
 */
#include <immintrin.h>

#include "kernels.h"

// GCC 12 reports false "uninitialized" warnings inside _mm512_reduce_add_ps.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define AVX512BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

namespace {

constexpr int64_t TOKEN_BLOCK = 64;  // inputs processed per pass over a block of weight rows

// ---- element traits: one vector step of each dtype --------------------------------------------

struct bf16_ops {
    using elem = uint16_t;
    static constexpr int64_t CH = 32;
    AVX512BF16_TARGET static inline __m512i load(const elem * p) { return _mm512_loadu_si512(p); }
    AVX512BF16_TARGET static inline __m512i load_mask(const elem * p, __mmask32 m) { return _mm512_maskz_loadu_epi16(m, p); }
    AVX512BF16_TARGET static inline __m512 madd(__m512 acc, __m512i w, __m512i x) {
        return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)x);
    }
};

struct f32_ops {
    using elem = float;
    static constexpr int64_t CH = 16;
    AVX512_TARGET static inline __m512i load(const elem * p) { return _mm512_castps_si512(_mm512_loadu_ps(p)); }
    AVX512_TARGET static inline __m512i load_mask(const elem * p, __mmask32 m) {
        return _mm512_castps_si512(_mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p));
    }
    AVX512_TARGET static inline __m512 madd(__m512 acc, __m512i w, __m512i x) {
        return _mm512_fmadd_ps(_mm512_castsi512_ps(w), _mm512_castsi512_ps(x), acc);
    }
};

// ---- TILED4: 4 rows x C inputs ------------------------------------------------------------------

// (sum(v0), sum(v1), sum(v2), sum(v3))
AVX512_TARGET inline __m128 hsum4(__m512 v0, __m512 v1, __m512 v2, __m512 v3) {
    // pairwise: t01 lanes hold partial sums of v0 and v1 interleaved, t23 of v2 and v3
    __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(v0, v1), _mm512_unpackhi_ps(v0, v1));
    __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(v2, v3), _mm512_unpackhi_ps(v2, v3));
    // each 128-bit lane: (v0, v1, v2, v3) partial sums
    __m512 u = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t01), _mm512_castps_pd(t23))),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t01), _mm512_castps_pd(t23))));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(u), _mm512_extractf32x8_ps(u, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// y[i + c, 4b + a] for c < C, a < 4 (rows >= rows_valid are padding and not written).
// blk: the block's weights (KC chunks of 4 x CH); x: (n, K) rows; tail chunk of x masked.
// next (or null): the following block; chunks [pf0, pf1) of it are prefetched into L2 while this
// tile computes, so DRAM keeps streaming while the tiles re-read this block from L1 (without it,
// N = 8 cost 2-3x N = 1). Each tile over a block prefetches its share of the next block.
template <typename OPS, int C>
AVX512BF16_TARGET inline void tile4(float * y, int64_t ldy, const typename OPS::elem * x, int64_t K,
                                    const typename OPS::elem * blk, int64_t KC, const float * bias, int64_t r,
                                    int64_t rows_valid, int64_t i, __mmask32 tail, const typename OPS::elem * next,
                                    int64_t pf0, int64_t pf1) {
    __m512 acc[4][C];
    for (int a = 0; a < 4; ++a)
        for (int c = 0; c < C; ++c) acc[a][c] = _mm512_setzero_ps();
    const int64_t CH = OPS::CH;
    const int64_t full = (K % CH == 0) ? KC : KC - 1;
    for (int64_t kc = 0; kc < full; ++kc) {
        const typename OPS::elem * p = blk + kc * 4 * CH;
        if (next && kc < pf1 - pf0) {
            const char * q = reinterpret_cast<const char *>(next + (pf0 + kc) * 4 * CH);
            _mm_prefetch(q, _MM_HINT_T1);
            _mm_prefetch(q + 64, _MM_HINT_T1);
            _mm_prefetch(q + 128, _MM_HINT_T1);
            _mm_prefetch(q + 192, _MM_HINT_T1);
        }
        __m512i w[4];
        for (int a = 0; a < 4; ++a) {
            w[a] = OPS::load(p + a * CH);
            // pinned to a register: left alone, GCC re-loads (or folds) w[a] once per input, which
            // multiplies the L1 loads by C (C = 3: 1.2x slower); with one input folding is right
            if constexpr (C > 1) __asm__("" : "+v"(w[a]));
        }
        for (int c = 0; c < C; ++c) {
            __m512i xv = OPS::load(x + (i + c) * K + kc * CH);
            for (int a = 0; a < 4; ++a) acc[a][c] = OPS::madd(acc[a][c], w[a], xv);
        }
    }
    if (full < KC) {
        const typename OPS::elem * p = blk + full * 4 * CH;
        __m512i w[4];
        for (int a = 0; a < 4; ++a) w[a] = OPS::load(p + a * CH);
        for (int c = 0; c < C; ++c) {
            __m512i xv = OPS::load_mask(x + (i + c) * K + full * CH, tail);
            for (int a = 0; a < 4; ++a) acc[a][c] = OPS::madd(acc[a][c], w[a], xv);
        }
    }
    // the 4 rows' sums of each input at once (a transposing reduction: ~12 instructions for 4
    // sums instead of ~32 for 4 separate horizontal reductions)
    const bool full_rows = r + 4 <= rows_valid;
    const __m128 bv = bias && full_rows ? _mm_loadu_ps(bias + r) : _mm_setzero_ps();
    for (int c = 0; c < C; ++c) {
        __m128 s4 = hsum4(acc[0][c], acc[1][c], acc[2][c], acc[3][c]);
        if (full_rows) {
            _mm_storeu_ps(y + (i + c) * ldy + r, _mm_add_ps(s4, bv));
        } else {
            float tmp[4];
            _mm_storeu_ps(tmp, s4);
            for (int a = 0; a < 4 && r + a < rows_valid; ++a) y[(i + c) * ldy + r + a] = tmp[a] + (bias ? bias[r + a] : 0.0f);
        }
    }
}

template <typename OPS>
AVX512BF16_TARGET void tiled_rows(float * y, int64_t ldy, const typename OPS::elem * x, int64_t n,
                                  const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t K = w.cols, CH = OPS::CH, KC = weight_padded_cols(w) / CH;
    const auto * W = static_cast<const typename OPS::elem *>(w.data);
    const int64_t rem = K % CH;
    const __mmask32 tail = rem == 0 ? static_cast<__mmask32>(0xffffffffu) : static_cast<__mmask32>((1u << rem) - 1);
    for (int64_t i0 = 0; i0 < n; i0 += TOKEN_BLOCK) {
        const int64_t i1 = i0 + TOKEN_BLOCK < n ? i0 + TOKEN_BLOCK : n;
        const int64_t m = i1 - i0;
        // the fewest tiles (passes over a block) for m inputs, at most 6 per tile; tile t covers
        // inputs [first[t], first[t + 1]) and prefetches chunks [share[t], share[t + 1]) of the next block
        int64_t first[TOKEN_BLOCK / 6 + 3], share[TOKEN_BLOCK / 6 + 3];
        int passes = 0;
        first[0] = i0;
        for (int64_t i = i0; i < i1; ++passes) {
            const int64_t rest = i1 - i;
            i += rest <= 6 ? rest : rest <= 12 ? (rest + 1) / 2 : 6;
            first[passes + 1] = i;
        }
        for (int t = 0; t <= passes; ++t) share[t] = KC * t / passes;
        // the next block, prefetched in shares by the tiles over this one (a chunk is 4 lines);
        // with fewer than 4 inputs the hardware prefetcher alone streams faster (measured: bf16
        // N = 1 is 15% slower with it, also with a threshold of 2 inputs; N >= 6 is 1.5x faster;
        // f32 from DRAM, N = 4..8: 1.3-1.7x faster)
        const bool prefetch = m >= 4;
        for (int64_t r = r0 / 4 * 4; r < r1; r += 4) {
            const typename OPS::elem * blk = W + (r / 4) * KC * 4 * CH;
            const typename OPS::elem * next = prefetch && r + 4 < r1 ? blk + KC * 4 * CH : nullptr;
            for (int t = 0; t < passes; ++t) {
                const int64_t i = first[t], a = share[t], b = share[t + 1];
                switch (first[t + 1] - i) {
                    case 6: tile4<OPS, 6>(y, ldy, x, K, blk, KC, bias, r, r1, i, tail, next, a, b); break;
                    case 5: tile4<OPS, 5>(y, ldy, x, K, blk, KC, bias, r, r1, i, tail, next, a, b); break;
                    case 4: tile4<OPS, 4>(y, ldy, x, K, blk, KC, bias, r, r1, i, tail, next, a, b); break;
                    case 3: tile4<OPS, 3>(y, ldy, x, K, blk, KC, bias, r, r1, i, tail, next, a, b); break;
                    case 2: tile4<OPS, 2>(y, ldy, x, K, blk, KC, bias, r, r1, i, tail, next, a, b); break;
                    default: tile4<OPS, 1>(y, ldy, x, K, blk, KC, bias, r, r1, i, tail, next, a, b); break;
                }
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
    if (w.layout == WEIGHT_TILED4) tiled_rows<f32_ops>(y, ldy, x, n, w, bias, r0, r1);
    else plain_rows<f32_ops>(y, ldy, x, n, w, bias, r0, r1);
}

void matmul_rows_avx512_bf16(float * y, int64_t ldy, const uint16_t * xb, int64_t n, const weight_matrix & w,
                             const float * bias, int64_t r0, int64_t r1) {
    if (w.layout == WEIGHT_TILED4) tiled_rows<bf16_ops>(y, ldy, xb, n, w, bias, r0, r1);
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
