/*
 * attention-tile-bf16.cpp: micro-benchmark of bf16 K/V attention on an AVX-512 CPU: the AVX-512 tile
 * kernel (what attention() runs there since 2026-12-07) against the generic kernel by key blocks
 * (what it ran before: attention() with KERNEL_PATH_AVX2, which takes the generic kernel with the
 * same block loops the AUTO path chose for bf16 K/V on this CPU), and the tile kernel on f32 K/V
 * holding the same (widened) numbers, which the bf16 tile result must equal bit for bit. Best of 9
 * runs each, the three alternating, on one thread and on a pool of 2, one layer of the
 * Qwen2.5-Coder-0.5B shape (14 heads, 2 KV heads, head_dim 64): a decode step at 1,000 and 2,000
 * context tokens, 16-row verifications (tree-masked at 300 and 2,000, causal at 2,000) and a
 * 512-token prefill after 1,500. Small cases time several calls per run (the figure is per call).
 * Build and run (AVX-512 CPU; elsewhere it says so and exits):
 *
 *   g++ -O3 -std=c++17 -pthread -Inative/src bench/native/attention-tile-bf16.cpp native/src/kernels/kernels*.cpp \
 *     native/src/kernels/attention-*.cpp native/src/kernels/exp-avx2.cpp native/src/kernels/quant-*.cpp native/src/kernels/weight-layouts.cpp \
 *     native/src/kernels/topk-logprobs.cpp native/src/base/thread-pool.cpp native/src/base/log.cpp -o /tmp/attention-tile-bf16
 *   /tmp/attention-tile-bf16
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "attention-bench-case.h"
#include "base/thread-pool.h"
#include "kernels/kernels.h"
#include "stopwatch.h"

namespace {

constexpr int N_HEAD = 14, N_HEAD_KV = 2, HD = 64;

void bench(const char * what, int64_t kv_len, int64_t n, bool tree, thread_pool * pool) {
    const int64_t total = kv_len + n;
    const attention_bench_case c = make_attention_case(N_HEAD, N_HEAD_KV, HD, kv_len, n, tree);
    const std::vector<float> & q = c.q;
    const std::vector<uint16_t> &k = c.k, &v = c.v;
    std::vector<float> kw(k.size()), vw(v.size());  // the same numbers as f32
    for (size_t i = 0; i < k.size(); ++i) kw[i] = bf16_to_f32(k[i]), vw[i] = bf16_to_f32(v[i]);
    const uint8_t * mp = c.mask_or_null();
    std::vector<float> o_generic(q.size()), o_tile(q.size()), o_f32(q.size());
    double best[3] = {1e9, 1e9, 1e9};
    // calls per timed run: about 2^24 multiply-adds of scores and sums each
    const int reps = static_cast<int>(std::clamp<double>(16777216.0 / (2.0 * n * N_HEAD * total * HD), 1, 1000));
    for (int it = 0; it < 9; ++it) {
        auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r)
            attention(o_generic.data(), q.data(), k.data(), v.data(), kv_len, n, N_HEAD, N_HEAD_KV, HD, mp, pool, KERNEL_PATH_AVX2);
        best[0] = std::min(best[0], seconds_since(t0) / reps);
        t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) attention(o_tile.data(), q.data(), k.data(), v.data(), kv_len, n, N_HEAD, N_HEAD_KV, HD, mp, pool);
        best[1] = std::min(best[1], seconds_since(t0) / reps);
        t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) attention(o_f32.data(), q.data(), kw.data(), vw.data(), kv_len, n, N_HEAD, N_HEAD_KV, HD, mp, pool);
        best[2] = std::min(best[2], seconds_since(t0) / reps);
    }
    const bool same = std::memcmp(o_tile.data(), o_f32.data(), o_tile.size() * sizeof(float)) == 0;
    std::printf("%-36s %-8s generic %7.3f ms, tile %7.3f ms (%.2fx), f32 tile %7.3f ms  %s\n", what, pool ? "2 thr" : "1 thr",
                best[0] * 1e3, best[1] * 1e3, best[0] / best[1], best[2] * 1e3, same ? "bf16 tile == f32 tile" : "BITS DIFFER");
}

}  // namespace

int main() {
    if (!kernel_path_supported(KERNEL_PATH_AVX512) || !attention_runs_tiles(N_HEAD, N_HEAD_KV, HD)) {
        std::printf("this CPU has no AVX-512: the tile kernel does not run here\n");
        return 0;
    }
    thread_pool pool(2);
    for (thread_pool * p : {static_cast<thread_pool *>(nullptr), &pool}) {
        bench("decode at 1000 (one layer)", 1000, 1, false, p);
        bench("decode at 2000 (one layer)", 2000, 1, false, p);
        bench("tree 16 rows at 300 (one layer)", 300, 16, true, p);
        bench("tree 16 rows at 2000 (one layer)", 2000, 16, true, p);
        bench("causal 16 rows at 2000 (one layer)", 2000, 16, false, p);
        bench("prefill 512 at 1500 (one layer)", 1500, 512, false, p);
    }
    return 0;
}
