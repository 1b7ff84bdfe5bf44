/*
 * quant-gemm-avx2.cpp: the AVX2 quantized matmul for MANY inputs (kernels.h,
 * matmul_rows_quant_gemm_avx2): prefill chunks, ReDrafter's tree verification, any product with
 * n >= 2 activation rows. Same operation sequence per output as quant-ref.cpp (so bit-equal to
 * the reference and to the one-input path, batch-invariant); what changes is how the work is
 * laid out so each weight block loaded is used for 2 inputs and each input block for 4 rows,
 * with fewer vector operations per (row, input, block) than quant-avx2.cpp's tiles:
 *
 *  - The inputs come packed in PAIRS (pack_input_pairs_q8): per pair and block, the two inputs'
 *    32 int8 quants and an 8-float vector [d_x0 x4, d_x1 x4], so one stream serves a 4 x 2 tile.
 *  - Per task, per 4-row weight group and chunk of inputs, the group's blocks are unpacked once
 *    into a STRIP (thread-local, reused by every input pair of the chunk): per block the 4 rows'
 *    |w| (u8) and w (s8) for Q8_0, the nibbles u (u8, the weight being u - 8) for Q4_0, and an
 *    8-float vector [d_w0..d_w3, d_w0..d_w3]. Rows longer than 2048 weights are cut into
 *    K-chunks of ~32 blocks so the strip stays in L1: per chunk a strip, every pair of the input
 *    chunk runs its tile over it, and the 8 accumulators wait in memory for the next chunk (an
 *    f32 store and reload: the blocks are still added to each lane in order, no bit changes).
 *  - The micro-kernel, 4 rows x 2 inputs in 8 accumulators: per block two vmulps make the 8
 *    scale products d = d_w * d_x (the reference's f32 product), each input's four in both
 *    128-bit halves of a register; per (row, input): vpermilps (d to all 8 lanes), for Q8_0
 *    vpsignb (x takes w's sign) and vpmaddubsw (|w| times it, pair sums <= 2 x 128 x 127: no
 *    saturation), for Q4_0 vpmaddubsw (u times x, <= 2 x 15 x 127) and vpsubw of the pair sums
 *    of 8 x (one vpmaddubsw per input and block, shared by the 4 rows; vpsubw runs on any FP
 *    pipe, vpsignb on two), vpmaddwd with ones (lane l = the exact sum of elements 4l..4l+3),
 *    vcvtdq2ps and one FMA into lane l: six vector operations, against about eight per (row,
 *    input, block) in quant-avx2.cpp's tiles. (Until 2026-12-03 the products went through a stack buffer and were
 *    broadcast back by the load ports: 7-13% slower on Zen 3, docs/performance.md.)
 *
 * The integer lane sums are exact whatever the route (Q4_0 as u x - 8 x, as quant-avx2.cpp does
 * too), the scale product and the FMA are the reference's, and the lanes are summed in the
 * same tree: so every output has the reference's bits. kernels.cpp calls this only where the
 * CPU has AVX2, FMA and F16C. Math and layout: docs/engine.md, "Quantized weights".
 */
#include <immintrin.h>

#include <vector>

#include "avx2-hsum.h"
#include "kernels.h"

#define QUANT_TARGET __attribute__((target("avx2,fma,f16c")))

