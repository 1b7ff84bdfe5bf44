/*
 * quant-avx2.cpp: the AVX2 quantized matmul (kernels.h, matmul_rows_quant_avx2): Q8_0 / Q4_0
 * weights times int8-block activations, for one input (decode) and many alike. Same operation
 * sequence per output as quant-ref.cpp (one f32 accumulator, per block one FMA of d_w * d_x with
 * the block's exact integer dot product), so results equal the reference bit for bit and do not
 * depend on the batch.
 *
 * The layout (kernels.h) puts 4 bytes of each of a group's 16 rows in a 64-byte unit; a 256-bit
 * half of it is 4 bytes of 8 rows, int32 lane a = row a's. vpmaddubsw multiplies an unsigned by a
 * signed operand into 16-bit pair sums; with the input's matching 4 bytes broadcast to every lane,
 * vpmaddwd with ones then leaves each row's sum of 4 products in its lane:
 *  - Q8_0 (llama.cpp's q8_0 x q8_0 dot): vpsignb puts the weight's sign on the activation so it
 *    can multiply |q_w| by it (at most 2 x 128 x 127 = 32512 a pair: no saturation); each unit's
 *    pair sums go through vpmaddwd into the block's int32 sums.
 *  - Q4_0: the nibble u = q_w + 8 is unsigned; the low nibbles of unit u are elements 4u..4u+3,
 *    the high ones 16+4u..16+4u+3. The block's 8 pair-sum vectors add up in 16 bits (at most
 *    8 x 2 x 15 x 127 = 30480), one vpmaddwd, then the offset -8 sum q_x (quant_input_offsets).
 * Then one conversion, one multiply (8 weight scales by one input scale) and one FMA per 8 rows and
 * input. A tile is H halves of a group (8 rows each) x C inputs; the weights loaded serve all C.
 * Decode runs whole groups (both halves: one sequential stream); more inputs one half x 4 inputs.
 * kernels.cpp calls this only where the CPU has AVX2, FMA and F16C. Also the activations' int8
 * blocks (quantize_input_q8_avx2), the same operations as quant-formats.cpp's scalar
 * quantize_input_q8, 8 lanes at a time. Measurements: docs/performance.md, "One accumulator per
 * output".
 */
#include <immintrin.h>

#include "kernels.h"
#include "quant-avx2-store.h"

namespace {

using quant_avx2::HALF_ROWS;
using quant_avx2::broadcast4;
using quant_avx2::store_rows;

// Halves [h0, h0 + H) of group g x inputs [i, i + C), all nb blocks; outputs for rows in [r0, r1).
template <bool Q4, int H, int C>
QUANT_AVX2_TARGET void tile(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t nb,
                       const weight_matrix & w, const float * bias, int64_t g, int h0, int64_t i, int64_t r0, int64_t r1) {
    constexpr int UNITS = Q4 ? 4 : 8;  // 64-byte units of a step's quants
    __m256 acc[H][C];
    for (int h = 0; h < H; ++h)
        for (int c = 0; c < C; ++c) acc[h][c] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(15);
    const uint8_t * s = quant_step(w, g, 0) + h0 * 32;
    const int64_t step = quant_step_bytes(w.dtype);
    for (int64_t b = 0; b < nb; ++b, s += step) {
        __m256i isum[H][C];
        for (int h = 0; h < H; ++h)
            for (int c = 0; c < C; ++c) isum[h][c] = _mm256_setzero_si256();
        for (int u = 0; u < UNITS; ++u)
            for (int h = 0; h < H; ++h) {
                const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + u * QUANT_UNIT_BYTES + h * 32));
                if (Q4) {  // pair sums of the block in 16 bits
                    const __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
                    for (int c = 0; c < C; ++c) {
                        const int8_t * x = xq + ((i + c) * nb + b) * QUANT_BLOCK;
                        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, broadcast4(x + 4 * u)),
                                                           _mm256_maddubs_epi16(hi, broadcast4(x + 16 + 4 * u)));
                        isum[h][c] = _mm256_add_epi16(isum[h][c], p);
                    }
                } else {
                    const __m256i aq = _mm256_abs_epi8(q);
                    for (int c = 0; c < C; ++c) {
                        const __m256i x = broadcast4(xq + ((i + c) * nb + b) * QUANT_BLOCK + 4 * u);
                        const __m256i p = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(x, q));
                        isum[h][c] = _mm256_add_epi32(isum[h][c], _mm256_madd_epi16(p, ones));
                    }
                }
            }
        for (int h = 0; h < H; ++h) {
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s - h0 * 32 + UNITS * QUANT_UNIT_BYTES +
                                                                                                  (h0 + h) * HALF_ROWS * 2)));
            for (int c = 0; c < C; ++c) {  // d_w * d_x: the reference's f32 products
                __m256i si = isum[h][c];
                if (Q4) si = _mm256_add_epi32(_mm256_madd_epi16(si, ones), _mm256_set1_epi32(xc[(i + c) * nb + b]));
                const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(xd[(i + c) * nb + b]));
                acc[h][c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(si), acc[h][c]);
            }
        }
    }
    for (int h = 0; h < H; ++h)
        for (int c = 0; c < C; ++c)
            store_rows(y + (i + c) * ldy, acc[h][c], bias, g * QUANT_GROUP_ROWS + (h0 + h) * HALF_ROWS, r0, r1);
}

