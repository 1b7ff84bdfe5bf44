/*
 * test-quant-kernels.cpp: the Q8_0 / Q4_0 formats and their matmul (kernels.h, quant-*.cpp):
 * f32 -> f16 rounding; the quantized blocks against llama.cpp's format rules (scale, range, nibble
 * order, error within half a step); the AVX2 matmul and (where the CPU has them) the AVX-VNNI and
 * AVX512_VNNI ones equal to the scalar reference BIT FOR BIT over odd shapes, row ranges and batch
 * sizes, through the dispatch and the thread pool, and called directly over row ranges that cut
 * the 16-row groups; batch invariance (an input's outputs do not depend on the other inputs of the
 * batch: each of n = 1..40 inputs gives the bits it gives alone, also over rows of up to 4870
 * weights); the memory layout; and the quantized product close to the f32 product (relative error
 * bounds per format).
 */
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/thread-pool.h"
#include "kernels/kernels.h"
#include "test-util.h"

namespace {

// A quantized copy of w (rows, cols) f32, in an owned buffer.
struct quant_matrix {
    std::vector<uint8_t> mem;
    weight_matrix w;
    quant_matrix(weight_dtype d, const std::vector<float> & wf, int64_t rows, int64_t cols) {
        mem.assign(weight_quant_bytes(d, rows, cols) + 64, 0);
        void * base = mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64;
        w = weight_quant_view(d, rows, cols, base);
        weight_matrix src;
        src.dtype = WEIGHT_F32;
        src.rows = rows;
        src.cols = cols;
        src.data = wf.data();
        weight_quantize_rows(src, w, 0, rows);
    }
};

// Rows [r0, r1) of n inputs (x given as quantize_input_q8 made it: xq, xd) from the AVX2 kernel
// and, where the CPU has them, the AVX-VNNI and AVX-512 VNNI kernels, each called directly with its
// offsets into y filled with -7: the outputs (row stride ldy) that differ from y_ref inside the range
// or from -7 outside it. *checked (if given) counts the outputs compared.
int range_differences(const std::vector<float> & y_ref, int64_t ldy, const std::vector<int8_t> & xq, const std::vector<float> & xd,
                      int64_t n, int64_t cols, const weight_matrix & w, const float * bias, int64_t r0, int64_t r1,
                      int * checked = nullptr) {
    int differ = 0;
    enum { AVX2, AVXVNNI, VNNI };
    for (int k : {AVX2, AVXVNNI, VNNI}) {
        if ((k == AVXVNNI && !quant_avxvnni_supported()) || (k == VNNI && !quant_vnni_supported())) continue;
        std::vector<float> y(static_cast<size_t>(n * ldy), -7.0f);
        std::vector<int32_t> off(static_cast<size_t>(n * quant_blocks(cols)));
        quant_input_offsets(off.data(), xq.data(), n, cols, quant_offsets_c(w.dtype, k != AVX2));
        if (k == AVX2) {
            matmul_rows_quant_avx2(y.data(), ldy, xq.data(), xd.data(), off.data(), n, w, bias, r0, r1);
        } else if (k == AVXVNNI) {
            matmul_rows_quant_avxvnni(y.data(), ldy, xq.data(), xd.data(), off.data(), n, w, bias, r0, r1);
        } else {  // packed as matmul packs them (for one input, by the packing functions here)
            const int64_t nb = quant_blocks(cols), slots = quant_packs(n) * nb * QUANT_PACK;
            std::vector<int32_t> pq(static_cast<size_t>(slots * QUANT_PIECES)), po(static_cast<size_t>(slots));
            std::vector<float> pd(static_cast<size_t>(slots));
            quant_pack_inputs(pq.data(), pd.data(), xq.data(), xd.data(), n, 0, n, nb);
            quant_pack_offsets(po.data(), off.data(), n, 0, n, nb);
            matmul_rows_quant_vnni(y.data(), ldy, {pq.data(), pd.data(), po.data()}, n, w, bias, r0, r1);
        }
        for (int64_t i = 0; i < n; ++i)
            for (int64_t r = 0; r < ldy; ++r) {
                const float want = r >= r0 && r < r1 ? y_ref[i * ldy + r] : -7.0f;
                differ += std::memcmp(&y[i * ldy + r], &want, 4) != 0;
                if (checked) ++*checked;
            }
    }
    return differ;
}

void check_f16() {
    CHECK(f32_to_f16(0.0f) == 0);
    CHECK(f32_to_f16(1.0f) == 0x3c00);
    CHECK(f32_to_f16(-2.0f) == 0xc000);
    CHECK(f32_to_f16(65504.0f) == 0x7bff);
    CHECK(f32_to_f16(65520.0f) == 0x7c00);               // halfway to 2^16 rounds (even) to inf
    CHECK(f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);     // halfway: even (down)
    CHECK(f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);     // halfway: even (up)
    CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // the smallest subnormal
    CHECK(f32_to_f16(std::ldexp(1.0f, -26)) == 0);       // below half of it
    // every finite f16 survives the round trip
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 0x7c00) == 0x7c00) continue;
        if (f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))) != h) ++bad;
    }
    CHECK(bad == 0);
}