namespace {

// Packed input pair, per block: x0 quants (32 B), x1 quants (32 B), [d_x0 x4, d_x1 x4] (32 B).
constexpr int64_t PAIR_BLOCK_BYTES = 96;
// Strip, per block: |w| of rows 0..3 (4 x 32 B; Q4_0: the nibbles u), w of rows 0..3 (4 x 32 B; Q4_0: unused),
// [d_w0..3, d_w0..3] (32 B).
constexpr int64_t STRIP_BLOCK_BYTES = 288;
// Inputs per chunk: the chunk's packed inputs (chunk / 2 x blocks x 96 B) stay in L2 while every
// 4-row group of the task streams over them; each group's strip is rebuilt once per chunk.
constexpr int64_t CHUNK_INPUTS = 32;

// Blocks per K-chunk where a row's strip would not fit L1 (K > 2048): the chunk's strip (32 x 288 B
// = 9 KB) stays in L1 while the chunk's input pairs stream past it.
constexpr int64_t CHUNK_BLOCKS = 32;
// A row of at most this many blocks runs as one chunk (its strip, <= 20 KB, fits L1 next to the inputs).
constexpr int64_t ONE_CHUNK_MAX_BLOCKS = 20 * 1024 / STRIP_BLOCK_BYTES;

// Unpacks blocks [b0, b1) of 4-row group g of w (nb blocks a row) into strip ((b1 - b0) x
// STRIP_BLOCK_BYTES, 32-byte aligned).
template <bool Q4>
QUANT_TARGET void build_strip(uint8_t * strip, const weight_matrix & w, int64_t g, int64_t nb, int64_t b0, int64_t b1) {
    constexpr int64_t BB = Q4 ? 16 : 32;
    constexpr int64_t STEP = QUANT_GROUP_ROWS * (BB + 2);
    const uint8_t * src = static_cast<const uint8_t *>(w.data) + (g * nb + b0) * STEP;
    const __m256i low4 = _mm256_set1_epi8(15);
    const __m256i shift_hi = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);  // the high 128 bits take the high nibbles
    for (int64_t b = b0; b < b1; ++b, src += STEP, strip += STRIP_BLOCK_BYTES) {
        for (int a = 0; a < QUANT_GROUP_ROWS; ++a) {
            __m256i q;
            if (Q4) {  // byte j: element j (low nibble), element j + 16 (high nibble); the nibble u as stored
                const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(src + a * BB)));
                _mm256_store_si256(reinterpret_cast<__m256i *>(strip + a * 32), _mm256_and_si256(_mm256_srlv_epi32(both, shift_hi), low4));
                continue;
            } else {
                q = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + a * BB));
            }
            _mm256_store_si256(reinterpret_cast<__m256i *>(strip + a * 32), _mm256_sign_epi8(q, q));  // |w|; -128 -> 0x80 = 128 as u8
            _mm256_store_si256(reinterpret_cast<__m256i *>(strip + 128 + a * 32), q);
        }
        uint64_t scales;  // the group's 4 f16 scales, in row order
        __builtin_memcpy(&scales, src + QUANT_GROUP_ROWS * BB, 8);
        const __m128i s8 = _mm_set1_epi64x(static_cast<long long>(scales));
        _mm256_store_ps(reinterpret_cast<float *>(strip + 256), _mm256_cvtph_ps(s8));
    }
}

// Rows 4g..4g+3 x inputs (2p, 2p + 1): nb blocks (one K-chunk, or the whole row) from strip and
// pair. The 8 accumulators start at zero (first chunk) or from carry (8 x 8 floats, 32-byte
// aligned, where the previous chunk left them: an f32 store and reload changes no bit); after the
// last chunk the outputs are stored for rows in [r0, r1) and inputs < n, else the accumulators go
// back to carry. Q4 (Q4_0): the strip holds the nibbles u, see the file's comment.
template <bool Q4>
QUANT_TARGET void tile4x2(float * y, int64_t ldy, const uint8_t * strip, const uint8_t * pair, int64_t nb, const float * bias,
                          int64_t g, int64_t p, int64_t n, int64_t r0, int64_t r1, float * carry, bool first, bool last) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    if (!first) {
        a00 = _mm256_load_ps(carry), a01 = _mm256_load_ps(carry + 8), a10 = _mm256_load_ps(carry + 16);
        a11 = _mm256_load_ps(carry + 24), a20 = _mm256_load_ps(carry + 32), a21 = _mm256_load_ps(carry + 40);
        a30 = _mm256_load_ps(carry + 48), a31 = _mm256_load_ps(carry + 56);
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; ++b, strip += STRIP_BLOCK_BYTES, pair += PAIR_BLOCK_BYTES) {
        const __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i *>(pair));
        const __m256i x1 = _mm256_load_si256(reinterpret_cast<const __m256i *>(pair + 32));
        // the scale products d_w[a] * d_x[c] (the reference's f32 product): input c's four in each
        // 128-bit half of dc, so vpermilps (in-lane, immediate) broadcasts row a's to all 8 lanes
        const __m256 dw = _mm256_load_ps(reinterpret_cast<const float *>(strip + 256));  // [d_w0..d_w3, d_w0..d_w3]
        const __m256 d0 = _mm256_mul_ps(dw, _mm256_broadcast_ss(reinterpret_cast<const float *>(pair + 64)));
        const __m256 d1 = _mm256_mul_ps(dw, _mm256_broadcast_ss(reinterpret_cast<const float *>(pair + 80)));
        // Q4_0: the pair sums of 8 x, once per input for the 4 rows
        const __m256i e0 = Q4 ? _mm256_maddubs_epi16(_mm256_set1_epi8(8), x0) : ones;
        const __m256i e1 = Q4 ? _mm256_maddubs_epi16(_mm256_set1_epi8(8), x1) : ones;
        // row a, both inputs, pair sums of w x: Q8_0 |w| times x with w's sign, Q4_0 u x - 8 x; the
        // pairs summed to lanes of 4 (a macro, not a lambda: vpermilps needs its immediate as a constant)
