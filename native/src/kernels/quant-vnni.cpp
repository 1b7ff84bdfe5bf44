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
 * AND and one shift give both units. Per (16 rows, input, block): 8 vpdpbusd, then one vcvtdq2ps,
 * one multiply for d_w * d_x (16 weight scales by one broadcast input scale) and one FMA.
 *
 * The inputs come packed (kernels.h, quant_packed_inputs: per block, 8 inputs' 4-byte pieces side
 * by side), so every broadcast a tile makes is at a fixed offset from one pointer that moves on a
 * block at a time. A tile is one group x C inputs of one pack, C up to 8: C f32 accumulators and C
 * int32 sums stay in registers through all blocks, and each weight unit (loaded, XORed or split)
 * serves the C inputs. (The tiles of 16 inputs before them reached each input through its own
 * pointer and kept their f32 sums in memory: 1.15-1.2x slower; docs/performance.md, "Packed
 * inputs".) Many inputs run in chunks of 32 swept by every group of the row range; the chunk's
 * first tile over a group prefetches its weights PREFETCH_STEPS ahead. Decode (n = 1) runs one
 * group at a time: one sequential weight stream. Every tile reads a step in address order (quants,
 * then scales). A partial group at either end of the row range is computed whole (rows pad to 16
 * with zeros) and only the rows in range are stored. kernels.cpp calls this only where the CPU has
 * AVX512F/BW/VL and AVX512_VNNI (and F16C).
 */
#include <immintrin.h>

#include <cstring>

#include "kernels.h"

// GCC 12 reports false "uninitialized" warnings inside the AVX-512 intrinsics (as kernels-avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace {

// Stores acc (group g's 16 rows of one input) + bias into y for the rows in [r0, r1).
VNNI_TARGET inline void store_group(float * y, __m512 acc, const float * bias, int64_t g, int64_t r0, int64_t r1) {
    const int64_t ga = g * QUANT_GROUP_ROWS;
    const int64_t lo = r0 > ga ? r0 - ga : 0, hi = r1 < ga + QUANT_GROUP_ROWS ? r1 - ga : QUANT_GROUP_ROWS;
    const __mmask16 m = static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
    // + 0 without a bias, as the reference (-0 + 0 = +0)
    _mm512_mask_storeu_ps(y + ga, m, _mm512_add_ps(acc, bias ? _mm512_maskz_loadu_ps(m, bias + ga) : _mm512_setzero_ps()));
}

// Piece *p (4 input bytes) broadcast to every int32 lane; read bytewise, since a single input's
// pieces are its int8 blocks as they are (kernels.h, quant_packed_inputs).
VNNI_TARGET inline __m512i broadcast_piece(const int32_t * p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// How far ahead the first tile over a group prefetches its weights, in steps (Q8_0 8.7 KB, Q4_0
// 4.6 KB): a block of 8 inputs computes in ~11 ns, so 8 steps ahead was less than DRAM's latency
// (measured against 8, 12, 24 and 32: docs/performance.md, "Packed inputs").
constexpr int64_t PREFETCH_STEPS = 16;

// Group g x the first C (<= P) inputs of the pack of P that x points to (inputs i, i + 1, ... of
// y), all nb blocks; outputs for rows in [r0, r1). PREFETCH: the tile that first reads the group
// (the later ones find it in L1 / L2, and decode's single stream measured no gain from it).
template <bool Q4, int C, bool PREFETCH, int P = QUANT_PACK>
VNNI_TARGET void tile(float * y, int64_t ldy, quant_packed_inputs x, int64_t nb, const weight_matrix & w, const float * bias,
                      int64_t g, int64_t i, int64_t r0, int64_t r1) {
    constexpr int UNITS = Q4 ? 4 : 8;  // 64-byte units of a step's quants
    __m512 acc[C];
    for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(15), flip = _mm512_set1_epi8(static_cast<char>(0x80));
    const uint8_t * s = quant_step(w, g, 0);
    const int64_t step = quant_step_bytes(w.dtype);
    const int32_t * q = x.q;  // block b's pieces: q[piece * P + input]
    const float * d = x.d;
    const int32_t * o = x.o;
    for (int64_t b = 0; b < nb; ++b, s += step, q += QUANT_PIECES * P, d += P, o += P) {
        if (PREFETCH)  // the lines of the step PREFETCH_STEPS ahead
            for (int64_t l = 0; l < step + 63; l += 64) _mm_prefetch(reinterpret_cast<const char *>(s + PREFETCH_STEPS * step + l), _MM_HINT_T0);
        __m512i isum[C];
        for (int c = 0; c < C; ++c) isum[c] = _mm512_set1_epi32(o[c]);
        for (int u = 0; u < UNITS; ++u) {
            const __m512i v = _mm512_loadu_si512(s + u * QUANT_UNIT_BYTES);
            if (Q4) {  // low nibbles: elements 4u..4u+3 (piece u); high: 16+4u..16+4u+3 (piece 4 + u)
                const __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
                for (int c = 0; c < C; ++c) {
                    isum[c] = _mm512_dpbusd_epi32(isum[c], lo, broadcast_piece(q + u * P + c));
                    isum[c] = _mm512_dpbusd_epi32(isum[c], hi, broadcast_piece(q + (4 + u) * P + c));
                }
            } else {
                const __m512i vu = _mm512_xor_si512(v, flip);
                for (int c = 0; c < C; ++c) isum[c] = _mm512_dpbusd_epi32(isum[c], vu, broadcast_piece(q + u * P + c));
            }
        }
        // the scales after the quants: a step is read in address order (decode's stream)
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + UNITS * QUANT_UNIT_BYTES)));
        for (int c = 0; c < C; ++c)  // d_w * d_x: the reference's f32 products
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(d[c])), _mm512_cvtepi32_ps(isum[c]), acc[c]);
    }
    for (int c = 0; c < C; ++c) store_group(y + (i + c) * ldy, acc[c], bias, g, r0, r1);
}

