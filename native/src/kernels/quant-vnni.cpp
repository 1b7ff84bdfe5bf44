/*
 * quant-vnni.cpp: the AVX-512 VNNI quantized matmul (kernels.h, matmul_rows_quant_vnni): Q8_0 /
 * Q4_0 weights times int8-block activations with vpdpbusd, for one input (decode) and many
 * (prefill, ReDrafter's verification rows) alike. Same operation sequence per output as
 * quant-ref.cpp (one f32 accumulator, per block one FMA of d_w * d_x with the block's exact
 * integer dot product), so every output has the reference's bits, whatever the batch, the row
 * range or the tile.
 *
 * The layout (kernels.h) puts 4 bytes of each of a group's 16 rows in one 64-byte unit, so int32
 * lane a of a unit vector is row a's 4 quants, and vpdpbusd with the input's matching 4 bytes
 * broadcast to every lane adds their 4 products to row a's lane: a block's 8 (Q8_0) unit
 * instructions leave 16 rows' whole integer dot products in one register, with no horizontal sum.
 * vpdpbusd multiplies unsigned by signed bytes; the unsigned operand is the weight, offset to be
 * non-negative, and the offset's share is the accumulator's starting value, one int32 per input
 * block for all rows (quant_input_offsets):
 *   Q4_0: the nibble u = q_w + 8:       sum u q_x         - 8   sum q_x = sum q_w q_x
 *   Q8_0: q_w XOR 0x80 = q_w + 128:     sum (q_w+128) q_x - 128 sum q_x = sum q_w q_x
 * (|partial sums| <= 32 x 255 x 127 + 128 x 32 x 127: no overflow). Q4_0's unit holds row a's
 * bytes 4u..4u+3, whose low nibbles are its elements 4u..4u+3 and high ones 16+4u..16+4u+3: one
 * AND and one shift give both units. Per (16 rows, input, block): 8 vpdpbusd (their broadcasts are
 * loads), then one vcvtdq2ps, one multiply for d_w * d_x (16 weight scales by one broadcast input
 * scale) and one FMA; each weight unit (loaded, XORed or split) serves up to 8 inputs.
 * A tile is one group x C inputs, C up to 16: f32 accumulators for all C, the int32 sums of a
 * block for 8 inputs at a time (two passes over the block's units, the second from L1), so the
 * group's weights come from memory once per 16 inputs. Tiles of more than one input prefetch the
 * step 8 ahead; every tile reads a step in address order (quants, then scales). Decode (n = 1)
 * runs one group at a time: one sequential weight stream. A partial group at either end of the
 * row range is computed whole (rows pad to 16 with zeros) and only the rows in range are stored.
 * kernels.cpp calls this only where the CPU has AVX512F/BW/VL and AVX512_VNNI (and F16C).
 * Measurements: docs/performance.md, "One accumulator per output".
 */
#include <immintrin.h>

#include <cstring>

#include "kernels.h"

// GCC 12 reports false "uninitialized" warnings inside the AVX-512 intrinsics (as kernels-avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace {

// The input's 4 bytes at x to every int32 lane.
VNNI_TARGET inline __m512i broadcast4(const int8_t * x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
}

// Stores acc (group g's 16 rows of one input) + bias into y for the rows in [r0, r1).
VNNI_TARGET inline void store_group(float * y, __m512 acc, const float * bias, int64_t g, int64_t r0, int64_t r1) {
    const int64_t ga = g * QUANT_GROUP_ROWS;
    const int64_t lo = r0 > ga ? r0 - ga : 0, hi = r1 < ga + QUANT_GROUP_ROWS ? r1 - ga : QUANT_GROUP_ROWS;
    const __mmask16 m = static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
    // + 0 without a bias, as the reference (-0 + 0 = +0)
    _mm512_mask_storeu_ps(y + ga, m, _mm512_add_ps(acc, bias ? _mm512_maskz_loadu_ps(m, bias + ga) : _mm512_setzero_ps()));
}