#define QUANT_GEMM_ROW(a, acc0, acc1)                                                                                      \
    {                                                                                                                      \
        const __m256i aw = _mm256_load_si256(reinterpret_cast<const __m256i *>(strip + (a) * 32));                         \
        __m256i s0, s1;                                                                                                    \
        if (Q4) {                                                                                                          \
            s0 = _mm256_sub_epi16(_mm256_maddubs_epi16(aw, x0), e0);                                                       \
            s1 = _mm256_sub_epi16(_mm256_maddubs_epi16(aw, x1), e1);                                                       \
        } else {                                                                                                           \
            const __m256i sw = _mm256_load_si256(reinterpret_cast<const __m256i *>(strip + 128 + (a) * 32));               \
            s0 = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(x0, sw));                                                       \
            s1 = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(x1, sw));                                                       \
        }                                                                                                                  \
        const __m256i p0 = _mm256_madd_epi16(s0, ones), p1 = _mm256_madd_epi16(s1, ones);                                 \
        acc0 = _mm256_fmadd_ps(_mm256_permute_ps(d0, (a) * 0x55), _mm256_cvtepi32_ps(p0), acc0);                           \
        acc1 = _mm256_fmadd_ps(_mm256_permute_ps(d1, (a) * 0x55), _mm256_cvtepi32_ps(p1), acc1);                           \
    }
        QUANT_GEMM_ROW(0, a00, a01)
        QUANT_GEMM_ROW(1, a10, a11)
        QUANT_GEMM_ROW(2, a20, a21)
        QUANT_GEMM_ROW(3, a30, a31)
#undef QUANT_GEMM_ROW
    }
    if (!last) {
        _mm256_store_ps(carry, a00), _mm256_store_ps(carry + 8, a01), _mm256_store_ps(carry + 16, a10);
        _mm256_store_ps(carry + 24, a11), _mm256_store_ps(carry + 32, a20), _mm256_store_ps(carry + 40, a21);
        _mm256_store_ps(carry + 48, a30), _mm256_store_ps(carry + 56, a31);
        return;
    }
    const __m256 acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
    for (int a = 0; a < 4; ++a) {
        const int64_t r = g * QUANT_GROUP_ROWS + a;
        if (r < r0 || r >= r1) continue;
        const float bv = bias ? bias[r] : 0.0f;
        for (int c = 0; c < 2; ++c)
            if (2 * p + c < n) y[(2 * p + c) * ldy + r] = hsum_avx2(acc[a][c]) + bv;
    }
}

