/*
 * quant-decode-tile.cpp: single-thread micro-benchmark of the quantized one-input (decode) kernel,
 * quant-avx2.cpp's matmul_rows_quant_avx2 with n = 1 (4-row tiles), on a 512 x 896 Q8_0 / Q4_0
 * matrix held in cache: ns per (row, 32-weight block), best of 30 runs of 200 products, and a
 * checksum of the outputs (equal checksums across builds: the same bits). To compare two versions
 * of the kernel, build this against each (e.g. `git show REV:native/src/kernels/quant-avx2.cpp >
 * /tmp/old.cpp`, with -Inative/src/kernels) and run them alternately. Build and run (AVX2 CPU):
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/quant-decode-tile.cpp native/src/kernels/quant-avx2.cpp \
 *     native/src/kernels/quant-formats.cpp native/src/kernels/quant-ref.cpp native/src/kernels/kernels-ref.cpp \
 *     native/src/kernels/weight-layouts.cpp -o /tmp/quant-decode-tile && /tmp/quant-decode-tile
 */
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "kernels/kernels.h"

int main() {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        std::fprintf(stderr, "needs AVX2 + FMA\n");
        return 1;
    }
    constexpr int64_t ROWS = 512, COLS = 896, RUNS = 30, PRODUCTS = 200;
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 0.1f);
    std::vector<float> wf(static_cast<size_t>(ROWS * COLS));
    for (float & v : wf) v = nd(rng);
    weight_matrix src;
    src.rows = ROWS;
    src.cols = COLS;
    src.dtype = WEIGHT_F32;
    src.data = wf.data();
    std::vector<float> x(COLS);
    for (float & v : x) v = nd(rng);
    const int64_t nb = quant_blocks(COLS);
    std::vector<int8_t> xq(static_cast<size_t>(nb * QUANT_BLOCK));
    std::vector<float> xd(static_cast<size_t>(nb)), y(ROWS);
    quantize_input_q8(xq.data(), xd.data(), x.data(), 1, COLS);
    for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
        std::vector<uint8_t> mem(weight_quant_bytes(d, ROWS, COLS), 0);
        const weight_matrix q = weight_quant_view(d, ROWS, COLS, mem.data());
        weight_quantize_rows(src, q, 0, ROWS);
        double best = 1e30;
        for (int run = 0; run < RUNS; ++run) {
            const auto t0 = std::chrono::steady_clock::now();
            for (int it = 0; it < PRODUCTS; ++it) matmul_rows_quant_avx2(y.data(), ROWS, xq.data(), xd.data(), 1, q, nullptr, 0, ROWS);
            best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / PRODUCTS);
        }
        double sum = 0;
        for (float v : y) sum += v;
        std::printf("%s: %.3f ns per (row, block), in cache; checksum %.9g\n", weight_dtype_name(d), best * 1e9 / (ROWS * nb), sum);
    }
    return 0;
}
