/*
 * bf16-layout-stream.cpp: how fast the AVX2 bf16 decode kernel (kernels-avx2.cpp, one input, 4-row
 * tiles) streams weights from DRAM in each layout: row-major (ROWS: a 4-row tile reads 4 separate
 * rows) against TILED4X16 (the tile's 4 rows interleaved in steps of 16: one stream). 60 matrices of
 * 4,864 x 896 bf16 (523 MB, the 0.5B MLP shape, far beyond the caches), one input, the rows of each
 * matrix split in two halves over 2 threads that stay alive between rounds; GB/s of weights read,
 * the two layouts alternating, 6 rounds. Checks that both layouts give the same bits. Build and run
 * (AVX2 CPU):
 *
 *   g++ -O2 -std=c++17 -pthread -Inative/src bench/native/bf16-layout-stream.cpp native/src/kernels/kernels-avx2.cpp \
 *     native/src/kernels/weight-layouts.cpp native/src/kernels/kernels-ref.cpp native/src/kernels/quant-ref.cpp \
 *     native/src/kernels/quant-formats.cpp -o /tmp/bf16-layout-stream && /tmp/bf16-layout-stream
 */
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace {

constexpr int64_t ROWS = 4864, COLS = 896, MATRICES = 60, ROUNDS = 6;

// Two threads: the caller and one helper, which waits (spinning) for each round.
struct pair_runner {
    std::atomic<int> round{0}, done{0};
    std::atomic<bool> quit{false};
    const std::vector<weight_matrix> * ms = nullptr;
    const uint16_t * xb = nullptr;
    float * y = nullptr;
    std::thread helper;

    void half(int t) const {
        for (const weight_matrix & w : *ms)
            matmul_rows_avx2(y, ROWS, nullptr, xb, 1, w, nullptr, t * ROWS / 2, (t + 1) * ROWS / 2);
    }
    pair_runner() {
        helper = std::thread([this] {
            for (int seen = 0;;) {
                while (round.load() == seen) {
                }
                seen = round.load();
                if (quit) return;
                half(1);
                done.fetch_add(1);
            }
        });
    }
    ~pair_runner() {
        quit = true;
        round.fetch_add(1);
        helper.join();
    }
    double run(const std::vector<weight_matrix> & m) {
        ms = &m;
        done = 0;
        const auto t0 = std::chrono::steady_clock::now();
        round.fetch_add(1);
        half(0);
        while (done.load() < 1) {
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
};

}  // namespace

int main() {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        std::fprintf(stderr, "needs AVX2 + FMA\n");
        return 1;
    }
    std::vector<std::vector<uint16_t>> rows_data(MATRICES);
    std::vector<std::vector<uint8_t>> tiled_data(MATRICES);
    std::vector<weight_matrix> rows_m(MATRICES), tiled_m(MATRICES);
    for (int64_t m = 0; m < MATRICES; ++m) {
        rows_data[m].resize(static_cast<size_t>(ROWS * COLS));
        for (int64_t i = 0; i < ROWS * COLS; ++i) rows_data[m][i] = f32_to_bf16(static_cast<float>((i * 7 + m) % 509) / 509.0f - 0.5f);
        weight_matrix & w = rows_m[m];
        w.rows = ROWS;
        w.cols = COLS;
        w.dtype = WEIGHT_BF16;
        w.data = rows_data[m].data();
        tiled_data[m].assign(weight_tiled_bytes(w, WEIGHT_TILED4X16), 0);
        tiled_m[m] = weight_tile(w, WEIGHT_TILED4X16, tiled_data[m].data());
    }
    std::vector<uint16_t> xb(COLS);
    for (int64_t k = 0; k < COLS; ++k) xb[k] = f32_to_bf16(static_cast<float>(k % 13) / 13.0f);
    std::vector<float> y_rows(ROWS), y_tiled(ROWS);
    pair_runner runner;
    runner.xb = xb.data();
    const double gb = static_cast<double>(MATRICES * ROWS * COLS * 2) / 1e9;
    std::printf("bf16 decode, %lld matrices of %lld x %lld (%.0f MB), 2 threads: GB/s of weights\n", (long long)MATRICES,
                (long long)ROWS, (long long)COLS, gb * 1000);
    for (int r = 0; r < ROUNDS; ++r) {
        runner.y = y_rows.data();
        const double a = runner.run(rows_m);
        runner.y = y_tiled.data();
        const double b = runner.run(tiled_m);
        std::printf("round %d: ROWS %.1f GB/s, TILED4X16 %.1f GB/s (%.2fx)\n", r + 1, gb / a, gb / b, a / b);
    }
    if (std::memcmp(y_rows.data(), y_tiled.data(), y_rows.size() * sizeof(float)) != 0) {
        std::fprintf(stderr, "the layouts gave different bits\n");
        return 1;
    }
    return 0;
}
