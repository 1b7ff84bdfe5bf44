/*
 * quant-vnni.cpp: the AVX-512 VNNI quantized matmul (kernels.h, matmul_rows_quant_vnni): Q8_0 /
 * Q4_0 weights times int8-block activations with vpdpbusd, for one input (decode) and many
 * (prefill, ReDrafter's verification rows) alike. Same operation sequence per output as
 * quant-ref.cpp (8 f32 lanes, lane l = the exact integer sum of a block's elements 4l..4l+3, one
 * FMA per block with d_w * d_x, the lanes summed in hsum_avx2's tree), so every output has the
 * reference's bits, whatever the batch, the row range or the tile.
 *
 * vpdpbusd multiplies unsigned by signed bytes and adds each 4 adjacent products to an int32 lane
 * of its accumulator: one instruction for what vpmaddubsw + vpmaddwd do on AVX2. The unsigned
 * operand is the weight, offset to be non-negative, and the offset's share is the accumulator's
 * starting value, made once per input block for all rows (quant_input_offsets_vnni):
 *   Q4_0: the nibble u = q_w + 8:       sum u q_x        - 8   sum q_x  = sum q_w q_x
 *   Q8_0: q_w XOR 0x80 = q_w + 128:     sum (q_w+128) q_x - 128 sum q_x = sum q_w q_x
 * (|partial sums| <= 4 x 255 x 127 + 128 x 4 x 127: no overflow), so a row block costs one
 * vpdpbusd, one vcvtdq2ps and one FMA per 16 lanes, against six operations per 8 lanes on AVX2.
 *
 * Registers hold a whole 4-row group (the quantized layout's unit, kernels.h) per block:
 *  - Q4_0: the group's 64 bytes in one zmm, 128-bit lane a = row a's 16 bytes. AND 15 gives every
 *    row's elements 0..15 (LO), shift and AND its elements 16..31 (HI); the input's 16-byte halves
 *    are broadcast to the 4 lanes. A LO accumulator's lane 4a + l is row a's lane l (l < 4), HI's
 *    row a's lane 4 + l, and one scale vector [d_0 x4, d_1 x4, d_2 x4, d_3 x4] serves both.
 *  - Q8_0: rows 0-1 in one zmm (int32 lanes 0-7 = row 0's lanes, 8-15 = row 1's), rows 2-3 in
 *    another, the input's 32 bytes broadcast to both halves; scale vectors [d_0 x8, d_1 x8] and
 *    [d_2 x8, d_3 x8]. The end shuffles them into the LO / HI arrangement above.
 * The end sums LO + HI (lanes l and l + 4), then pairs in-lane: ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7))
 * for the 4 rows at once, hsum_avx2's tree. A tile is G groups x C inputs: decode runs 1 group x
 * 1 input (one sequential weight stream), more inputs 2 groups x 4 inputs (2, 1 for the rest). A
 * partial group at either end of the row range is computed whole (rows pad to 4 with zeros) and
 * only the rows in range stored. kernels.cpp calls this only where the CPU has AVX512F/BW/VL and
 * AVX512_VNNI (and F16C). Measurements: docs/performance.md, "AVX-512 VNNI".
 */
#include <immintrin.h>

#include "kernels.h"

// GCC 12 reports false "uninitialized" warnings inside the AVX-512 intrinsics (as kernels-avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace {

// The accumulators of one (group, input): Q4_0 lo = LO, hi = HI; Q8_0 lo = rows 0-1, hi = rows 2-3.
// Stores the rows of group g in [r0, r1) of input i's outputs (y row i), plus bias.
template <bool Q4>
VNNI_TARGET inline void store_group(float * y, const __m512 lo, const __m512 hi, const float * bias, int64_t g, int64_t r0, int64_t r1) {
    __m512 l = lo, h = hi;
    if (!Q4) {  // 128-bit lanes (row 0 lanes 0-3, row 0 lanes 4-7, row 1 ..., ...) -> LO / HI
        l = _mm512_shuffle_f32x4(lo, hi, 0x88);
        h = _mm512_shuffle_f32x4(lo, hi, 0xDD);
    }
    const __m512 t = _mm512_add_ps(l, h);                           // lane 4a + j: l_j + l_{j+4} of row a
    const __m512 u = _mm512_add_ps(t, _mm512_permute_ps(t, 0x4E));  // lane 4a: t_0 + t_2, 4a + 1: t_1 + t_3
    const __m512 v = _mm512_add_ps(u, _mm512_permute_ps(u, 0xB1));  // lane 4a: (t_0 + t_2) + (t_1 + t_3)
    alignas(64) float s[16];
    _mm512_store_ps(s, v);
    for (int a = 0; a < QUANT_GROUP_ROWS; ++a) {
        const int64_t r = g * QUANT_GROUP_ROWS + a;
        if (r >= r0 && r < r1) y[r] = s[4 * a] + (bias ? bias[r] : 0.0f);
    }
}

