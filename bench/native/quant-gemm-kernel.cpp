/*
 * quant-gemm-kernel.cpp: single-thread micro-benchmark of the quantized matmul kernels on one
 * matrix held in cache: the one-input-tile kernel (quant-avx2.cpp, matmul_rows_quant_avx2) against
 * the many-input kernel (quant-gemm-avx2.cpp, with its input packing), per format and input count,
 * as ns per (row, input, 32-weight block), best of 15 runs each, the two alternating; checks that
 * both give the same bits. Also the activation quantizer, scalar against AVX2. Build and run
 * (AVX2 CPU):
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/quant-gemm-kernel.cpp native/src/kernels/quant-*.cpp \
 *     native/src/kernels/kernels-ref.cpp native/src/kernels/weight-layouts.cpp -o /tmp/quant-gemm-kernel
 *   /tmp/quant-gemm-kernel [ROWS COLS]      (default: 4864 896 and 896 4864, the 0.5B MLP shapes)
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant-bench-data.h"

namespace {

void bench_shape(int64_t rows, int64_t cols) {
    std::mt19937 rng(1);
    const std::vector<float> wf = random_weights(rng, rows, cols);
    for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
        std::vector<uint8_t> mem;
        const weight_matrix w = quantized_matrix(d, wf, rows, cols, mem);
        for (int64_t n : {2, 4, 8, 16, 40, 64}) {
            const int64_t nb = quant_blocks(cols);
            std::vector<int8_t> xq;
            std::vector<float> xd;
            quantized_inputs(rng, n, cols, xq, xd);
            std::vector<uint8_t> pairs;
            uint8_t * xp = aligned_pairs_buffer(pairs, n, cols);
            std::vector<float> y1(static_cast<size_t>(n * rows)), y2(y1);
            double best_tile = 1e9, best_gemm = 1e9;
            for (int it = 0; it < 15; ++it) {
                auto t0 = std::chrono::steady_clock::now();
                matmul_rows_quant_avx2(y1.data(), rows, xq.data(), xd.data(), n, w, nullptr, 0, rows);
                best_tile = std::min(best_tile, seconds_since(t0));
                t0 = std::chrono::steady_clock::now();
                pack_input_pairs_q8(xp, xq.data(), xd.data(), n, cols);
                matmul_rows_quant_gemm_avx2(y2.data(), rows, xp, n, w, nullptr, 0, rows);
                best_gemm = std::min(best_gemm, seconds_since(t0));
            }
            const double per = 1e9 / static_cast<double>(rows * n * nb);
            std::printf("%s %5ld x %-5ld n %-3ld  tile %.3f  gemm %.3f ns per (row, input, block)  tile / gemm %.2f  %s\n",
                        weight_dtype_name(d), static_cast<long>(rows), static_cast<long>(cols), static_cast<long>(n), best_tile * per,
                        best_gemm * per, best_tile / best_gemm,
                        std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0 ? "same bits" : "BITS DIFFER");
        }
    }
}

void bench_quantize() {
    const int64_t n = 64, K = 896;
    std::mt19937 rng(2);
    std::normal_distribution<float> nd(0, 1);
    std::vector<float> x(static_cast<size_t>(n * K));
    for (auto & v : x) v = nd(rng);
    std::vector<int8_t> q1(static_cast<size_t>(n * K)), q2(q1);
    std::vector<float> d1(static_cast<size_t>(n * K / 32)), d2(d1);
    double best_ref = 1e9, best_avx2 = 1e9;
    for (int it = 0; it < 15; ++it) {
        auto t0 = std::chrono::steady_clock::now();
        quantize_input_q8(q1.data(), d1.data(), x.data(), n, K);
        best_ref = std::min(best_ref, seconds_since(t0));
        t0 = std::chrono::steady_clock::now();
        quantize_input_q8_avx2(q2.data(), d2.data(), x.data(), n, K);
        best_avx2 = std::min(best_avx2, seconds_since(t0));
    }
    const bool same = std::memcmp(q1.data(), q2.data(), q1.size()) == 0 && std::memcmp(d1.data(), d2.data(), d1.size() * 4) == 0;
    std::printf("activation quantizer (64 x 896): scalar %.2f, AVX2 %.2f ns per element  %s\n", best_ref * 1e9 / (n * K),
                best_avx2 * 1e9 / (n * K), same ? "same bits" : "BITS DIFFER");
}

}  // namespace

int main(int argc, char ** argv) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        std::fprintf(stderr, "quant-gemm-kernel: needs AVX2\n");
        return 1;
    }
    if (argc == 3) bench_shape(std::atoll(argv[1]), std::atoll(argv[2]));
    else {
        bench_shape(4864, 896);
        bench_shape(896, 4864);
    }
    bench_quantize();
    return 0;
}