void check_blocks(std::mt19937 & rng) {
    const int64_t rows = 3, cols = 70;  // 3 blocks, the last padded
    std::vector<float> wf = randn(static_cast<size_t>(rows * cols), rng);
    wf[5] = 0.0f;
    for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
        quant_matrix q(d, wf, rows, cols);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t b = 0; b < quant_blocks(cols); ++b) {
                float amax = 0, mx = 0;
                for (int64_t k = b * 32; k < std::min<int64_t>(cols, b * 32 + 32); ++k)
                    if (std::fabs(wf[r * cols + k]) > amax) amax = std::fabs(wf[r * cols + k]), mx = wf[r * cols + k];
                const float scale = f16_to_f32(quant_scale(q.w, r, b));
                // llama.cpp: Q8_0 d = amax / 127; Q4_0 d = (value of largest magnitude) / -8
                CHECK(scale == f16_to_f32(f32_to_f16(d == WEIGHT_Q8_0 ? amax / 127.0f : mx / -8.0f)));
                for (int64_t k = b * 32; k < b * 32 + 32; ++k) {
                    if (k >= cols) {
                        CHECK(weight_at(q.w, r, k) == 0.0f);  // the pad
                        continue;
                    }
                    // within half a step (Q4_0: a whole step where +8 clamps to 7), plus the scale's f16
                    // rounding (2^-11 relative) times the largest quant
                    const float err = std::fabs(weight_at(q.w, r, k) - wf[r * cols + k]);
                    CHECK(err <= std::fabs(scale) * (d == WEIGHT_Q8_0 ? 0.5f + 127.0f / 2048.0f : 1.0f + 8.0f / 2048.0f) + 1e-6f);
                }
            }
        if (d == WEIGHT_Q4_0) {  // nibble order: byte j holds element j (low) and j + 16 (high)
            const uint8_t byte = *quant_byte_ptr(q.w, 0, 0, 3);
            const float s = f16_to_f32(quant_scale(q.w, 0, 0));
            CHECK(weight_at(q.w, 0, 3) == s * static_cast<float>((byte & 15) - 8));
            CHECK(weight_at(q.w, 0, 19) == s * static_cast<float>((byte >> 4) - 8));
        }
    }
    {  // Q8_0 rounds halfway cases away from zero (llama.cpp's roundf): amax 127 makes d = 1
        std::vector<float> t(32, 0.0f);
        const float vals[] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 126.5f, -126.5f, 1.4999999f, -3.5f};
        std::copy(std::begin(vals), std::end(vals), t.begin());
        quant_matrix q(WEIGHT_Q8_0, t, 1, 32);
        const int want[] = {127, 3, -3, 1, -1, 127, -127, 1, -4};
        for (int j = 0; j < 9; ++j) CHECK(static_cast<int8_t>(*quant_byte_ptr(q.w, 0, 0, j)) == want[j]);
    }
    CHECK(weight_quant_bytes(WEIGHT_Q8_0, 2, 64) == 2 * 544);      // one 16-row group x 2 blocks x (16 x 32 + 16 x 2) B
    CHECK(weight_quant_bytes(WEIGHT_Q4_0, 17, 33) == 2 * 2 * 288);  // two groups x 2 blocks x (16 x 16 + 16 x 2) B
    // the layout: byte 6 of row 21's block 1 in a (22, 64) Q8_0 matrix (group 1, row 5 in it) is in
    // its block's unit 1 (bytes 4..7 of the 16 rows), at row 5's 4 bytes; its scale follows the 8 units
    std::vector<uint8_t> mem(weight_quant_bytes(WEIGHT_Q8_0, 22, 64));
    const weight_matrix v = weight_quant_view(WEIGHT_Q8_0, 22, 64, mem.data());
    const int64_t step = (1 * 2 + 1) * 544;
    CHECK(quant_byte_ptr(v, 21, 1, 6) == mem.data() + step + 1 * 64 + 5 * 4 + 2);
    mem[step + 512 + 5 * 2] = 0x00;
    mem[step + 512 + 5 * 2 + 1] = 0x3c;
    CHECK(quant_scale(v, 21, 1) == 0x3c00);
}