// Groups [g, g + G) x inputs [i, i + C), all nb blocks; outputs for rows in [r0, r1).
template <bool Q4, int G, int C>
VNNI_TARGET void tile(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t nb,
                      const uint8_t * base, const float * bias, int64_t g, int64_t i, int64_t r0, int64_t r1) {
    constexpr int64_t BB = Q4 ? 16 : 32;                   // bytes of a row's block quants
    constexpr int64_t STEP = QUANT_GROUP_ROWS * (BB + 2);  // one block of a group: quants, then 4 f16 scales
    const uint8_t * wg[G];
    for (int a = 0; a < G; ++a) wg[a] = base + (g + a) * nb * STEP;
    __m512 lo[G][C], hi[G][C];
    for (int a = 0; a < G; ++a)
        for (int c = 0; c < C; ++c) lo[a][c] = hi[a][c] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(15), flip = _mm512_set1_epi8(static_cast<char>(0x80));
    // scale vectors from the group's 4 f16 scales: Q4_0 [d0 x4 .. d3 x4]; Q8_0 [d0 x8, d1 x8], [d2 x8, d3 x8]
    const __m512i by4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i by8a = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i by8b = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    for (int64_t b = 0; b < nb; ++b) {
        __m512i wa[G], wb[G];
        __m512 da[G], db[G];
        for (int a = 0; a < G; ++a) {
            const uint8_t * s = wg[a] + b * STEP;
            if (Q4) {
                const __m512i q = _mm512_loadu_si512(s);
                wa[a] = _mm512_and_si512(q, low4);
                wb[a] = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
            } else {
                wa[a] = _mm512_xor_si512(_mm512_loadu_si512(s), flip);
                wb[a] = _mm512_xor_si512(_mm512_loadu_si512(s + 64), flip);
            }
            const __m512 d4 = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(s + 4 * BB))));
            da[a] = _mm512_permutexvar_ps(Q4 ? by4 : by8a, d4);
            db[a] = Q4 ? da[a] : _mm512_permutexvar_ps(by8b, d4);
        }
        for (int c = 0; c < C; ++c) {
            const int64_t xb = (i + c) * nb + b;
            const int8_t * x = xq + xb * QUANT_BLOCK;
            const int32_t * off = xc + xb * 8;
            const __m512 dx = _mm512_set1_ps(xd[xb]);
            __m512i xa, xh, oa, oh;
            if (Q4) {  // halves of the block to every 128-bit lane, with their lanes' offsets
                xa = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)));
                xh = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + 16)));
                oa = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i *>(off)));
                oh = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i *>(off + 4)));
            } else {  // the block to both 256-bit halves
                xa = xh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(x)));
                oa = oh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(off)));
            }
            for (int a = 0; a < G; ++a) {  // d_w * d_x: the reference's f32 products
                const __m512i pa = _mm512_dpbusd_epi32(oa, wa[a], xa);
                const __m512i ph = _mm512_dpbusd_epi32(oh, wb[a], xh);
                const __m512 sa = _mm512_mul_ps(da[a], dx);
                const __m512 sh = Q4 ? sa : _mm512_mul_ps(db[a], dx);
                lo[a][c] = _mm512_fmadd_ps(sa, _mm512_cvtepi32_ps(pa), lo[a][c]);
                hi[a][c] = _mm512_fmadd_ps(sh, _mm512_cvtepi32_ps(ph), hi[a][c]);
            }
        }
    }
    for (int a = 0; a < G; ++a)
        for (int c = 0; c < C; ++c) store_group<Q4>(y + (i + c) * ldy, lo[a][c], hi[a][c], bias, g + a, r0, r1);
}

// Groups [g, g + G) x inputs [i0, i1): 4 inputs at a time, then 2, then 1.
template <bool Q4, int G>
VNNI_TARGET void input_tiles(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t nb,
                             const uint8_t * base, const float * bias, int64_t g, int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
    int64_t i = i0;
    for (; i + 4 <= i1; i += 4) tile<Q4, G, 4>(y, ldy, xq, xd, xc, nb, base, bias, g, i, r0, r1);
    if (i + 2 <= i1) tile<Q4, G, 2>(y, ldy, xq, xd, xc, nb, base, bias, g, i, r0, r1), i += 2;
    if (i < i1) tile<Q4, G, 1>(y, ldy, xq, xd, xc, nb, base, bias, g, i, r0, r1);
}

template <bool Q4>
VNNI_TARGET void rows(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                      const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const uint8_t * base = static_cast<const uint8_t *>(w.data);
    const int64_t g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    if (n == 1) {  // decode: one group, one sequential stream, at a time (two groups' streams at once
                   // measured 2x slower out of cache on Zen 4: docs/performance.md)
        for (int64_t g = g0; g < g1; ++g) tile<Q4, 1, 1>(y, ldy, xq, xd, xc, nb, base, bias, g, 0, r0, r1);
        return;
    }
    // Chunks of 32 inputs (their blocks stay in L2) swept by every group of the range; within a
    // chunk, tiles of 2 groups (their blocks in L1) x 4 inputs, so each input vector loaded serves
    // 8 rows and each weight vector 4 inputs (10% faster than 1 group x 8 inputs on Zen 4).
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        const int64_t i1 = i0 + 32 < n ? i0 + 32 : n;
        int64_t g = g0;
        for (; g + 2 <= g1; g += 2) input_tiles<Q4, 2>(y, ldy, xq, xd, xc, nb, base, bias, g, i0, i1, r0, r1);
        if (g < g1) input_tiles<Q4, 1>(y, ldy, xq, xd, xc, nb, base, bias, g, i0, i1, r0, r1);
    }
}

}  // namespace

VNNI_TARGET void quant_input_offsets_vnni(int32_t * xc, const int8_t * xq, int64_t n, int64_t K, weight_dtype d) {
    const int64_t blocks = n * quant_blocks(K);
    const __m256i u = _mm256_set1_epi8(static_cast<char>(d == WEIGHT_Q4_0 ? 8 : 128));
    for (int64_t b = 0; b < blocks; ++b) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq + b * QUANT_BLOCK));
        const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, x);  // lane l: u sum_{4l..4l+3} x
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(xc + b * 8), _mm256_sub_epi32(_mm256_setzero_si256(), s));
    }
}

void matmul_rows_quant_vnni(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                            const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
    else rows<false>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
}
