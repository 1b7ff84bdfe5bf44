/*
 * test-attention.cpp: attention() on this CPU's paths (the AVX-512 tile kernel where it applies, the
 * generic one for head_dim 40) equals the pure scalar attention_ref within 1e-5 of each output's
 * largest element: 1..9 rows, GQA groups 1..8, head_dim 16..128, cached lengths 0..300, causal and
 * tree-masked (a fully masked row too), with and without the pool; where the generic kernel runs
 * (attention-keyblocks.cpp), it equals its arithmetic written out one (row, head) at a time
 * (attention_one_by_one) bit for bit; and a row's output is bit for bit the same in any batch and
 * thread split, which greedy ReDrafter == plain greedy relies on.
 */
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "base/thread-pool.h"
#include "kernels/kernels.h"
#include "attention-cases.h"
#include "test-util.h"

namespace {

int g_cases = 0;
int g_direct = 0;  // cases that ran the generic kernel

void check_case(int64_t n, int n_head_kv, int group, int head_dim, int64_t kv_len, bool masked, thread_pool * pool,
                std::mt19937 & rng) {
    const int n_head = n_head_kv * group;
    const int64_t total = kv_len + n;
    const int64_t q_dim = int64_t(n_head) * head_dim, kv_dim = int64_t(n_head_kv) * head_dim;
    std::vector<float> q = randn(static_cast<size_t>(n * q_dim), rng);
    std::vector<float> k = randn(static_cast<size_t>(total * kv_dim), rng);
    std::vector<float> v = randn(static_cast<size_t>(total * kv_dim), rng);
    // scores of a few units, so the softmax is neither flat nor one-hot
    for (auto & x : q) x *= 1.5f;
    std::vector<uint8_t> mask;
    // the fully masked row: row 1 of 3+ rows, row 0 of 2 rows after a context, the only row when kv_len is 17
    if (masked) mask = make_mask(n, kv_len, n >= 3 ? 1 : (n == 2 && kv_len > 0) || kv_len == 17 ? 0 : -1, rng);
    const uint8_t * mp = masked ? mask.data() : nullptr;
    std::vector<float> ref(static_cast<size_t>(n * q_dim), 7.0f), out(static_cast<size_t>(n * q_dim), 7.0f);
    attention_ref(ref.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, mp);
    attention(out.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, pool);
    bool zero_rows_ok = true;
    const double max_rel = attention_max_rel(out, ref, mask, masked, n, total, n_head, head_dim, zero_rows_ok);
    // where the generic kernel runs, its arithmetic one (row, head) at a time; on the reference
    // path attention is attention_ref itself
    bool direct_same = true;
    if (reference_path()) {
        direct_same = same_bits(out, ref);
    } else if (!attention_runs_tiles(n_head, n_head_kv, head_dim)) {
        std::vector<float> direct(out.size(), 7.0f);
        attention_one_by_one(direct.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, dot_f32,
                             axpy_f32);
        direct_same = same_bits(out, direct);
        ++g_direct;
    }
    ++g_cases;
    if (!(max_rel <= 1e-5) || !zero_rows_ok || !direct_same)
        std::fprintf(stderr, "n %lld kv heads %d group %d head_dim %d kv_len %lld %s %s: max rel err %g%s%s\n", (long long)n,
                     n_head_kv, group, head_dim, (long long)kv_len, masked ? "mask" : "causal", pool ? "pool" : "1 thread",
                     max_rel, zero_rows_ok ? "" : ", fully masked row not zero", direct_same ? "" : ", != one (row, head) at a time");
    CHECK(max_rel <= 1e-5);
    CHECK(zero_rows_ok);
    CHECK(direct_same);
}

// Rows of a causal batch of n after kv_len cached slots, each computed alone (as a decode step
// at length kv_len + i) and inside a tree-masked batch, equal the batch's causal rows bit for bit.
void check_batch_invariance(int64_t n, int n_head_kv, int group, int head_dim, int64_t kv_len, thread_pool * pool,
                            std::mt19937 & rng) {
    const int n_head = n_head_kv * group;
    const int64_t total = kv_len + n;
    const int64_t q_dim = int64_t(n_head) * head_dim, kv_dim = int64_t(n_head_kv) * head_dim;
    const std::vector<float> q = randn(static_cast<size_t>(n * q_dim), rng);
    const std::vector<float> k = randn(static_cast<size_t>(total * kv_dim), rng);
    const std::vector<float> v = randn(static_cast<size_t>(total * kv_dim), rng);
    std::vector<float> batch(static_cast<size_t>(n * q_dim)), tree(static_cast<size_t>(n * q_dim)), one(static_cast<size_t>(q_dim));
    attention(batch.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, nullptr, pool);
    std::vector<uint8_t> causal(static_cast<size_t>(n * total), 0);  // the causal pattern as a tree mask
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j <= kv_len + i; ++j) causal[i * total + j] = 1;
    attention(tree.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, causal.data(), pool);
    bool same = true;
    for (int64_t i = 0; i < n; ++i) {
        attention(one.data(), q.data() + i * q_dim, k.data(), v.data(), kv_len + i, 1, n_head, n_head_kv, head_dim, nullptr, nullptr);
        for (int64_t c = 0; c < q_dim; ++c)
            same = same && one[c] == batch[i * q_dim + c] && one[c] == tree[i * q_dim + c];
    }
    ++g_cases;
    if (!same)
        std::fprintf(stderr, "batch invariance: n %lld kv heads %d group %d head_dim %d kv_len %lld: a row differs\n",
                     (long long)n, n_head_kv, group, head_dim, (long long)kv_len);
    CHECK(same);
}

}  // namespace

int main() {
    std::mt19937 rng(7);
    thread_pool pool(2);
    std::fprintf(stderr, "best path: %s\n", kernel_best_path_name());
    for (int head_dim : {32, 64, 128, 40})
        for (int group : {1, 2, 4, 8})
            for (int64_t kv_len : {0, 1, 15, 16, 17, 300})
                for (int64_t n = 1; n <= 9; ++n)
                    for (bool masked : {false, true}) {
                        const int n_head_kv = (n + group + kv_len) % 3 == 0 ? 1 : 2;
                        check_case(n, n_head_kv, group, head_dim, kv_len, masked, (n + kv_len) % 2 ? &pool : nullptr, rng);
                    }
    // every other head_dim the fast kernel takes (16 * 1..8), fewer shapes each
    for (int head_dim : {16, 48, 80, 96, 112})
        for (int group : {1, 3, 7})
            for (int64_t kv_len : {0, 17, 300})
                for (int64_t n : {1, 2, 3, 5, 9})
                    for (bool masked : {false, true}) check_case(n, 2, group, head_dim, kv_len, masked, n % 2 ? &pool : nullptr, rng);
    // a long batch (several row tiles per KV head) and a prefill-sized one with the pool
    check_case(200, 2, 7, 64, 900, false, &pool, rng);
    check_case(64, 2, 7, 64, 40, true, &pool, rng);
    check_case(33, 1, 1, 128, 0, false, nullptr, rng);
    for (int head_dim : {32, 64})
        for (int group : {1, 2, 7})
            for (int64_t n : {2, 3, 5, 16})
                for (int64_t kv_len : {0, 17, 300}) check_batch_invariance(n, 2, group, head_dim, kv_len, n % 2 ? &pool : nullptr, rng);
    std::fprintf(stderr, "%d attention cases, %d on the generic kernel\n", g_cases, g_direct);
    // head_dim 40 runs it on every CPU with AVX2 (the reference path runs attention_ref instead)
    CHECK(g_direct > 0 || reference_path());
    return test_summary("test-attention");
}