void check_input_quant(std::mt19937 & rng) {
    const int64_t n = 3, K = 45;
    std::vector<float> x = randn(static_cast<size_t>(n * K), rng);
    for (int64_t k = 32; k < K; ++k) x[k] = 0.0f;  // row 0's second block all zero: d = 0
    std::vector<int8_t> q(static_cast<size_t>(n * 64), 99);
    std::vector<float> d(static_cast<size_t>(n * 2));
    quantize_input_q8(q.data(), d.data(), x.data(), n, K);
    CHECK(d[1] == 0.0f);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < 64; ++k) {
            const float s = d[i * 2 + k / 32];
            if (k >= K) CHECK(q[i * 64 + k] == 0);
            else CHECK(std::fabs(s * q[i * 64 + k] - x[i * K + k]) <= 0.5f * s + 1e-7f);
        }
}

// The packed inputs (kernels.h, quant_packed_inputs): one element's place in packs of 8 and in a
// pack of 3, packing in two ranges equals packing all at once, and a single input packs to its own
// blocks as they are (matmul hands the VNNI kernel xq, xd, xc unpacked for one input).
void check_pack(std::mt19937 & rng) {
    for (int64_t n : {1, 3, 10}) {
        const int64_t K = 100, nb = quant_blocks(K), slots = quant_packs(n) * nb * quant_pack_width(n);
        std::vector<float> x = randn(static_cast<size_t>(n * K), rng);
        std::vector<int8_t> xq(static_cast<size_t>(n * nb * QUANT_BLOCK));
        std::vector<float> xd(static_cast<size_t>(n * nb));
        std::vector<int32_t> xc(static_cast<size_t>(n * nb));
        quantize_input_q8(xq.data(), xd.data(), x.data(), n, K);
        quant_input_offsets(xc.data(), xq.data(), n, K, 128);
        std::vector<int32_t> q(static_cast<size_t>(slots * QUANT_PIECES), -1), q2(q), o(static_cast<size_t>(slots), -1), o2(o);
        std::vector<float> d(static_cast<size_t>(slots), -1.0f), d2(d);
        quant_pack_inputs(q.data(), d.data(), xq.data(), xd.data(), n, 0, n, nb);
        quant_pack_offsets(o.data(), xc.data(), n, 0, n, nb);
        const int64_t cut = n / 2;  // [0, cut) and [cut, n)
        for (int part = 0; part < 2; ++part) {
            const int64_t i0 = part ? cut : 0, i1 = part ? n : cut;
            quant_pack_inputs(q2.data(), d2.data(), xq.data(), xd.data(), n, i0, i1, nb);
            quant_pack_offsets(o2.data(), xc.data(), n, i0, i1, nb);
        }
        CHECK(q == q2 && d == d2 && o == o2);
        if (n == 1) {
            CHECK(std::memcmp(q.data(), xq.data(), xq.size()) == 0);
            CHECK(d == xd && o == xc);
            continue;
        }
        // bytes 12..15 (piece 3) of the last input's block 2: n = 10, input 9 in pack 1 of 8, slot 1;
        // n = 3, input 2 in the one pack of 3, slot 2
        const int64_t P = n == 10 ? 8 : 3, t = n == 10 ? 1 : 0, c = n == 10 ? 1 : 2;
        CHECK(quant_pack_width(n) == P);
        int32_t want;
        std::memcpy(&want, xq.data() + ((n - 1) * nb + 2) * QUANT_BLOCK + 12, 4);
        CHECK(q[static_cast<size_t>(((t * nb + 2) * QUANT_PIECES + 3) * P + c)] == want);
        CHECK(d[static_cast<size_t>((t * nb + 2) * P + c)] == xd[static_cast<size_t>((n - 1) * nb + 2)]);
        CHECK(o[static_cast<size_t>((t * nb + 2) * P + c)] == xc[static_cast<size_t>((n - 1) * nb + 2)]);
    }
}

