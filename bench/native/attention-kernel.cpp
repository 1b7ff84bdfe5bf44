/*
 * attention-kernel.cpp: single-thread micro-benchmark of the generic attention with bf16 K/V (the
 * path every AVX2 CPU runs: attention-keyblocks.cpp) against a one-key-at-a-time baseline written
 * here: one (row, head) at a time, a dot per key and an axpy per key with the one-row AVX2 helpers,
 * which is how the engine's attention ran before the many-key helpers. Checks that both give the
 * same bits; reports the best of 9 runs each, the two alternating, for a 512-token prefill, one
 * decode step at 1,000 tokens, and 16-row verifications (tree-masked at 300 and 1,500, causal at
 * 1,500). Shapes: Qwen2.5-Coder-0.5B (14 heads, 2 KV heads, head_dim 64) and the shipped model
 * (fixtures/models/slipstream-code: 8 heads, 4 KV heads, head_dim 32; decode and 3- and 16-row
 * verifications at 928 context tokens, its prompt with a long file above the cursor). Small cases
 * time several calls per run (the figure is per call).
 * Build and run (AVX2 CPU):
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/attention-kernel.cpp native/src/kernels/kernels*.cpp \
 *     native/src/kernels/attention-*.cpp native/src/kernels/exp-avx2.cpp native/src/kernels/quant-*.cpp native/src/kernels/weight-layouts.cpp \
 *     native/src/kernels/topk-logprobs.cpp native/src/base/thread-pool.cpp native/src/base/log.cpp -o /tmp/attention-kernel
 *   /tmp/attention-kernel
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "attention-bench-case.h"
#include "kernels/kernels.h"
#include "stopwatch.h"

namespace {

// The baseline: per (row, head), a dot per visible key, softmax, an axpy per key with p != 0.
// q, out: (n, n_head * hd); k, v: (kv_len + n, n_head_kv * hd) bf16; mask: (n, kv_len + n) or null.
void attention_one_key_at_a_time(float * out, const float * q, const uint16_t * k, const uint16_t * v, int64_t kv_len,
                                 int64_t n, int n_head, int n_head_kv, int hd, const uint8_t * mask) {
    const int64_t total = kv_len + n, q_dim = int64_t{n_head} * hd, kv_dim = int64_t{n_head_kv} * hd;
    const int group = n_head / n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    std::vector<float> s(static_cast<size_t>(total));
    for (int64_t i = 0; i < n; ++i)
        for (int h = 0; h < n_head; ++h) {
            const float * qi = q + i * q_dim + int64_t{h} * hd;
            float * oi = out + i * q_dim + int64_t{h} * hd;
            const int64_t off = int64_t{h / group} * hd, limit = mask ? total : kv_len + i + 1;
            float mx = -INFINITY;
            for (int64_t j = 0; j < limit; ++j) {
                s[j] = mask && !mask[i * total + j] ? -INFINITY : dot_f32_bf16_avx2(qi, k + j * kv_dim + off, hd) * scale;
                mx = std::max(mx, s[j]);
            }
            std::fill(oi, oi + hd, 0.0f);
            float sum = 0;
            exp_shifted_avx2(s.data(), limit, mx);  // the engine's softmax exp since 2026-12-03 (-inf gives 0)
            for (int64_t j = 0; j < limit; ++j) sum += s[j];
            for (int64_t j = 0; j < limit; ++j)
                if (float p = s[j] * (1.0f / sum); p != 0.0f) axpy_f32_bf16_avx2(oi, p, v + j * kv_dim + off, hd);
        }
}

struct shape {
    int n_head, n_head_kv, hd;
};
constexpr shape QWEN_05B{14, 2, 64}, SHIPPED{8, 4, 32};

void bench(const char * what, const shape & sh, int64_t kv_len, int64_t n, bool tree) {
    const int n_head = sh.n_head, n_head_kv = sh.n_head_kv, hd = sh.hd;
    const int64_t total = kv_len + n;
    const attention_bench_case c = make_attention_case(n_head, n_head_kv, hd, kv_len, n, tree);
    const std::vector<float> & q = c.q;
    const std::vector<uint16_t> &k = c.k, &v = c.v;
    const uint8_t * mask = c.mask_or_null();
    std::vector<float> o1(q.size()), o2(q.size());
    double best_old = 1e9, best_new = 1e9;
    // calls per timed run: about 2^24 multiply-adds of scores and sums each
    const int reps = static_cast<int>(std::clamp<double>(16777216.0 / (2.0 * n * n_head * total * hd), 1, 1000));
    for (int it = 0; it < 9; ++it) {
        auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r)
            attention_one_key_at_a_time(o1.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, hd,
                                        mask);
        best_old = std::min(best_old, seconds_since(t0) / reps);
        t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r)
            attention(o2.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, hd, mask,
                      nullptr);
        best_new = std::min(best_new, seconds_since(t0) / reps);
    }
    const bool same = std::memcmp(o1.data(), o2.data(), o1.size() * sizeof(float)) == 0;
    std::printf("%-34s one key at a time %8.3f ms, many keys %8.3f ms (%.2fx)  %s\n", what, best_old * 1e3, best_new * 1e3,
                best_old / best_new, same ? "same bits" : "BITS DIFFER");
}

}  // namespace

int main() {
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) {
        std::printf("this CPU has no AVX2: nothing to compare\n");
        return 0;
    }
    bench("prefill 512 (one layer)", QWEN_05B, 0, 512, false);
    bench("decode at 1000 (one layer)", QWEN_05B, 1000, 1, false);
    bench("tree 16 rows at 300 (one layer)", QWEN_05B, 300, 16, true);
    bench("tree 16 rows at 1500 (one layer)", QWEN_05B, 1500, 16, true);
    bench("causal 16 rows at 1500 (one layer)", QWEN_05B, 1500, 16, false);
    bench("shipped: decode at 928 (one layer)", SHIPPED, 928, 1, false);
    bench("shipped: tree 3 rows at 928", SHIPPED, 928, 3, true);
    bench("shipped: tree 16 rows at 928", SHIPPED, 928, 16, true);
    return 0;
}
