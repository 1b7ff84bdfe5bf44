/*
 * quant-kernel.cpp: single-thread micro-benchmark of the quantized matmul kernels: AVX2
 * (quant-avx2.cpp) and, where the CPU has them, AVX-VNNI (quant-avxvnni.cpp) and AVX-512 VNNI
 * (quant-vnni.cpp), each with the input offsets (and the packing) it needs made inside the timing.
 * Per format and input count, ns per (row, input, 32-weight block), best of 15 runs, the kernels
 * alternating, on matrices held in cache (256 x 256, 896 x 896, 4864 x 896) and larger (32768 x
 * 896, 65536 x 896: q8_0 31 / 62 MB, read from memory; for n = 1 the bandwidth one thread gets, in
 * GB/s of weights), and each kernel's speed relative to AVX2's. Checks that all give the same
 * bits. Build and run (AVX2 CPU):
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/quant-kernel.cpp native/src/kernels/quant-*.cpp \
 *     native/src/kernels/kernels-ref.cpp native/src/kernels/weight-layouts.cpp -o /tmp/quant-kernel
 *   /tmp/quant-kernel
 */
#include <cpuid.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "quant-bench-data.h"
#include "stopwatch.h"

namespace {

enum kernel { AVX2, AVXVNNI, VNNI };
const char * const kernel_names[] = {"avx2", "avxvnni", "vnni"};

// One kernel's product with its offsets.
void product(kernel k, float * y, const std::vector<int8_t> & xq, const std::vector<float> & xd, std::vector<int32_t> & off, int64_t n,
             const weight_matrix & w) {
    const int32_t c = quant_offsets_c(w.dtype, k != AVX2);
    if (c) quant_input_offsets(off.data(), xq.data(), n, w.cols, c);
    if (k == AVX2) {
        matmul_rows_quant_avx2(y, w.rows, xq.data(), xd.data(), off.data(), n, w, nullptr, 0, w.rows);
        return;
    }
    if (k == AVXVNNI) {
        matmul_rows_quant_avxvnni(y, w.rows, xq.data(), xd.data(), off.data(), n, w, nullptr, 0, w.rows);
        return;
    }
    // the AVX-512 VNNI kernel takes the inputs packed as matmul packs them (a single one as it is)
    quant_packed_inputs x{reinterpret_cast<const int32_t *>(xq.data()), xd.data(), off.data()};
    if (n > 1) {
        const int64_t nb = quant_blocks(w.cols), slots = quant_packs(n) * nb * QUANT_PACK;
        static std::vector<int32_t> pq, po;
        static std::vector<float> pd;
        pq.resize(static_cast<size_t>(slots * QUANT_PIECES));
        po.resize(static_cast<size_t>(slots));
        pd.resize(static_cast<size_t>(slots));
        quant_pack_inputs(pq.data(), pd.data(), xq.data(), xd.data(), n, 0, n, nb);
        quant_pack_offsets(po.data(), off.data(), n, 0, n, nb);
        x = {pq.data(), pd.data(), po.data()};
    }
    matmul_rows_quant_vnni(y, w.rows, x, n, w, nullptr, 0, w.rows);
}

void bench_shape(int64_t rows, int64_t cols, std::initializer_list<int64_t> ns, const std::vector<kernel> & kernels) {
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
            std::vector<int32_t> off(static_cast<size_t>(n * nb));
            std::vector<std::vector<float>> y(kernels.size(), std::vector<float>(static_cast<size_t>(n * rows)));
            std::vector<double> best(kernels.size(), 1e9);
            const int runs = rows * n * nb > 4000000 ? 5 : 15;
            for (int it = 0; it < runs; ++it)
                for (size_t k = 0; k < kernels.size(); ++k) {
                    const auto t0 = std::chrono::steady_clock::now();
                    product(kernels[k], y[k].data(), xq, xd, off, n, w);
                    best[k] = std::min(best[k], seconds_since(t0));
                }
            const double per = 1e9 / static_cast<double>(rows * n * nb);
            std::printf("%s %5ld x %-4ld n %-3ld ns per (row, input, block):", weight_dtype_name(d), static_cast<long>(rows),
                        static_cast<long>(cols), static_cast<long>(n));
            for (size_t k = 0; k < kernels.size(); ++k) std::printf("  %s %.3f", kernel_names[kernels[k]], best[k] * per);
            for (size_t k = 1; k < kernels.size(); ++k) std::printf("  avx2 / %s %.2f", kernel_names[kernels[k]], best[0] / best[k]);
            if (n == 1) {
                std::printf("  (GB/s");
                for (size_t k = 0; k < kernels.size(); ++k) std::printf(" %.1f", static_cast<double>(mem.size()) / best[k] / 1e9);
                std::printf(")");
            }
            bool same = true;
            for (size_t k = 1; k < kernels.size(); ++k) same &= std::memcmp(y[0].data(), y[k].data(), y[0].size() * 4) == 0;
            if (kernels.size() > 1) std::printf("  %s", same ? "same bits" : "BITS DIFFER");
            std::printf("\n");
        }
    }
}

}  // namespace

int main() {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c")) {
        std::fprintf(stderr, "quant-kernel: needs AVX2, FMA and F16C\n");
        return 1;
    }
    std::vector<kernel> kernels = {AVX2};
    unsigned a = 0, b = 0, c = 0, d = 0;  // CPUID.(7, 1):EAX bit 4, AVX-VNNI (GCC 12 knows no "avxvnni" for __builtin_cpu_supports)
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1u)) kernels.push_back(AVXVNNI);
    else std::printf("no AVX-VNNI here: its kernel is not run\n");
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) kernels.push_back(VNNI);
    else std::printf("no AVX512_VNNI here: its kernel is not run\n");
    bench_shape(256, 256, {1, 2, 3, 4, 8}, kernels);  // the shipped model's shape
    bench_shape(896, 896, {1, 2, 4, 8, 16, 40, 64}, kernels);
    bench_shape(4864, 896, {1, 16}, kernels);
    bench_shape(32768, 896, {1, 16}, kernels);
    bench_shape(65536, 896, {1, 16}, kernels);
    return 0;
}