template <bool Q4>
QUANT_TARGET void gemm(float * y, int64_t ldy, const uint8_t * xp, int64_t n, const weight_matrix & w, const float * bias,
                       int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    // K-chunks: one for rows of at most ONE_CHUNK_MAX_BLOCKS blocks, else about CHUNK_BLOCKS each
    const int64_t chunks = nb <= ONE_CHUNK_MAX_BLOCKS ? 1 : (nb + CHUNK_BLOCKS - 1) / CHUNK_BLOCKS;
    const int64_t chunk_max = (nb + chunks - 1) / chunks;
    struct alignas(32) line {
        uint8_t b[32];
    };
    thread_local std::vector<line> strip_mem;  // one strip (a chunk of one 4-row group), per thread
    thread_local std::vector<line> carry_mem;  // the accumulators between chunks: 8 x 8 floats per pair of the input chunk
    strip_mem.resize(static_cast<size_t>(chunk_max * STRIP_BLOCK_BYTES / 32));
    carry_mem.resize(static_cast<size_t>(CHUNK_INPUTS / 2 * 8));
    uint8_t * strip = strip_mem.data()->b;
    float * carry = reinterpret_cast<float *>(carry_mem.data()->b);
    const int64_t pairs = (n + 1) / 2, g0 = r0 / QUANT_GROUP_ROWS, g1 = (r1 + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    for (int64_t p0 = 0; p0 < pairs; p0 += CHUNK_INPUTS / 2) {
        const int64_t p1 = p0 + CHUNK_INPUTS / 2 < pairs ? p0 + CHUNK_INPUTS / 2 : pairs;
        for (int64_t g = g0; g < g1; ++g)
            for (int64_t c = 0; c < chunks; ++c) {
                const int64_t b0 = c * nb / chunks, b1 = (c + 1) * nb / chunks;
                build_strip<Q4>(strip, w, g, nb, b0, b1);
                for (int64_t p = p0; p < p1; ++p)
                    tile4x2<Q4>(y, ldy, strip, xp + (p * nb + b0) * PAIR_BLOCK_BYTES, b1 - b0, bias, g, p, n, r0, r1,
                                carry + (p - p0) * 64, c == 0, c == chunks - 1);
            }
    }
}

}  // namespace

bool quant_gemm_preferred(int64_t n, int64_t /* K: any */) {
    // Measured on Zen 3 (bench/native/quant-gemm-kernel.cpp, docs/performance.md): 1.02-1.5x the
    // one-input kernel's tiles for every n >= 2 at K = 896, and at K = 4864 (in K-chunks) 1.1-1.4x
    // for n = 2 and n >= 8, 0.98-1.02x for n = 4.
    return n >= 2;
}

size_t quant_input_pairs_bytes(int64_t n, int64_t K) {
    return static_cast<size_t>((n + 1) / 2 * quant_blocks(K) * PAIR_BLOCK_BYTES);
}

void pack_input_pairs_q8(uint8_t * xp, const int8_t * xq, const float * xd, int64_t n, int64_t K) {
    const int64_t nb = quant_blocks(K);
    for (int64_t p = 0; p < (n + 1) / 2; ++p)
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t * out = xp + (p * nb + b) * PAIR_BLOCK_BYTES;
            float d[8];
            for (int c = 0; c < 2; ++c) {
                const int64_t i = 2 * p + c;
                // an odd n's last pair gets a zero second input: computed, never stored
                if (i < n) __builtin_memcpy(out + c * 32, xq + (i * nb + b) * QUANT_BLOCK, 32);
                else __builtin_memset(out + c * 32, 0, 32);
                for (int k = 0; k < 4; ++k) d[c * 4 + k] = i < n ? xd[i * nb + b] : 0.0f;
            }
            __builtin_memcpy(out + 64, d, 32);
        }
}

void matmul_rows_quant_gemm_avx2(float * y, int64_t ldy, const uint8_t * xp, int64_t n, const weight_matrix & w,
                                 const float * bias, int64_t r0, int64_t r1) {
    if (w.dtype == WEIGHT_Q4_0) gemm<true>(y, ldy, xp, n, w, bias, r0, r1);
    else gemm<false>(y, ldy, xp, n, w, bias, r0, r1);
}
