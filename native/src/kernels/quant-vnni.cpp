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
 * The inputs come packed (kernels.h, quant_packed_inputs: per block, up to 8 inputs' 4-byte pieces
 * side by side), so every broadcast a tile makes is at a fixed offset from one pointer that moves
 * on a block at a time. A tile is a group (or each of a range of groups) x up to two packs (16
 * inputs): 16 f32 accumulators and 8 int32 block sums stay in registers through all blocks; each
 * block's weight units (loaded, XORed or split) serve the first pack, then the second from L1, so a
 * group's weights stream at the pace of 16 inputs' arithmetic. (The tiles of 16 inputs before them
 * reached each input through its own pointer and kept their f32 sums in memory: 1.15-1.2x slower;
 * tiles of one pack left memory idle while the second pack ran from cache: 12-token forwards
 * 1.07-1.14x slower; docs/performance.md, "Packed inputs".) Up to 16 inputs run as one tile over
 * every group of the row range (decode, n = 1: one sequential weight stream); more run in chunks of
 * 32 swept by every group, the chunk's first tile over a group prefetching its weights
 * PREFETCH_STEPS ahead. Every tile reads a step in address order (quants, then scales). A partial
 * group at either end of the row range is computed whole (rows pad to 16 with zeros) and only the
 * rows in range are stored. kernels.cpp calls this only where the CPU has AVX512F/BW/VL and
 * AVX512_VNNI (and F16C).
 */
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

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
// 4.6 KB): 8 inputs' arithmetic on a block takes ~11 ns, so 8 steps ahead was less than DRAM's
// latency (measured against 8, 12, 24 and 32: docs/performance.md, "Packed inputs").
constexpr int64_t PREFETCH_STEPS = 16;

// One pack's first C inputs (pieces q, offsets o of block b) times block b's units at s: C int32
// sums, each started from its input's offset.
template <bool Q4, int C, int P>
VNNI_TARGET inline void block_sums(__m512i * isum, const uint8_t * s, const int32_t * q, const int32_t * o) {
    constexpr int UNITS = Q4 ? 4 : 8;  // 64-byte units of a step's quants
    const __m512i low4 = _mm512_set1_epi8(15), flip = _mm512_set1_epi8(static_cast<char>(0x80));
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
}

// acc[c] += (d_w * d_x[c]) * isum[c] for C inputs: the reference's f32 product, then one FMA.
template <int C>
VNNI_TARGET inline void block_accumulate(__m512 * acc, const __m512i * isum, __m512 dw, const float * d) {
    for (int c = 0; c < C; ++c) acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(d[c])), _mm512_cvtepi32_ps(isum[c]), acc[c]);
}

// Groups [g0, g1), each x the first C0 (<= P) inputs of the pack x0 and the first C1 (0..8) of
// the pack x1 (packs of P; inputs i, i + 1, ... of y), all nb blocks; outputs for rows in [r0, r1).
// Each block's weights come in once for both packs (the second pass over its units reads them from
// L1), so a group's weights stream at the pace of 16 inputs' arithmetic. PREFETCH: the tile that
// first reads the group (the later ones find it in L1 / L2; decode's single stream measured no gain
// from it).
template <bool Q4, int C0, int C1, bool PREFETCH, int P = QUANT_PACK>
VNNI_TARGET void tile(float * y, int64_t ldy, quant_packed_inputs x0, quant_packed_inputs x1, int64_t nb, const weight_matrix & w,
                      const float * bias, int64_t g0, int64_t g1, int64_t i, int64_t r0, int64_t r1) {
    constexpr int UNITS = Q4 ? 4 : 8;
    constexpr int A1 = C1 > 0 ? C1 : 1;  // (an array of 0 is not allowed)
    const int64_t step = quant_step_bytes(w.dtype);
    for (int64_t g = g0; g < g1; ++g) {
        __m512 acc0[C0], acc1[A1];
        for (int c = 0; c < C0; ++c) acc0[c] = _mm512_setzero_ps();
        for (int c = 0; c < C1; ++c) acc1[c] = _mm512_setzero_ps();
        const uint8_t * s = quant_step(w, g, 0);
        for (int64_t b = 0; b < nb; ++b, s += step) {
            if (PREFETCH)  // the lines of the step PREFETCH_STEPS ahead
                for (int64_t l = 0; l < step + 63; l += 64) _mm_prefetch(reinterpret_cast<const char *>(s + PREFETCH_STEPS * step + l), _MM_HINT_T0);
            __m512i isum[C0 > A1 ? C0 : A1];
            block_sums<Q4, C0, P>(isum, s, x0.q + b * QUANT_PIECES * P, x0.o + b * P);
            // the scales after the quants: a step is read in address order (decode's stream)
            const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + UNITS * QUANT_UNIT_BYTES)));
            block_accumulate<C0>(acc0, isum, dw, x0.d + b * P);
            if (C1 > 0) {
                block_sums<Q4, C1, P>(isum, s, x1.q + b * QUANT_PIECES * P, x1.o + b * P);
                block_accumulate<C1>(acc1, isum, dw, x1.d + b * P);
            }
        }
        for (int c = 0; c < C0; ++c) store_group(y + (i + c) * ldy, acc0[c], bias, g, r0, r1);
        for (int c = 0; c < C1; ++c) store_group(y + (i + P + c) * ldy, acc1[c], bias, g, r0, r1);
    }
}

