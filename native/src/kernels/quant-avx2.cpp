/*
 * quant-avx2.cpp: the AVX2 quantized matmul (kernels.h, matmul_rows_quant_avx2): Q8_0 / Q4_0
 * weights times int8-block activations, the q8_0 x q8_0 dot of llama.cpp: per 32-element block,
 * vpmaddubsw multiplies an unsigned operand by a signed one into pair sums (see tile() for how
 * each format gets there), vpmaddwd sums those to 8 int32 lanes of 4 products each, which
 * are converted and fused-multiply-added with the block's scale product into 8 f32 lanes. The
 * operation sequence per output is quant-ref.cpp's, so results equal the reference bit for bit
 * and do not depend on the batch. A tile is R weight rows x C inputs; kernels.cpp calls this only
 * where the CPU has AVX2, FMA and F16C. Also the activations' int8 blocks (quantize_input_q8_avx2),
 * the same operations as quant-formats.cpp's scalar quantize_input_q8, 8 lanes at a time.
 */
#include <immintrin.h>

#include "avx2-hsum.h"
#include "kernels.h"

#define QUANT_TARGET __attribute__((target("avx2,fma,f16c")))

namespace {

// One block's 32 weights: Q8_0 as stored (int8); Q4_0 as its unsigned nibbles u (0..15), low
// nibbles -> elements 0..15, high -> 16..31 (the weight is u - 8: see tile()).
template <bool Q4>
QUANT_TARGET inline __m256i load_block(const uint8_t * p) {
    if (!Q4) return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    // the 16 bytes in both halves (one broadcast load), the upper half shifted right by 4, then
    // each byte's low 4 bits: the low nibbles below, the high ones above
    const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    return _mm256_and_si256(_mm256_srlv_epi64(b, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(15));
}

// Lane a (0..3) of each 128-bit half of v, in all 8 lanes (v's halves are equal).
QUANT_TARGET inline __m256 lane_to_all(__m256 v, int a) {
    switch (a) {
        case 0: return _mm256_permute_ps(v, 0x00);
        case 1: return _mm256_permute_ps(v, 0x55);
        case 2: return _mm256_permute_ps(v, 0xAA);
        default: return _mm256_permute_ps(v, 0xFF);
    }
}

// R rows (in one 4-row group: r % 4 + R <= 4) x C inputs. Q8_0: vpsignb moves w's sign onto x so
// vpmaddubsw multiplies |w| by it. Q4_0: the nibble u is already unsigned, so vpmaddubsw takes
// (u, x) as they are and the pair sums of 8 x (one vpmaddubsw per input block, shared by the R
// rows) are subtracted: sum (u - 8) x. Both give the same exact int32 lane sums as the reference.
template <int R, int C, bool Q4>
QUANT_TARGET inline void tile(float * y, int64_t ldy, const int8_t * xq, const float * xd, int64_t nb, const uint8_t * base,
                              const float * bias, int64_t r, int64_t i) {
    constexpr int64_t BB = Q4 ? 16 : 32;  // bytes of a block's quants
    constexpr int64_t STEP = QUANT_GROUP_ROWS * (BB + 2);  // one block of the group: quants, then scales
    const uint8_t * q = base + (r / QUANT_GROUP_ROWS) * nb * STEP + (r % QUANT_GROUP_ROWS) * BB;
    const uint8_t * sc = base + (r / QUANT_GROUP_ROWS) * nb * STEP + QUANT_GROUP_ROWS * BB + (r % QUANT_GROUP_ROWS) * 2;
    __m256 acc[R][C];
    for (int a = 0; a < R; ++a)
        for (int c = 0; c < C; ++c) acc[a][c] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i eight = _mm256_set1_epi8(8);
    for (int64_t b = 0; b < nb; ++b) {
        __m256i aw[R], sw[R];
        for (int a = 0; a < R; ++a) {
            sw[a] = load_block<Q4>(q + b * STEP + a * BB);
            aw[a] = Q4 ? sw[a] : _mm256_sign_epi8(sw[a], sw[a]);
        }
        // the rows' scales d_w: R == 4 (a whole group, whose 4 f16 scales are adjacent): one load,
        // one conversion, the 4 in both 128-bit halves of dw4; else each broadcast to dw[a]
        __m256 dw[R], dw4 = _mm256_setzero_ps();
        if constexpr (R == 4) {
            const __m128 d = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(sc + b * STEP)));
            dw4 = _mm256_insertf128_ps(_mm256_castps128_ps256(d), d, 1);
        } else {
            for (int a = 0; a < R; ++a) {
                uint16_t h;
                __builtin_memcpy(&h, sc + b * STEP + a * 2, 2);
                dw[a] = _mm256_set1_ps(_cvtsh_ss(h));
            }
        }
        for (int c = 0; c < C; ++c) {
            const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xq + ((i + c) * nb + b) * QUANT_BLOCK));
            const __m256 dx = _mm256_broadcast_ss(xd + (i + c) * nb + b);
            const __m256i x8 = Q4 ? _mm256_maddubs_epi16(eight, xv) : ones;  // Q4_0: pair sums of 8 x
            // the scale products d_w * d_x (the same f32 products either way): R == 4 makes the
            // group's four at once and moves each to all lanes with one vpermilps
            const __m256 d4 = _mm256_mul_ps(dw4, dx);
            for (int a = 0; a < R; ++a) {
                const __m256i p16 = Q4 ? _mm256_sub_epi16(_mm256_maddubs_epi16(aw[a], xv), x8)
                                       : _mm256_maddubs_epi16(aw[a], _mm256_sign_epi8(xv, sw[a]));
                const __m256i p = _mm256_madd_epi16(p16, ones);
                __m256 d;
                if constexpr (R == 4) d = lane_to_all(d4, a);
                else d = _mm256_mul_ps(dw[a], dx);
                acc[a][c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[a][c]);
            }
        }
    }
    for (int a = 0; a < R; ++a)
        for (int c = 0; c < C; ++c) y[(i + c) * ldy + r + a] = hsum_avx2(acc[a][c]) + (bias ? bias[r + a] : 0.0f);
}