// The AVX2 activation quantizer equals the scalar one bit for bit: random rows of several widths
// (whole and partial blocks), an all-zero block, and ties (amax 127 makes the scale 1, so x.5
// values must round to even).
void check_input_quant_avx2(std::mt19937 & rng) {
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) return;
    int differ = 0;
    for (int64_t K : {32, 45, 64, 172, 896, 4864}) {
        const int64_t n = 3, nb = quant_blocks(K);
        std::vector<float> x = randn(static_cast<size_t>(n * K), rng, 3.0f);
        for (int64_t k = 0; k < 32; ++k) x[k] = 0.0f;  // row 0, block 0: d = 0
        if (K >= 64) {                                  // row 0, block 1: the scale is exactly 1
            x[32] = 127.0f;
            for (int64_t k = 33; k < 64; ++k) x[k] = static_cast<float>(k % 2 ? k - 48 : 48 - k) + 0.5f;
        }
        std::vector<int8_t> q1(static_cast<size_t>(n * nb * 32), 99), q2(q1);
        std::vector<float> d1(static_cast<size_t>(n * nb), -1.0f), d2(d1);
        quantize_input_q8(q1.data(), d1.data(), x.data(), n, K);
        quantize_input_q8_avx2(q2.data(), d2.data(), x.data(), n, K);
        differ += std::memcmp(q1.data(), q2.data(), q1.size()) != 0;
        differ += std::memcmp(d1.data(), d2.data(), d1.size() * 4) != 0;
        if (K >= 64) CHECK(q1[33] == static_cast<int8_t>(std::nearbyint(x[33])));
    }
    CHECK(differ == 0);
}

// The dispatched AVX2 path against the reference, bit for bit; batch invariance; closeness to f32.
void check_matmul(weight_dtype d, int64_t rows, int64_t cols, int64_t n, bool bias, thread_pool * pool, std::mt19937 & rng) {
    std::vector<float> wf = randn(static_cast<size_t>(rows * cols), rng, 0.05f);
    quant_matrix q(d, wf, rows, cols);
    std::vector<float> x = randn(static_cast<size_t>(n * cols), rng);
    std::vector<float> b = randn(static_cast<size_t>(rows), rng);
    const int64_t ldy = rows + 2;
    std::vector<float> y_ref(static_cast<size_t>(n * ldy), -7.0f), y(y_ref), y_one(static_cast<size_t>(ldy), -7.0f);
    const float * bp = bias ? b.data() : nullptr;
    matmul(y_ref.data(), ldy, x.data(), n, q.w, bp, nullptr, KERNEL_PATH_REF);
    // the AVX2 path (the AVX-VNNI kernel where the CPU has it), then (AVX-512 path) the VNNI one
    // where the CPU has it; y keeps the last
    for (kernel_path p : {KERNEL_PATH_AVX2, KERNEL_PATH_AVX512}) {
        if (!kernel_path_supported(p) || (p == KERNEL_PATH_AVX512 && !quant_vnni_supported())) continue;
        std::fill(y.begin(), y.end(), -7.0f);
        matmul(y.data(), ldy, x.data(), n, q.w, bp, pool, p);
        int differ = 0;
        for (size_t i = 0; i < y.size(); ++i) differ += std::memcmp(&y[i], &y_ref[i], 4) != 0;
        CHECK(differ == 0);
        if (differ)
            std::fprintf(stderr, "  %s %s rows %ld cols %ld n %ld: %d outputs differ from the reference\n",
                         p == KERNEL_PATH_AVX2 ? "avx2 path" : "vnni", weight_dtype_name(d), static_cast<long>(rows), static_cast<long>(cols),
                         static_cast<long>(n), differ);
    }
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) y = y_ref;
    // batch invariance: the last input alone gives the same bits as inside the batch
    matmul(y_one.data(), ldy, x.data() + (n - 1) * cols, 1, q.w, bp, pool, KERNEL_PATH_AUTO);
    CHECK(std::memcmp(y_one.data(), y.data() + (n - 1) * ldy, static_cast<size_t>(rows) * 4) == 0);
    // close to the f32 product of the unquantized weights: relative L2 error over all outputs
    // (Q8_0 weights and int8 activations ~0.5%, Q4_0 weights ~9% for Gaussian data; bounds 2x)
    double err = 0, norm = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t r = 0; r < rows; ++r) {
            double e = bias ? b[r] : 0.0;
            for (int64_t k = 0; k < cols; ++k) e += double(wf[r * cols + k]) * x[i * cols + k];
            err += (y[i * ldy + r] - e) * (y[i * ldy + r] - e);
            norm += (e - (bias ? b[r] : 0.0)) * (e - (bias ? b[r] : 0.0));
        }
    const double rel = std::sqrt(err / norm);
    // too few outputs for a stable ratio: 70 outputs of 1 x 45 reached 0.0103 with other random data
    if (rows * n < 256) return;
    CHECK(rel < (d == WEIGHT_Q8_0 ? 0.01 : 0.18));
    if (rows * cols * n > 100000 || rel >= (d == WEIGHT_Q8_0 ? 0.01 : 0.18))
        std::fprintf(stderr, "  %s rows %ld cols %ld n %ld: relative L2 error vs f32 %.4f\n", weight_dtype_name(d), static_cast<long>(rows),
                     static_cast<long>(cols), static_cast<long>(n), rel);
}

