/*
 * bf16-many-inputs.cpp: single-thread micro-benchmark of the AVX2 bf16 matmul with many inputs
 * (kernels-avx2.cpp: prefill and verification rows) on TILED4X16 matrices of the Qwen2.5-Coder-0.5B
 * shapes (attention 896 x 896, MLP up 4864 x 896, MLP down 896 x 4864) at 16, 64 and 512 inputs, and
 * of the shipped model (attention 256 x 256, MLP up 704 x 256, down 256 x 704, output 4096 x 256) at
 * 1-4 and 16 inputs (a ReDrafter verification's rows):
 * GFLOP/s (2 x rows x cols x inputs / time, best of 7), beside what one core's FMA units reach in
 * a register loop (12 independent chains). Prints a checksum of the outputs, so two builds (the
 * kernel before and after a change) can be compared for identical bits. Build and run (AVX2 CPU):
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/bf16-many-inputs.cpp native/src/kernels/kernels-avx2.cpp \
 *     native/src/kernels/weight-layouts.cpp native/src/kernels/kernels-ref.cpp native/src/kernels/quant-ref.cpp \
 *     native/src/kernels/quant-formats.cpp -o /tmp/bf16-many-inputs && /tmp/bf16-many-inputs
 */
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "stopwatch.h"

namespace {

// GFLOP/s of 12 independent FMA chains (8 lanes, 2 flops each): the FMA units' throughput.
__attribute__((target("avx2,fma"))) double fma_peak_gflops(long iters) {
    __m256 a[12];
    for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(1.0f + static_cast<float>(i) * 1e-7f);
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-9f);
    const auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < iters; ++it) {
        for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
        // keeps the 12 chains in registers and the loop from being folded
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]), "+x"(a[6]), "+x"(a[7]),
                         "+x"(a[8]), "+x"(a[9]), "+x"(a[10]), "+x"(a[11]));
    }
    return static_cast<double>(iters) * 12 * 16 / seconds_since(t0) / 1e9;
}

}  // namespace

int main() {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        std::fprintf(stderr, "needs AVX2 + FMA\n");
        return 1;
    }
    std::printf("one core's FMA units: %.1f GFLOP/s\n", fma_peak_gflops(100000000));
    const struct {
        int64_t rows, cols;
        bool shipped;
    } shapes[] = {{896, 896, false}, {4864, 896, false}, {896, 4864, false}, {256, 256, true}, {704, 256, true}, {256, 704, true}, {4096, 256, true}};
    uint64_t checksum = 0;
    for (const auto & sh : shapes) {
        std::vector<uint16_t> rows_data(static_cast<size_t>(sh.rows * sh.cols));
        for (size_t i = 0; i < rows_data.size(); ++i) rows_data[i] = f32_to_bf16(static_cast<float>((i * 7) % 509) / 509.0f - 0.5f);
        weight_matrix w;
        w.rows = sh.rows;
        w.cols = sh.cols;
        w.dtype = WEIGHT_BF16;
        w.data = rows_data.data();
        std::vector<uint8_t> tiled(weight_tiled_bytes(w, WEIGHT_TILED4X16), 0);
        const weight_matrix wt = weight_tile(w, WEIGHT_TILED4X16, tiled.data());
        for (const int64_t n : sh.shipped ? std::vector<int64_t>{1, 2, 3, 4, 16} : std::vector<int64_t>{16, 64, 512}) {
            std::vector<uint16_t> xb(static_cast<size_t>(n * sh.cols));
            for (size_t i = 0; i < xb.size(); ++i) xb[i] = f32_to_bf16(static_cast<float>(i % 13) / 13.0f - 0.4f);
            std::vector<float> y(static_cast<size_t>(n * sh.rows));
            // a small product is timed over repeats (about 20M multiply-adds)
            const int64_t reps = std::max<int64_t>(1, 20000000 / (sh.rows * sh.cols * n));
            double best = 1e30;
            for (int r = 0; r < 7; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                for (int64_t q = 0; q < reps; ++q) matmul_rows_avx2(y.data(), sh.rows, nullptr, xb.data(), n, wt, nullptr, 0, sh.rows);
                const double t = seconds_since(t0) / static_cast<double>(reps);
                if (t < best) best = t;
            }
            for (const float v : y) {
                uint32_t bits;
                std::memcpy(&bits, &v, 4);
                checksum = checksum * 1000003u + bits;
            }
            std::printf("%5lld x %5lld, %3lld inputs: %5.1f GFLOP/s\n", static_cast<long long>(sh.rows), static_cast<long long>(sh.cols),
                        static_cast<long long>(n), 2.0 * static_cast<double>(sh.rows * sh.cols * n) / best / 1e9);
        }
    }
    std::printf("output checksum %016llx\n", static_cast<unsigned long long>(checksum));
    return 0;
}