template <bool Q4>
QUANT_TARGET void rows(float * y, int64_t ldy, const int8_t * xq, const float * xd, int64_t n, const weight_matrix & w,
                       const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    const uint8_t * q = static_cast<const uint8_t *>(w.data);
    if (n == 1) {  // decode: a whole 4-row group, one stream, at a time
        int64_t r = r0;
        for (; r < r1 && r % QUANT_GROUP_ROWS; ++r) tile<1, 1, Q4>(y, ldy, xq, xd, nb, q, bias, r, 0);
        for (; r + 4 <= r1; r += 4) tile<4, 1, Q4>(y, ldy, xq, xd, nb, q, bias, r, 0);
        for (; r < r1; ++r) tile<1, 1, Q4>(y, ldy, xq, xd, nb, q, bias, r, 0);
        return;
    }
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        const int64_t i1 = i0 + 64 < n ? i0 + 64 : n;
        int64_t r = r0;
        for (; r < r1 && r % 2; ++r)
            for (int64_t i = i0; i < i1; ++i) tile<1, 1, Q4>(y, ldy, xq, xd, nb, q, bias, r, i);
        for (; r + 2 <= r1; r += 2) {
            int64_t i = i0;
            for (; i + 4 <= i1; i += 4) tile<2, 4, Q4>(y, ldy, xq, xd, nb, q, bias, r, i);
            for (; i < i1; ++i) tile<2, 1, Q4>(y, ldy, xq, xd, nb, q, bias, r, i);
        }
        for (; r < r1; ++r)
            for (int64_t i = i0; i < i1; ++i) tile<1, 1, Q4>(y, ldy, xq, xd, nb, q, bias, r, i);
    }
}

}  // namespace

QUANT_TARGET void quantize_input_q8_avx2(int8_t * xq, float * xd, const float * x, int64_t n, int64_t K) {
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

void matmul_rows_quant_avx2(float * y, int64_t ldy, const int8_t * xq, const float * xd, int64_t n, const weight_matrix & w,
                            const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) rows<true>(y, ldy, xq, xd, n, w, bias, r0, r1);
    else rows<false>(y, ldy, xq, xd, n, w, bias, r0, r1);
}
