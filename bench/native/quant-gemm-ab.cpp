/*
 * quant-gemm-ab.cpp: single-thread A/B micro-benchmark of two versions of the many-input quantized
 * kernel (native/src/kernels/quant-gemm-avx2.cpp), e.g. a commit's against the working tree's: both
 * compiled into one binary (each in its own namespace), run in alternation on the same packed
 * inputs, short calls (~1-3 ms) and the minimum of ROUNDS kept per version, so load on a shared
 * machine hits both alike; prints ns per (row, input, 32-weight block) for the 0.5B MLP shapes and
 * whether both give the same bits. Build and run (AVX2 CPU):
 *
 *   git show REV:native/src/kernels/quant-gemm-avx2.cpp > /tmp/gemm-a.cpp
 *   g++ -O3 -std=c++17 -Inative/src -Inative/src/kernels -DA_SRC='"/tmp/gemm-a.cpp"' \
 *     -DB_SRC='"kernels/quant-gemm-avx2.cpp"' bench/native/quant-gemm-ab.cpp native/src/kernels/quant-avx2.cpp \
 *     native/src/kernels/quant-formats.cpp native/src/kernels/quant-ref.cpp native/src/kernels/kernels-ref.cpp \
 *     native/src/kernels/weight-layouts.cpp -o /tmp/quant-gemm-ab && /tmp/quant-gemm-ab [ROUNDS]
 */
#include <immintrin.h>
#include <vector>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include "kernels/avx2-hsum.h"
#include "kernels/kernels.h"
#include "quant-bench-data.h"
namespace ka {
#include A_SRC
}
namespace kb {
#include B_SRC
}
int main(int argc, char** argv) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        std::fprintf(stderr, "quant-gemm-ab: needs AVX2\n");
        return 1;
    }
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
    std::mt19937 rng(1);
    for (auto shape : {std::pair<int64_t,int64_t>{4864, 896}, {896, 4864}}) {
        const int64_t rows = shape.first, cols = shape.second;
        const std::vector<float> wf = random_weights(rng, rows, cols);
        for (weight_dtype d : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
            std::vector<uint8_t> mem;
            const weight_matrix w = quantized_matrix(d, wf, rows, cols, mem);
            for (int64_t n : {8, 64, 256}) {
                const int64_t nb = quant_blocks(cols);
                std::vector<int8_t> xq;
                std::vector<float> xd;
                quantized_inputs(rng, n, cols, xq, xd);
                std::vector<uint8_t> pairs(ka::quant_input_pairs_bytes(n, cols) + 32);
                uint8_t * xp = pairs.data() + (32 - reinterpret_cast<uintptr_t>(pairs.data()) % 32) % 32;
                ka::pack_input_pairs_q8(xp, xq.data(), xd.data(), n, cols);
                std::vector<float> y1(static_cast<size_t>(n * rows)), y2(y1);
                // rows per call: a slice so one call is ~1-3 ms
                const int64_t r1 = std::min<int64_t>(rows, std::max<int64_t>(64, (1 << 21) / (n * nb)) / 4 * 4);
                double ba = 1e9, bb = 1e9;
                for (int t = 0; t < rounds; ++t) {
                    auto t0 = std::chrono::steady_clock::now();
                    ka::matmul_rows_quant_gemm_avx2(y1.data(), rows, xp, n, w, nullptr, 0, r1);
                    ba = std::min(ba, seconds_since(t0));
                    t0 = std::chrono::steady_clock::now();
                    kb::matmul_rows_quant_gemm_avx2(y2.data(), rows, xp, n, w, nullptr, 0, r1);
                    bb = std::min(bb, seconds_since(t0));
                }
                const double per = 1e9 / static_cast<double>(r1 * n * nb);
                const bool same = std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0;
                std::printf("%s %5ld x %-5ld n %-4ld A %.3f  B %.3f ns  A/B %.3f  %s\n", weight_dtype_name(d), static_cast<long>(rows),
                            static_cast<long>(cols), static_cast<long>(n), ba * per, bb * per, ba / bb, same ? "same bits" : "BITS DIFFER");
            }
        }
    }
}