// tile for C = c (1..8).
template <bool Q4, bool PREFETCH>
VNNI_TARGET void tile_n(int c, float * y, int64_t ldy, quant_packed_inputs x, int64_t nb, const weight_matrix & w, const float * bias,
                        int64_t g, int64_t i, int64_t r0, int64_t r1) {
    switch (c) {
        case 8: tile<Q4, 8, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        case 7: tile<Q4, 7, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        case 6: tile<Q4, 6, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        case 5: tile<Q4, 5, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        case 4: tile<Q4, 4, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        case 3: tile<Q4, 3, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        case 2: tile<Q4, 2, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
        default: tile<Q4, 1, PREFETCH>(y, ldy, x, nb, w, bias, g, i, r0, r1); break;
    }
}

template <bool Q4>
VNNI_TARGET void rows(float * y, int64_t ldy, const quant_packed_inputs & x, int64_t n, const weight_matrix & w, const float * bias,
                      int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const int64_t g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    if (n == 1) {  // decode (one input, a pack of 1): one sequential weight stream
        for (int64_t g = g0; g < g1; ++g) tile<Q4, 1, false, 1>(y, ldy, x, nb, w, bias, g, 0, r0, r1);
        return;
    }
    // Chunks of 32 inputs (their blocks stay in L2) swept by every group of the range; within a
    // chunk, one tile for each packed 8, the first prefetching the group's weights.
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        const int64_t i1 = i0 + 32 < n ? i0 + 32 : n;
        for (int64_t g = g0; g < g1; ++g)
            for (int64_t i = i0; i < i1; i += QUANT_PACK) {
                const int c = static_cast<int>(i1 - i < QUANT_PACK ? i1 - i : QUANT_PACK);
                const quant_packed_inputs xi = quant_packed_at(x, i / QUANT_PACK, nb);
                if (i == i0) tile_n<Q4, true>(c, y, ldy, xi, nb, w, bias, g, i, r0, r1);
                else tile_n<Q4, false>(c, y, ldy, xi, nb, w, bias, g, i, r0, r1);
            }
    }
}

}  // namespace

void matmul_rows_quant_vnni(float * y, int64_t ldy, const quant_packed_inputs & x, int64_t n, const weight_matrix & w, const float * bias,
                            int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, x, n, w, bias, r0, r1);
    else rows<false>(y, ldy, x, n, w, bias, r0, r1);
}
