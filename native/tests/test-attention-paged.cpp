/*
 * test-attention-paged.cpp: attention_paged (K/V read through a block table, kernels.h "K/V read
 * through a block table") equals the contiguous attention bit for bit, f32 and bf16 K/V, the
 * dispatched path (against attention(): the AVX-512 tile kernel where it takes the shape, else the
 * generic kernel) and the reference (against attention_ref), and is close to attention_ref: the first
 * `shared` slots (0, 16, 48, or every full block of the cached prefix) come from separately
 * allocated 16-row blocks holding copies of those rows, the rest from the contiguous cache, whose
 * copies of the shared rows are overwritten with garbage (so a row read from the wrong place
 * shows). Causal and tree-masked, 1..9 rows, GQA groups 1..7, with and without the pool.
 */
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "base/thread-pool.h"
#include "kernels/kernels.h"
#include "attention-cases.h"
#include "test-util.h"

namespace {

int g_cases = 0;

template <class T>
T make(float x) {
    if constexpr (sizeof(T) == 2) return f32_to_bf16(x);
    else return x;
}

// One case for T = float or uint16_t (bf16).
template <class T>
void check_case(int64_t n, int n_head_kv, int group, int head_dim, int64_t kv_len, int64_t shared, bool masked,
                thread_pool * pool, std::mt19937 & rng) {
    const int n_head = n_head_kv * group;
    const int64_t total = kv_len + n, q_dim = int64_t(n_head) * head_dim, kv_dim = int64_t(n_head_kv) * head_dim;
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> q(static_cast<size_t>(n * q_dim));
    for (auto & x : q) x = 1.5f * d(rng);
    std::vector<T> k(static_cast<size_t>(total * kv_dim)), v(k.size());
    for (auto & x : k) x = make<T>(d(rng));
    for (auto & x : v) x = make<T>(d(rng));
    // the shared slots' rows into separate 16-row blocks; the contiguous copies get garbage
    const int64_t nb = shared / KV_VIEW_BLOCK;
    std::vector<std::vector<T>> kb(static_cast<size_t>(nb)), vb(static_cast<size_t>(nb));
    std::vector<const T *> kp, vp;
    for (int64_t b = 0; b < nb; ++b) {
        const size_t off = static_cast<size_t>(b * KV_VIEW_BLOCK * kv_dim), len = static_cast<size_t>(KV_VIEW_BLOCK * kv_dim);
        kb[b].assign(k.begin() + off, k.begin() + off + len);
        vb[b].assign(v.begin() + off, v.begin() + off + len);
        kp.push_back(kb[b].data());
        vp.push_back(vb[b].data());
    }
    std::vector<T> k_own = k, v_own = v;
    for (int64_t i = 0; i < shared * kv_dim; ++i) {
        k_own[static_cast<size_t>(i)] = make<T>(1e4f);
        v_own[static_cast<size_t>(i)] = make<T>(-1e4f);
    }
    const kv_view<T> kview{k_own.data(), kp.data(), shared}, vview{v_own.data(), vp.data(), shared};
    std::vector<uint8_t> mask;
    if (masked) {
        mask.assign(static_cast<size_t>(n * total), 0);
        std::uniform_int_distribution<int> coin(0, 3);
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t j = 0; j < kv_len; ++j) mask[i * total + j] = coin(rng) != 0;
            for (int64_t j = 0; j < i; ++j) mask[i * total + kv_len + j] = coin(rng) >= 2;
            mask[i * total + kv_len + i] = 1;
        }
    }
    const uint8_t * mp = masked ? mask.data() : nullptr;
    const size_t sz = static_cast<size_t>(n * q_dim);
    std::vector<float> contig(sz, 7.0f), paged(sz, 7.0f), ref(sz, 7.0f), paged_ref(sz, 7.0f);
    attention(contig.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, pool);
    attention_paged(paged.data(), q.data(), kview, vview, kv_len, n, n_head, n_head_kv, head_dim, mp, pool);
    attention_ref(ref.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, mp);
    attention_paged(paged_ref.data(), q.data(), kview, vview, kv_len, n, n_head, n_head_kv, head_dim, mp, pool, KERNEL_PATH_REF);
    const bool fast_same = same_bits(contig, paged);
    const bool ref_same = same_bits(ref, paged_ref);
    bool close = true;
    for (size_t i = 0; i < sz; ++i) close = close && std::fabs(paged[i] - ref[i]) <= 1e-4f * (1.0f + std::fabs(ref[i]));
    ++g_cases;
    if (!fast_same || !ref_same || !close)
        std::fprintf(stderr, "%s K/V n %lld kv heads %d group %d hd %d kv_len %lld shared %lld %s: paged %s contiguous, ref %s, close %d\n",
                     sizeof(T) == 2 ? "bf16" : "f32", (long long)n, n_head_kv, group, head_dim, (long long)kv_len, (long long)shared,
                     masked ? "mask" : "causal", fast_same ? "==" : "!=", ref_same ? "==" : "!=", close);
    CHECK(fast_same);
    CHECK(ref_same);
    CHECK(close);
}

}  // namespace

int main() {
    std::mt19937 rng(23);
    thread_pool pool(2);
    for (int head_dim : {32, 64})
        for (int group : {1, 2, 7})
            for (int64_t kv_len : {0, 16, 17, 50, 300})
                for (int64_t n : {1, 3, 9})
                    for (bool masked : {false, true})
                        for (int64_t shared : {int64_t(0), int64_t(16), int64_t(48), kv_len / 16 * 16}) {
                            if (shared > kv_len) continue;
                            thread_pool * p = (n + kv_len) % 2 ? &pool : nullptr;
                            check_case<float>(n, 2, group, head_dim, kv_len, shared, masked, p, rng);
                            check_case<uint16_t>(n, 2, group, head_dim, kv_len, shared, masked, p, rng);
                        }
    std::fprintf(stderr, "%d paged attention cases\n", g_cases);
    return test_summary("test-attention-paged");
}