template <bool Q4, bool PREFETCH>
using tile_fn = void (*)(float *, int64_t, quant_packed_inputs, quant_packed_inputs, int64_t, const weight_matrix &, const float *, int64_t,
                         int64_t, int64_t, int64_t, int64_t);

// The tiles of one pack of C0 = 1..8 inputs (C1 = 0), of a pack of n < 8 inputs (P = C0 = n), and
// of two packs, C0 = 8 and C1 = 1..8.
template <bool Q4, bool PREFETCH, int... K>
constexpr std::array<tile_fn<Q4, PREFETCH>, sizeof...(K)> one_pack_tiles(std::integer_sequence<int, K...>) {
    return {tile<Q4, K + 1, 0, PREFETCH>...};
}
template <bool Q4, bool PREFETCH, int... K>
constexpr std::array<tile_fn<Q4, PREFETCH>, sizeof...(K)> small_pack_tiles(std::integer_sequence<int, K...>) {
    return {tile<Q4, K + 1, 0, PREFETCH, K + 1>...};
}
template <bool Q4, bool PREFETCH, int... K>
constexpr std::array<tile_fn<Q4, PREFETCH>, sizeof...(K)> two_pack_tiles(std::integer_sequence<int, K...>) {
    return {tile<Q4, QUANT_PACK, K + 1, PREFETCH>...};
}

// Groups [g0, g1) x the next inputs of a chunk from input i (a pack's first), left of them
// remaining: a tile of two packs (up to 16 inputs), or of one where no more than 8 are left.
template <bool Q4, bool PREFETCH>
VNNI_TARGET void tile_from(int64_t left, float * y, int64_t ldy, const quant_packed_inputs & x, int64_t nb, const weight_matrix & w,
                           const float * bias, int64_t g0, int64_t g1, int64_t i, int64_t r0, int64_t r1) {
    static constexpr auto one = one_pack_tiles<Q4, PREFETCH>(std::make_integer_sequence<int, QUANT_PACK>());
    static constexpr auto two = two_pack_tiles<Q4, PREFETCH>(std::make_integer_sequence<int, QUANT_PACK>());
    const quant_packed_inputs x0 = quant_packed_at(x, i / QUANT_PACK, nb);
    if (left > QUANT_PACK) {
        const int64_t c1 = left - QUANT_PACK < QUANT_PACK ? left - QUANT_PACK : QUANT_PACK;
        two[c1 - 1](y, ldy, x0, quant_packed_at(x, i / QUANT_PACK + 1, nb), nb, w, bias, g0, g1, i, r0, r1);
    } else {
        one[left - 1](y, ldy, x0, x0, nb, w, bias, g0, g1, i, r0, r1);
    }
}

template <bool Q4>
VNNI_TARGET void rows(float * y, int64_t ldy, const quant_packed_inputs & x, int64_t n, const weight_matrix & w, const float * bias,
                      int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const int64_t g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    // Up to 16 inputs: one tile over every group of the range (decode's one sequential stream; a
    // small model's few-token forwards, whose tiles take tens of nanoseconds, pay one call). A pack
    // of fewer than 8 inputs is as wide as they are (kernels.h, quant_pack_width).
    static constexpr auto small = small_pack_tiles<Q4, true>(std::make_integer_sequence<int, QUANT_PACK - 1>());
    if (n <= 2 * QUANT_PACK) {
        if (n == 1) tile<Q4, 1, 0, false, 1>(y, ldy, x, x, nb, w, bias, g0, g1, 0, r0, r1);
        else if (n < QUANT_PACK) small[n - 1](y, ldy, x, x, nb, w, bias, g0, g1, 0, r0, r1);
        else tile_from<Q4, true>(n, y, ldy, x, nb, w, bias, g0, g1, 0, r0, r1);
        return;
    }
    // More: chunks of 32 inputs (their blocks stay in L2) swept by every group of the range; within
    // a chunk, tiles of two packs (16 inputs), the first prefetching the group's weights.
    constexpr int64_t TWO = 2 * QUANT_PACK;
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        const int64_t i1 = i0 + 32 < n ? i0 + 32 : n;
        for (int64_t g = g0; g < g1; ++g)
            for (int64_t i = i0; i < i1; i += TWO) {
                const int64_t left = i1 - i;
                if (i == i0) tile_from<Q4, true>(left, y, ldy, x, nb, w, bias, g, g + 1, i, r0, r1);
                else tile_from<Q4, false>(left, y, ldy, x, nb, w, bias, g, g + 1, i, r0, r1);
            }
    }
}

}  // namespace

void matmul_rows_quant_vnni(float * y, int64_t ldy, const quant_packed_inputs & x, int64_t n, const weight_matrix & w, const float * bias,
                            int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, x, n, w, bias, r0, r1);
    else rows<false>(y, ldy, x, n, w, bias, r0, r1);
}
