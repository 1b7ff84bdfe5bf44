/*
 * quant-avxvnni.cpp: the AVX-VNNI quantized matmul (kernels.h, matmul_rows_quant_avxvnni): Q8_0 /
 * Q4_0 weights times int8-block activations with the 256-bit, VEX-encoded vpdpbusd, for one input
 * (decode) and many alike. For CPUs with AVX-VNNI and no AVX-512 VNNI (Intel Alder Lake and later
 * client cores, Sierra Forest); AMD Zen 5 has both, and runs it on its AVX2 path. Same operation
 * sequence per output as quant-ref.cpp (one f32 accumulator, per block one FMA of d_w * d_x with
 * the block's exact integer dot product), so results equal the reference bit for bit and do not
 * depend on the batch.
 *
 * The arithmetic is quant-vnni.cpp's at half the width: a 256-bit half of a 64-byte unit is 4
 * bytes of each of 8 rows (int32 lane a = row a's), and vpdpbusd with the input's matching 4 bytes
 * broadcast to every lane adds their 4 products to row a's lane. The unsigned operand is the weight
 * made non-negative, its offset's share the accumulator's starting value (quant_input_offsets):
 *   Q4_0: the nibble u = q_w + 8:       sum u q_x         - 8   sum q_x = sum q_w q_x
 *   Q8_0: q_w XOR 0x80 = q_w + 128:     sum (q_w+128) q_x - 128 sum q_x = sum q_w q_x
 * So a block is 8 vpdpbusd per 8 rows and input (Q8_0: one a unit; Q4_0: one per nibble half of
 * its 4 units), where quant-avx2.cpp needs vpsignb, vpmaddubsw, vpmaddwd and vpaddd a unit (Q8_0)
 * or two vpmaddubsw and a vpaddw a unit plus the block's vpmaddwd (Q4_0). Then one
 * conversion, one multiply (8 weight scales by one input scale) and one FMA per 8 rows and input.
 * A tile is a group (two halves of 8 rows) x C inputs, C up to 4 (c_many); each weight half
 * loaded serves C inputs, each input's broadcast both halves. A partial group at either end of the
 * row range is computed whole (rows pad to 16 with zeros) and only the rows in range are stored.
 * kernels.cpp calls this only where the CPU has AVX2, FMA, F16C and AVX-VNNI (quant_avxvnni_supported).
 * Measurements: docs/performance.md, "AVX-VNNI".
 */
#include <immintrin.h>

#include "kernels.h"
#include "quant-avx2-store.h"

#define AVXVNNI_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))

namespace {

using quant_avx2::HALF_ROWS;
using quant_avx2::broadcast4;
using quant_avx2::store_rows;

// Inputs a tile of many (measured on Zen 5, docs/performance.md "AVX-VNNI"): Q8_0 4, Q4_0 3 (its
// split nibbles take two more registers; 4 was 8% slower there).
template <bool Q4>
constexpr int c_many() { return Q4 ? 3 : 4; }

// Group g (its two halves of 8 rows) x inputs [i, i + C), all nb blocks; outputs for rows in [r0, r1).
template <bool Q4, int C>
AVXVNNI_TARGET void tile(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t nb,
                         const weight_matrix & w, const float * bias, int64_t g, int64_t i, int64_t r0, int64_t r1) {
    constexpr int UNITS = Q4 ? 4 : 8;  // 64-byte units of a step's quants
    __m256 acc[2][C];
    for (int h = 0; h < 2; ++h)
        for (int c = 0; c < C; ++c) acc[h][c] = _mm256_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(15), flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const uint8_t * s = quant_step(w, g, 0);
    const int64_t step = quant_step_bytes(w.dtype);
    for (int64_t b = 0; b < nb; ++b, s += step) {
        __m256i isum[2][C];
        for (int h = 0; h < 2; ++h)
            for (int c = 0; c < C; ++c) isum[h][c] = _mm256_set1_epi32(xc[(i + c) * nb + b]);
        for (int u = 0; u < UNITS; ++u)
            for (int h = 0; h < 2; ++h) {
                const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + u * QUANT_UNIT_BYTES + h * 32));
                if (Q4) {  // low nibbles: elements 4u..4u+3; high: 16+4u..16+4u+3
                    const __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
                    for (int c = 0; c < C; ++c) {
                        const int8_t * x = xq + ((i + c) * nb + b) * QUANT_BLOCK;
                        isum[h][c] = _mm256_dpbusd_avx_epi32(isum[h][c], lo, broadcast4(x + 4 * u));
                        isum[h][c] = _mm256_dpbusd_avx_epi32(isum[h][c], hi, broadcast4(x + 16 + 4 * u));
                    }
                } else {
                    const __m256i qu = _mm256_xor_si256(q, flip);
                    for (int c = 0; c < C; ++c)
                        isum[h][c] = _mm256_dpbusd_avx_epi32(isum[h][c], qu, broadcast4(xq + ((i + c) * nb + b) * QUANT_BLOCK + 4 * u));
                }
            }
        for (int h = 0; h < 2; ++h) {  // the scales after the quants: a step is read in address order
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s + UNITS * QUANT_UNIT_BYTES + h * HALF_ROWS * 2)));
            for (int c = 0; c < C; ++c) {  // d_w * d_x: the reference's f32 products
                const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(xd[(i + c) * nb + b]));
                acc[h][c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[h][c]), acc[h][c]);
            }
        }
    }
    for (int h = 0; h < 2; ++h)
        for (int c = 0; c < C; ++c) store_rows(y + (i + c) * ldy, acc[h][c], bias, g * QUANT_GROUP_ROWS + h * HALF_ROWS, r0, r1);
}

template <bool Q4>
AVXVNNI_TARGET void rows(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                         const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const int64_t g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    // Chunks of 32 inputs (their blocks stay in L2) swept by every group of the range (decode: one
    // sequential stream); within a chunk, tiles of one group x c_many inputs (then 2, 1 for the rest).
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        const int64_t i1 = i0 + 32 < n ? i0 + 32 : n;
        for (int64_t g = g0; g < g1; ++g) {
            int64_t i = i0;
            for (; i + c_many<Q4>() <= i1; i += c_many<Q4>()) tile<Q4, c_many<Q4>()>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1);
            if (i + 2 <= i1) tile<Q4, 2>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1), i += 2;
            if (i < i1) tile<Q4, 1>(y, ldy, xq, xd, xc, nb, w, bias, g, i, r0, r1);
        }
    }
}

}  // namespace

void matmul_rows_quant_avxvnni(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                               const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
    else rows<false>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
}
