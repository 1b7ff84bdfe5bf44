/*
 * attention-bench-case.h: the attention micro-benchmarks' (bench/native/attention-*.cpp) random
 * case: queries, bf16 K and V of one layer, and for a tree-masked case the mask (each row sees the
 * context, itself and a random half of the rows before it), the same for a given shape and seed.
 */
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernels.h"

struct attention_bench_case {
    std::vector<float> q;          // (n, n_head * hd)
    std::vector<uint16_t> k, v;    // (kv_len + n, n_head_kv * hd) bf16
    std::vector<uint8_t> mask;     // (n, kv_len + n), empty when causal
    const uint8_t * mask_or_null() const { return mask.empty() ? nullptr : mask.data(); }
};

inline attention_bench_case make_attention_case(int n_head, int n_head_kv, int hd, int64_t kv_len, int64_t n, bool tree) {
    const int64_t total = kv_len + n, q_dim = int64_t{n_head} * hd, kv_dim = int64_t{n_head_kv} * hd;
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0, 1);
    attention_bench_case c;
    c.q.resize(static_cast<size_t>(n * q_dim));
    for (auto & x : c.q) x = nd(rng);
    c.k.resize(static_cast<size_t>(total * kv_dim));
    c.v.resize(c.k.size());
    for (auto & x : c.k) x = f32_to_bf16(nd(rng));
    for (auto & x : c.v) x = f32_to_bf16(nd(rng));
    if (tree) {
        c.mask.assign(static_cast<size_t>(n * total), 0);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j <= kv_len + i; ++j) c.mask[i * total + j] = j < kv_len || j == kv_len + i || (rng() & 1);
    }
    return c;
}