// Many inputs against one: each of n = 1..40 inputs gives, inside the batch, the bits it gives
// alone (the decode tile), and the reference's; also over row ranges that cut 16-row groups, each
// SIMD kernel called directly.
void check_many_inputs(weight_dtype d, std::mt19937 & rng, thread_pool * pool) {
    std::uniform_int_distribution<int> rows_d(1, 70), cols_d(1, 300);
    int differ_alone = 0, differ_ref = 0, differ_range = 0;
    for (int64_t n = 1; n <= 40; ++n) {
        const int64_t rows = rows_d(rng), cols = n % 5 == 0 ? 896 : cols_d(rng);
        std::vector<float> wf = randn(static_cast<size_t>(rows * cols), rng, 0.05f);
        quant_matrix q(d, wf, rows, cols);
        // Q8_0: a -128 (a quantizer never writes one; a file might), whose |w| needs all 8 bits
        if (d == WEIGHT_Q8_0) *quant_byte_ptr(q.w, 0, 0, 1) = 0x80;
        std::vector<float> x = randn(static_cast<size_t>(n * cols), rng);
        x[0] = 0.0f;  // a zero element, and for n > 2 a whole zero input (d_x = 0)
        if (n > 2) std::fill(x.begin() + cols, x.begin() + 2 * cols, 0.0f);
        std::vector<float> bias = randn(static_cast<size_t>(rows), rng);
        const float * bp = n % 2 ? bias.data() : nullptr;
        const int64_t ldy = rows + 3;
        std::vector<float> y(static_cast<size_t>(n * ldy), -7.0f), y_ref(y), y_alone(y);
        matmul(y.data(), ldy, x.data(), n, q.w, bp, pool, KERNEL_PATH_AUTO);
        matmul(y_ref.data(), ldy, x.data(), n, q.w, bp, nullptr, KERNEL_PATH_REF);
        for (int64_t i = 0; i < n; ++i) matmul(y_alone.data() + i * ldy, ldy, x.data() + i * cols, 1, q.w, bp, pool, KERNEL_PATH_AUTO);
        for (size_t k = 0; k < y.size(); ++k) {
            differ_alone += std::memcmp(&y[k], &y_alone[k], 4) != 0;
            differ_ref += std::memcmp(&y[k], &y_ref[k], 4) != 0;
        }
        if (!kernel_path_supported(KERNEL_PATH_AVX2) || rows < 3) continue;
        // rows [1, rows - 1) only: the outputs outside stay untouched
        std::vector<int8_t> xq(static_cast<size_t>(n * quant_blocks(cols) * QUANT_BLOCK));
        std::vector<float> xd(static_cast<size_t>(n * quant_blocks(cols)));
        quantize_input_q8(xq.data(), xd.data(), x.data(), n, cols);
        differ_range += range_differences(y_ref, ldy, xq, xd, n, cols, q.w, bp, 1, rows - 1);
        if (rows > 20) differ_range += range_differences(y_ref, ldy, xq, xd, n, cols, q.w, bp, 5, rows - 13);
    }
    CHECK(differ_alone == 0);
    CHECK(differ_ref == 0);
    CHECK(differ_range == 0);
    if (differ_alone || differ_ref || differ_range)
        std::fprintf(stderr, "  %s many inputs: %d differ from alone, %d from the reference, %d in row ranges\n", weight_dtype_name(d),
                     differ_alone, differ_ref, differ_range);
}