template <bool Q4>
QUANT_AVX2_TARGET void rows(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                       const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const int64_t g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    if (n == 1) {  // decode: a whole group at a time, one sequential stream
        for (int64_t g = g0; g < g1; ++g) tile<Q4, 2, 1>(y, ldy, xq, xd, xc, nb, w, bias, g, 0, 0, r0, r1);
        return;
    }
    // Chunks of 32 inputs (their blocks stay in L2) swept by every half-group of the range; within
    // a chunk, tiles of one half x 4 inputs (then 2, 1 for the rest).
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        const int64_t i1 = i0 + 32 < n ? i0 + 32 : n;
        for (int64_t g = g0; g < g1; ++g)
            for (int h = 0; h < 2; ++h) {
                const int64_t ra = g * QUANT_GROUP_ROWS + h * HALF_ROWS;
                if (ra + HALF_ROWS <= r0 || ra >= r1) continue;
                int64_t i = i0;
                for (; i + 4 <= i1; i += 4) tile<Q4, 1, 4>(y, ldy, xq, xd, xc, nb, w, bias, g, h, i, r0, r1);
                if (i + 2 <= i1) tile<Q4, 1, 2>(y, ldy, xq, xd, xc, nb, w, bias, g, h, i, r0, r1), i += 2;
                if (i < i1) tile<Q4, 1, 1>(y, ldy, xq, xd, xc, nb, w, bias, g, h, i, r0, r1);
            }
    }
}

}  // namespace

QUANT_AVX2_TARGET void quantize_input_q8_avx2(int8_t * xq, float * xd, const float * x, int64_t n, int64_t K) {
    const int64_t nb = quant_blocks(K), full = K / QUANT_BLOCK;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // undoes the packs' 128-bit interleave
    for (int64_t i = 0; i < n; ++i) {
        const float * row = x + i * K;
        for (int64_t b = 0; b < full; ++b) {
            const float * v = row + b * QUANT_BLOCK;
            __m256 f[4], m = _mm256_setzero_ps();
            for (int k = 0; k < 4; ++k) {
                f[k] = _mm256_loadu_ps(v + 8 * k);
                m = _mm256_max_ps(_mm256_and_ps(f[k], abs_mask), m);  // a NaN element leaves m as it was, as std::max does
            }
            __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
            const float d = _mm_cvtss_f32(h) / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            const __m256 vid = _mm256_set1_ps(id);
            __m256i q[4];
            for (int k = 0; k < 4; ++k)  // nearest-even, as std::nearbyint in the default rounding mode
                q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(f[k], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            const __m256i q16 = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            _mm256_storeu_si256(reinterpret_cast<__m256i *>(xq + (i * nb + b) * QUANT_BLOCK), _mm256_permutevar8x32_epi32(q16, order));
            xd[i * nb + b] = d;
        }
        if (full < nb)  // a last, partial block: the scalar code
            quantize_input_q8_tail(xq + (i * nb + full) * QUANT_BLOCK, xd + i * nb + full, row + full * QUANT_BLOCK, K - full * QUANT_BLOCK);
    }
}

void matmul_rows_quant_avx2(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                            const weight_matrix & w, const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
    else rows<false>(y, ldy, xq, xd, xc, n, w, bias, r0, r1);
}
