/*
 * kernels-avx512-ops.cpp: the AVX-512 versions of the non-matmul kernels: a vector exp (Cephes
 * polynomial, about 1 ulp), SiLU-GLU, and attention for head_dim a multiple of 16 up to 128 (one
 * KV head's query heads x a tile of query rows at once: scores over transposed 16-slot blocks of
 * K, masked softmax, weighted sum of V), on f32 or bf16 K/V rows (bf16 widened to f32 as each row
 * loads: exact, so the same arithmetic on the same numbers). Compiled with target attributes;
 * kernels.cpp calls them only when supported. See docs/engine.md, "attention".
 */
#include <immintrin.h>

#include <cmath>
#include <vector>

#include "exp-poly.h"
#include "kernels.h"

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

namespace {

// exp(x) for each lane; x <= -87.3 gives ~0 (exactly 0 for -inf), x >= 88.7 gives +inf-ish.
AVX512_TARGET inline __m512 exp512(__m512 x) {
    __mmask16 zero = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_MIN), _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(EXP_MIN)), _mm512_set1_ps(EXP_MAX));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(EXP_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P5));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~zero), _mm512_scalef_ps(p, n));
}

// ---- attention: all query heads of one KV head x a tile of query rows, over blocks of 16 keys ----
// See docs/engine.md, "attention". A block's 16 K rows are transposed once into kt (head_dim x 16),
// so a query's 16 scores are head_dim broadcast-FMAs with no horizontal reduction, and the block is
// shared by every (row, head) query of the tile;
// the weighted sum of V likewise reads each V row once per group of queries.