// Long rows (K from 2273 to 4870, a last partial block among them), both formats: each SIMD kernel
// called directly for n = 1..40, over whole and partial row ranges, against the reference's bits.
void check_many_inputs_long_rows(weight_dtype d, std::mt19937 & rng) {
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) return;
    std::uniform_int_distribution<int> rows_d(1, 40), cols_d(2273, 5000);
    int differ = 0, checked = 0;
    for (int64_t n = 1; n <= 40; ++n) {
        const int64_t rows = rows_d(rng);
        const int64_t cols = n % 4 == 0 ? 4864 : n % 4 == 1 ? 4870 : n % 4 == 2 ? 2300 : cols_d(rng);
        std::vector<float> wf = randn(static_cast<size_t>(rows * cols), rng, 0.05f);
        quant_matrix q(d, wf, rows, cols);
        // a -128 near the row's end
        if (d == WEIGHT_Q8_0) *quant_byte_ptr(q.w, 0, quant_blocks(cols) - 2, 7) = 0x80;
        std::vector<float> x = randn(static_cast<size_t>(n * cols), rng);
        if (n > 2) std::fill(x.begin() + cols, x.begin() + 2 * cols, 0.0f);  // a whole zero input
        std::vector<float> bias = randn(static_cast<size_t>(rows), rng);
        const float * bp = n % 3 ? bias.data() : nullptr;
        const int64_t ldy = rows + 2, nb = quant_blocks(cols);
        std::vector<int8_t> xq(static_cast<size_t>(n * nb * QUANT_BLOCK));
        std::vector<float> xd(static_cast<size_t>(n * nb));
        quantize_input_q8(xq.data(), xd.data(), x.data(), n, cols);
        std::vector<float> y_ref(static_cast<size_t>(n * ldy), -7.0f);
        matmul_rows_quant_ref(y_ref.data(), ldy, xq.data(), xd.data(), n, q.w, bp, 0, rows);
        // all rows, then rows [1, rows - 1) (cuts the group; the outputs outside stay untouched)
        for (int range = 0; range < 2; ++range) {
            const int64_t r0 = range ? 1 : 0, r1 = range ? rows - 1 : rows;
            if (r1 <= r0) continue;
            differ += range_differences(y_ref, ldy, xq, xd, n, cols, q.w, bp, r0, r1, &checked);
        }
    }
    CHECK(checked > 0);
    CHECK(differ == 0);
    if (differ)
        std::fprintf(stderr, "  %s many inputs, long rows: %d of %d outputs differ from the reference\n", weight_dtype_name(d), differ,
                     checked);
}

}  // namespace

int main() {
    std::mt19937 rng(42);
    check_f16();
    check_blocks(rng);
    check_input_quant(rng);
    check_pack(rng);
    check_input_quant_avx2(rng);
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) std::fprintf(stderr, "no AVX2 here: the dispatched path is the reference itself\n");
    if (!quant_vnni_supported()) std::fprintf(stderr, "no AVX512_VNNI here: the VNNI kernel's checks are skipped\n");
    if (!quant_avxvnni_supported()) std::fprintf(stderr, "no AVX-VNNI here: the AVX-VNNI kernel's checks are skipped\n");
    thread_pool pool(3);
    for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0})
        for (int64_t rows : {1, 3, 5, 64, 97})
            for (int64_t cols : {32, 45, 172, 896})
                for (int64_t n : {1, 2, 5, 9, 70}) check_matmul(d, rows, cols, n, (rows + n) % 2 == 0, &pool, rng);
    for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
        check_many_inputs(d, rng, &pool);
        check_many_inputs_long_rows(d, rng);
        // long rows through the dispatch: 2100 (66 blocks) and 4864 (Qwen2.5-0.5B's MLP down projection)
        for (int64_t n : {2, 4, 7, 40}) check_matmul(d, 37, 2100, n, n != 7, &pool, rng);
        for (int64_t n : {3, 9}) check_matmul(d, 11, 4864, n, n == 9, &pool, rng);
    }
    check_matmul(WEIGHT_Q8_0, 896, 896, 4, true, &pool, rng);
    check_matmul(WEIGHT_Q4_0, 896, 896, 4, true, &pool, rng);
    return test_summary("test-quant-kernels");
}
