/*
 * quant-vnni-kernel.cpp: single-thread micro-benchmark of the AVX-512 VNNI quantized kernel
 * (quant-vnni.cpp) against the AVX2 kernels it replaces on such CPUs: the one-input tiles
 * (quant-avx2.cpp) for n = 1, the many-input kernel (quant-gemm-avx2.cpp, with its input packing)
 * for n >= 2; each with the input preparation its kernel needs (pairs / offsets). Per format and
 * input count, ns per (row, input, 32-weight block), best of 15 runs, the two alternating, on a
 * matrix held in cache (896 x 896) and for n = 1 also on one that is not (32768 x 896: the
 * bandwidth one thread gets, in GB/s of weights). Checks that both give the same bits. Build and
 * run (a CPU with AVX512F/BW/VL and AVX512_VNNI):
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/quant-vnni-kernel.cpp native/src/kernels/quant-*.cpp \
 *     native/src/kernels/kernels-ref.cpp native/src/kernels/weight-layouts.cpp -o /tmp/quant-vnni-kernel
 *   /tmp/quant-vnni-kernel
 */
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant-bench-data.h"

namespace {

void bench_shape(int64_t rows, int64_t cols, std::initializer_list<int64_t> ns) {
    std::mt19937 rng(1);
    const std::vector<float> wf = random_weights(rng, rows, cols);
    for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
        std::vector<uint8_t> mem;
        const weight_matrix w = quantized_matrix(d, wf, rows, cols, mem);
        for (int64_t n : ns) {
            const int64_t nb = quant_blocks(cols);
            std::vector<int8_t> xq;
            std::vector<float> xd;
            quantized_inputs(rng, n, cols, xq, xd);
            std::vector<uint8_t> pairs;
            uint8_t * xp = aligned_pairs_buffer(pairs, n, cols);
            std::vector<int32_t> off(static_cast<size_t>(n * nb * 8));
            std::vector<float> y1(static_cast<size_t>(n * rows)), y2(y1);
            double best_avx2 = 1e9, best_vnni = 1e9;
            const int runs = rows * n * nb > 4000000 ? 5 : 15;
            for (int it = 0; it < runs; ++it) {
                auto t0 = std::chrono::steady_clock::now();
                if (n == 1) matmul_rows_quant_avx2(y1.data(), rows, xq.data(), xd.data(), n, w, nullptr, 0, rows);
                else {
                    pack_input_pairs_q8(xp, xq.data(), xd.data(), n, cols);
                    matmul_rows_quant_gemm_avx2(y1.data(), rows, xp, n, w, nullptr, 0, rows);
                }
                best_avx2 = std::min(best_avx2, seconds_since(t0));
                t0 = std::chrono::steady_clock::now();
                quant_input_offsets_vnni(off.data(), xq.data(), n, cols, d);
                matmul_rows_quant_vnni(y2.data(), rows, xq.data(), xd.data(), off.data(), n, w, nullptr, 0, rows);
                best_vnni = std::min(best_vnni, seconds_since(t0));
            }
            const double per = 1e9 / static_cast<double>(rows * n * nb);
            std::printf("%s %5ld x %-4ld n %-3ld  avx2 %.3f  vnni %.3f ns per (row, input, block)  avx2 / vnni %.2f", weight_dtype_name(d),
                        static_cast<long>(rows), static_cast<long>(cols), static_cast<long>(n), best_avx2 * per, best_vnni * per,
                        best_avx2 / best_vnni);
            if (n == 1)
                std::printf("  (%.1f / %.1f GB/s)", static_cast<double>(mem.size()) / best_avx2 / 1e9,
                            static_cast<double>(mem.size()) / best_vnni / 1e9);
            std::printf("  %s\n", std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0 ? "same bits" : "BITS DIFFER");
        }
    }
}

}  // namespace

int main() {
    if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni")) {
        std::fprintf(stderr, "quant-vnni-kernel: needs AVX512BW/VL and AVX512_VNNI\n");
        return 1;
    }
    bench_shape(896, 896, {1, 2, 4, 8, 16, 40, 64});
    bench_shape(32768, 896, {1});
    return 0;
}