// In place 16x16 transpose: r[i][j] -> r[j][i] (64 shuffles).
AVX512_TARGET inline void transpose16(__m512 r[16]) {
    __m512 a[16], b[16];
    for (int k = 0; k < 8; ++k) {
        a[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        a[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    // b[4k + c], 128-bit lane l: rows 4k..4k+3 of column 4l + c
    for (int k = 0; k < 4; ++k) {
        const __m512d a0 = _mm512_castps_pd(a[4 * k]), a1 = _mm512_castps_pd(a[4 * k + 1]);
        const __m512d a2 = _mm512_castps_pd(a[4 * k + 2]), a3 = _mm512_castps_pd(a[4 * k + 3]);
        b[4 * k + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        b[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        b[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        b[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    // 4x4 transpose of 128-bit lanes across b[c], b[4 + c], b[8 + c], b[12 + c]
    for (int c = 0; c < 4; ++c) {
        const __m512 e0 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x44), e1 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xee);
        const __m512 e2 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x44), e3 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xee);
        r[c] = _mm512_shuffle_f32x4(e0, e2, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(e0, e2, 0xdd);
        r[8 + c] = _mm512_shuffle_f32x4(e1, e3, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(e1, e3, 0xdd);
    }
}

// 16 elements of a K or V row as f32: f32 as they are, bf16 widened (its bits in the high half).
AVX512_TARGET inline __m512 load16(const float * p) { return _mm512_loadu_ps(p); }
AVX512_TARGET inline __m512 load16(const uint16_t * p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

// kt: (16 * NV, 16): kt[d][x] = k[j0 + x][col + d] for x < cnt, else 0 (k: one row pointer per slot).
template <int NV, class T>
AVX512_TARGET inline void transpose_keys(float * kt, const T * const * k, int64_t col, int64_t j0, int64_t cnt) {
    for (int c = 0; c < NV; ++c) {
        __m512 r[16];
        for (int x = 0; x < 16; ++x) r[x] = x < cnt ? load16(k[j0 + x] + col + 16 * c) : _mm512_setzero_ps();
        transpose16(r);
        for (int t = 0; t < 16; ++t) _mm512_storeu_ps(kt + (16 * c + t) * 16, r[t]);
    }
}

// s[x * ld_s + 0..15] = scale * (q[x] . key 0..15 of kt) for the QG queries q[x] (head_dim HD).
// Two partial sums per query (even and odd head_dim indices) keep FMA chains in flight; the same
// for every QG, so a query's scores do not depend on how many queries share the block.
template <int QG, int HD>
AVX512_TARGET inline void scores_block(float * s, int64_t ld_s, const float * const * q, const float * kt, float scale) {
    constexpr int U = 2;
    __m512 acc[QG][U];
    for (int x = 0; x < QG; ++x)
        for (int u = 0; u < U; ++u) acc[x][u] = _mm512_setzero_ps();
    for (int d = 0; d < HD; d += U)
        for (int u = 0; u < U; ++u) {
            __m512 kv = _mm512_loadu_ps(kt + (d + u) * 16);
            __asm__("" : "+v"(kv));  // keep it in a register: folded into every FMA it costs a 64-byte load each
            for (int x = 0; x < QG; ++x) acc[x][u] = _mm512_fmadd_ps(_mm512_set1_ps(q[x][d + u]), kv, acc[x][u]);
        }
    const __m512 sc = _mm512_set1_ps(scale);
    for (int x = 0; x < QG; ++x) {
        __m512 t = acc[x][0];
        for (int u = 1; u < U; ++u) t = _mm512_add_ps(t, acc[x][u]);
        _mm512_storeu_ps(s + x * ld_s, _mm512_mul_ps(t, sc));
    }
}

// Lanes of slots j..j+15 below limit.
AVX512_TARGET inline __mmask16 visible16(int64_t j, int64_t limit) {
    if (j >= limit) return 0;
    return limit - j >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (limit - j)) - 1);
}

// s: (tp) scores, tp a multiple of 16; slot j is visible iff j < limit (causal: no mask row).
// Becomes exp(s - max) on visible slots and 0 elsewhere; returns 1 / sum, or 0 when nothing is visible.
// The sum runs in 16 lanes, slot j in lane j % 16: a masked row compacts its visible scores first
// (softmax_masked), so its sum is the one of a causal row seeing the same keys in the same order.
AVX512_TARGET inline float softmax_prefix(float * s, int64_t tp, int64_t limit) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < tp; j += 16) mx = _mm512_mask_max_ps(mx, visible16(j, limit), mx, _mm512_loadu_ps(s + j));
    const float m = _mm512_reduce_max_ps(mx);
    if (m == -INFINITY) {
        for (int64_t j = 0; j < tp; j += 16) _mm512_storeu_ps(s + j, _mm512_setzero_ps());
        return 0.0f;
    }
    const __m512 mv = _mm512_set1_ps(m);
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < tp; j += 16) {
        const __m512 e = _mm512_maskz_mov_ps(visible16(j, limit), exp512(_mm512_sub_ps(_mm512_loadu_ps(s + j), mv)));
        _mm512_storeu_ps(s + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

// softmax_prefix for slot j visible iff j < limit and (mrow null or mrow[j]). With a mask row that
// hides a slot before limit, the visible scores are compacted first, in slot order (only those
// past the first hidden slot move), their softmax taken as a causal row's (softmax_prefix over the
// first nv), then put back at their slots with hidden ones 0: a branch's row (docs/engine.md,
// "Branches"), its keys interleaved with other branches', gets the same weights and 1 / sum, bit
// for bit, as the same keys seen contiguously by a causal row (the sum's lanes follow the
// compacted index; the max and each exp do not depend on the lane).
AVX512_TARGET inline float softmax_masked(float * s, int64_t tp, int64_t limit, const uint8_t * mrow) {
    int64_t first = limit;  // the first hidden slot
    if (mrow)
        for (first = 0; first < limit && mrow[first];) ++first;
    if (first == limit) return softmax_prefix(s, tp, limit);
    int64_t nv = first;
    for (int64_t j = first; j < limit; ++j)
        if (mrow[j]) s[nv++] = s[j];
    const float inv = softmax_prefix(s, (nv + 15) / 16 * 16, nv);
    // back to slot positions, from the end (the visible entry c of slot j has c <= j)
    int64_t c = nv;
    for (int64_t j = limit - 1; j >= first; --j) s[j] = mrow[j] ? s[--c] : 0.0f;
    for (int64_t j = limit; j < tp; ++j) s[j] = 0.0f;
    return inv;
}

// o[x] = inv[x] * sum_{j < len} p[x][j] v_j for QG queries (head_dim 16 * NV); v_j: v[j] + col.
// One accumulator per (query, column block), slots summed in order: a query's result must not depend
// on QG or on len (slots past its own limit hold p = 0), so rows are batch-invariant.
template <int NV, int QG, class T>
AVX512_TARGET inline void weighted_v(float * const * o, const float * const * p, const float * inv, const T * const * v,
                                     int64_t col, int64_t len) {
    __m512 acc[QG][NV];
    for (int x = 0; x < QG; ++x)
        for (int c = 0; c < NV; ++c) acc[x][c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < len; ++j) {
        __m512 vr[NV];
        for (int c = 0; c < NV; ++c) vr[c] = load16(v[j] + col + 16 * c);
        for (int x = 0; x < QG; ++x) {
            const __m512 pv = _mm512_set1_ps(p[x][j]);
            for (int c = 0; c < NV; ++c) acc[x][c] = _mm512_fmadd_ps(pv, vr[c], acc[x][c]);
        }
    }
    for (int x = 0; x < QG; ++x) {
        const __m512 iv = _mm512_set1_ps(inv[x]);
        for (int c = 0; c < NV; ++c) _mm512_storeu_ps(o[x] + 16 * c, _mm512_mul_ps(acc[x][c], iv));
    }
}

// weighted_v for r < R + 1 remaining queries, as one group.
template <int NV, int R, class T>
AVX512_TARGET inline void weighted_v_rest(int64_t r, float * const * o, const float * const * p, const float * inv,
                                          const T * const * v, int64_t col, int64_t len) {
    if constexpr (R > 0) {
        if (r == R) weighted_v<NV, R>(o, p, inv, v, col, len);
        else weighted_v_rest<NV, R - 1>(r, o, p, inv, v, col, len);
    }
}

template <int NV, class T>
AVX512_TARGET void attention_tile_t(const attention_args<T> & a, int hk, int64_t i0, int64_t i1) {
    constexpr int HD = 16 * NV;
    const int g = a.n_head / a.n_head_kv;
    const int64_t total = a.kv_len + a.n;
    const int64_t q_dim = static_cast<int64_t>(a.n_head) * HD;
    // slots any row of the tile may see: causal row i sees [0, kv_len + i]
    const int64_t len = a.mask ? total : a.kv_len + i1;
    const int64_t tp = (len + 15) / 16 * 16;
    const int64_t m = (i1 - i0) * g;  // queries: (row i, head hk * g + hh) is query (i - i0) * g + hh
    thread_local std::vector<float> S, kt, inv;
    thread_local std::vector<const float *> qp, pp;
    thread_local std::vector<float *> op;
    S.resize(static_cast<size_t>(m * tp));  // S: (m, tp) scores, then unnormalised probabilities
    kt.resize(static_cast<size_t>(HD * 16));
    inv.resize(static_cast<size_t>(m));
    qp.resize(static_cast<size_t>(m));
    pp.resize(static_cast<size_t>(m));
    op.resize(static_cast<size_t>(m));
    for (int64_t i = i0; i < i1; ++i)
        for (int hh = 0; hh < g; ++hh) {
            const int64_t x = (i - i0) * g + hh, col = (static_cast<int64_t>(hk) * g + hh) * HD;
            qp[x] = a.q + i * q_dim + col;
            op[x] = a.out + i * q_dim + col;
            pp[x] = S.data() + x * tp;
        }
    const int64_t col = static_cast<int64_t>(hk) * HD;  // KV head hk's columns of every K / V row
    // scores, 16 slots at a time, the block transposed once for all queries. Every query takes the
    // same path whatever the tile holds, so a row's output does not depend on the batch around it
    // (greedy ReDrafter == plain greedy bit for bit; a per-query path for 1-3 queries measured
    // 1.3-2x faster on the scores but summed in another order).
    for (int64_t j0 = 0; j0 < len; j0 += 16) {
        transpose_keys<NV>(kt.data(), a.k, col, j0, len - j0 < 16 ? len - j0 : 16);
        float * s = S.data() + j0;
        int64_t x = 0;
        for (; x + 8 <= m; x += 8) scores_block<8, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale);
        switch (m - x) {
            case 7: scores_block<7, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            case 6: scores_block<6, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            case 5: scores_block<5, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            case 4: scores_block<4, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            case 3: scores_block<3, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            case 2: scores_block<2, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            case 1: scores_block<1, HD>(s + x * tp, tp, qp.data() + x, kt.data(), a.scale); break;
            default: break;
        }
    }
    for (int64_t i = i0; i < i1; ++i) {
        const int64_t limit = a.mask ? total : a.kv_len + i + 1;
        const uint8_t * mrow = a.mask ? a.mask + i * total : nullptr;
        for (int hh = 0; hh < g; ++hh) {
            const int64_t x = (i - i0) * g + hh;
            inv[x] = softmax_masked(S.data() + x * tp, tp, limit, mrow);
        }
    }
    // weighted sums of V: groups of up to G queries share each V row load (at most ~16 accumulators)
    constexpr int G = NV <= 2 ? 8 : NV == 3 ? 5 : NV == 4 ? 4 : 3;
    int64_t x = 0;
    for (; x + G <= m; x += G) weighted_v<NV, G>(op.data() + x, pp.data() + x, inv.data() + x, a.v, col, len);
    weighted_v_rest<NV, G - 1>(m - x, op.data() + x, pp.data() + x, inv.data() + x, a.v, col, len);
}

}  // namespace

namespace {
template <class T>
bool tile_for_head_dim(const attention_args<T> & a, int hk, int64_t i0, int64_t i1) {
    switch (a.head_dim) {
        case 16: attention_tile_t<1>(a, hk, i0, i1); return true;
        case 32: attention_tile_t<2>(a, hk, i0, i1); return true;
        case 48: attention_tile_t<3>(a, hk, i0, i1); return true;
        case 64: attention_tile_t<4>(a, hk, i0, i1); return true;
        case 80: attention_tile_t<5>(a, hk, i0, i1); return true;
        case 96: attention_tile_t<6>(a, hk, i0, i1); return true;
        case 112: attention_tile_t<7>(a, hk, i0, i1); return true;
        case 128: attention_tile_t<8>(a, hk, i0, i1); return true;
        default: return false;
    }
}
}  // namespace

// Rows [i0, i1) of the batch, all query heads of KV head hk (see kernels.h, attention()).
bool attention_tile_avx512(const attention_args<float> & a, int hk, int64_t i0, int64_t i1) { return tile_for_head_dim(a, hk, i0, i1); }
bool attention_tile_avx512(const attention_args<uint16_t> & a, int hk, int64_t i0, int64_t i1) { return tile_for_head_dim(a, hk, i0, i1); }

AVX512_TARGET void silu_glu_avx512(float * g, const float * u, int64_t len) {
    int64_t j = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; j + 16 <= len; j += 16) {
        __m512 x = _mm512_loadu_ps(g + j);
        __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_storeu_ps(g + j, _mm512_mul_ps(s, _mm512_loadu_ps(u + j)));
    }
    for (; j < len; ++j) g[j] = g[j] / (1.0f + std::exp(-g[j])) * u[j];
}

AVX512_TARGET void exp_avx512(float * x, int64_t len) {
    int64_t j = 0;
    for (; j + 16 <= len; j += 16) _mm512_storeu_ps(x + j, exp512(_mm512_loadu_ps(x + j)));
    for (; j < len; ++j) x[j] = std::exp(x[j]);
}