// Group g x inputs [i, i + C), all nb blocks; outputs for rows in [r0, r1).
template <bool Q4, int C>
VNNI_TARGET void tile(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t nb,
                      const weight_matrix & w, const float * bias, int64_t g, int64_t i, int64_t r0, int64_t r1) {
    constexpr int UNITS = Q4 ? 4 : 8;  // 64-byte units of a step's quants
    __m512 acc[C];
    for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(15), flip = _mm512_set1_epi8(static_cast<char>(0x80));
    const uint8_t * s = quant_step(w, g, 0);
    const int64_t step = quant_step_bytes(w.dtype);
    constexpr int SUB = C < 8 ? C : 8;  // inputs per pass over a step's units: SUB int32 accumulators
    for (int64_t b = 0; b < nb; ++b, s += step) {
        if (C > 1)  // the lines of the step 8 ahead (decode's single stream measured no gain from it)
            for (int64_t o = 0; o < step + 63; o += 64) _mm_prefetch(reinterpret_cast<const char *>(s + 8 * step + o), _MM_HINT_T0);
        for (int c0 = 0; c0 < C; c0 += SUB) {
            __m512i isum[SUB];
            for (int c = 0; c < SUB; ++c) isum[c] = _mm512_set1_epi32(xc[(i + c0 + c) * nb + b]);
            for (int u = 0; u < UNITS; ++u) {
                const __m512i q = _mm512_loadu_si512(s + u * QUANT_UNIT_BYTES);
                if (Q4) {  // low nibbles: elements 4u..4u+3; high: 16+4u..16+4u+3
                    const __m512i lo = _mm512_and_si512(q, low4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
                    for (int c = 0; c < SUB; ++c) {
                        const int8_t * x = xq + ((i + c0 + c) * nb + b) * QUANT_BLOCK;
                        isum[c] = _mm512_dpbusd_epi32(isum[c], lo, broadcast4(x + 4 * u));
                        isum[c] = _mm512_dpbusd_epi32(isum[c], hi, broadcast4(x + 16 + 4 * u));
                    }
                } else {
                    const __m512i qu = _mm512_xor_si512(q, flip);
                    for (int c = 0; c < SUB; ++c)
                        isum[c] = _mm512_dpbusd_epi32(isum[c], qu, broadcast4(xq + ((i + c0 + c) * nb + b) * QUANT_BLOCK + 4 * u));
                }
            }
            // the scales after the quants: a step is read in address order (decode's stream)
            const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + UNITS * QUANT_UNIT_BYTES)));
            for (int c = 0; c < SUB; ++c) {  // d_w * d_x: the reference's f32 products
                const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(xd[(i + c0 + c) * nb + b]));
                acc[c0 + c] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum[c]), acc[c0 + c]);
            }
        }
    }
    for (int c = 0; c < C; ++c) store_group(y + (i + c) * ldy, acc[c], bias, g, r0, r1);
}

template <bool Q4>
VNNI_TARGET void rows(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                      const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const int64_t g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    // Chunks of 32 inputs (their blocks stay in L2) swept by every group of the range; within a
    // chunk, tiles of one group x 16 inputs (then 8, 4, 2, 1 for the rest).
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        const int64_t i1 = i0 + 32 < n ? i0 + 32 : n;
        for (int64_t g = g0; g < g1; ++g) {
            int64_t i = i0;
            for (; i + 16 <= i1; i += 16) tile<Q4, 16>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1);
            if (i + 8 <= i1) tile<Q4, 8>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1), i += 8;
            if (i + 4 <= i1) tile<Q4, 4>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1), i += 4;
            if (i + 2 <= i1) tile<Q4, 2>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1), i += 2;
            if (i < i1) tile<Q4, 1>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1);
        }
    }
}

}  // namespace

void matmul_rows_quant_vnni(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                            const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
    else rows<false>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
}
