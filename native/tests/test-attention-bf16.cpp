/*
 * test-attention-bf16.cpp: attention() with bf16 K/V (the KV cache of bf16 models, docs/engine.md
 * "K/V dtype"). On random shapes (1..9 rows, GQA groups 1..8, head_dim 16..128 and 40, cached
 * lengths 0..300, causal and tree-masked with a fully masked row, with and without the pool):
 *  - the bf16 attention_ref equals the f32 attention_ref run on the widened copies bit for bit
 *    (widening is exact, so bf16 storage changes nothing but what is stored);
 *  - the dispatched bf16 attention equals the dispatched f32 attention on the widened copies bit for
 *    bit where both run the same operations (the AVX-512 tile kernel where it takes the shape; the
 *    generic kernel of attention-keyblocks.cpp without AVX-512), where it is the generic kernel
 *    equals its arithmetic written out one (row, head) at a time (attention_one_by_one) bit for
 *    bit, and is within 1e-5 of attention_ref (relative to each output's largest element) everywhere;
 *  - a row's output is bit for bit the same alone, in a causal batch and in a tree-masked batch, in
 *    any thread split (greedy ReDrafter == plain greedy relies on it);
 *  - the dot / axpy helpers equal their f32 counterparts on widened copies (every length 0..70), and
 *    the generic attention's block loops (attention_dots_avx2, axpys_f32_avx2, their AVX-512VL and
 *    in-place bf16 versions) equal one dot per (query, key) and one axpy per key, and the softmax's
 *    scaling passes on AVX2 equal the scalar loops; the whole attention with the block loops an
 *    AVX2 CPU without AVX-512 gets equals the oracle as well.
 */
#include <algorithm>
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

std::vector<uint16_t> to_bf16(const std::vector<float> & x) {
    std::vector<uint16_t> b(x.size());
    for (size_t i = 0; i < x.size(); ++i) b[i] = f32_to_bf16(x[i]);
    return b;
}

std::vector<float> widen(const std::vector<uint16_t> & b) {
    std::vector<float> x(b.size());
    for (size_t i = 0; i < b.size(); ++i) x[i] = bf16_to_f32(b[i]);
    return x;
}

int g_cases = 0;
const bool g_avx512 = kernel_path_supported(KERNEL_PATH_AVX512);
// Without AVX-512 the f32 generic kernel runs the AVX2 helpers the bf16 one does (on AVX-512 CPUs
// its f32 dot is the AVX-512 one: other sums).
const bool g_generic_f32 = std::strcmp(kernel_best_path_name(), "avx2") == 0 || reference_path();

void check_case(int64_t n, int n_head_kv, int group, int head_dim, int64_t kv_len, bool masked, thread_pool * pool,
                std::mt19937 & rng) {
    const int n_head = n_head_kv * group;
    const int64_t total = kv_len + n;
    const int64_t q_dim = int64_t(n_head) * head_dim, kv_dim = int64_t(n_head_kv) * head_dim;
    const std::vector<float> q = randn(static_cast<size_t>(n * q_dim), rng, 1.5f);
    const std::vector<uint16_t> kb = to_bf16(randn(static_cast<size_t>(total * kv_dim), rng));
    const std::vector<uint16_t> vb = to_bf16(randn(static_cast<size_t>(total * kv_dim), rng));
    const std::vector<float> kw = widen(kb), vw = widen(vb);
    std::vector<uint8_t> mask;
    if (masked) mask = make_mask(n, kv_len, n >= 3 ? 1 : (n == 2 && kv_len > 0) || kv_len == 17 ? 0 : -1, rng);
    const uint8_t * mp = masked ? mask.data() : nullptr;
    const size_t sz = static_cast<size_t>(n * q_dim);
    std::vector<float> ref_b(sz, 7.0f), ref_f(sz, 7.0f), out_b(sz, 7.0f), out_f(sz, 7.0f);
    attention_ref(ref_b.data(), q.data(), kb.data(), vb.data(), kv_len, n, n_head, n_head_kv, head_dim, mp);
    attention_ref(ref_f.data(), q.data(), kw.data(), vw.data(), kv_len, n, n_head, n_head_kv, head_dim, mp);
    attention(out_b.data(), q.data(), kb.data(), vb.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, pool);
    attention(out_f.data(), q.data(), kw.data(), vw.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, pool);
    // the forced reference path of the bf16 entry point is attention_ref
    std::vector<float> forced(sz, 7.0f);
    attention(forced.data(), q.data(), kb.data(), vb.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, pool, KERNEL_PATH_REF);
    std::vector<float> direct(sz, 7.0f);
    attention_one_by_one(direct.data(), q.data(), kb.data(), vb.data(), kv_len, n, n_head, n_head_kv, head_dim, mp,
                         dot_f32_bf16, axpy_f32_bf16);
    // what a CPU with AVX2 but not AVX-512 runs (two-output sums 32 floats at a time; its tasks of
    // few queries read K/V in place with the AVX2 loops): the same bits as the oracle too
    bool avx2_same = true;
    if (kernel_path_supported(KERNEL_PATH_AVX2)) {
        const attention_block_ops avx2_ops{attention_dots_avx2,      axpys_f32_avx2,          axpys2_f32_avx2,
                                           attention_widen_bf16_avx2, exp_shifted_avx2,        attention_scale_max_avx2,
                                           attention_scale_avx2,      attention_dots_bf16_avx2, axpys_bf16_avx2,
                                           axpys2_bf16_avx2};
        std::vector<const uint16_t *> kr(static_cast<size_t>(total)), vr(static_cast<size_t>(total));
        for (int64_t j = 0; j < total; ++j) kr[j] = kb.data() + j * kv_dim, vr[j] = vb.data() + j * kv_dim;
        std::vector<float> out_avx2(sz, 7.0f);
        attention_keyblocks(out_avx2.data(), q.data(), kr.data(), vr.data(), kv_len, n, n_head, n_head_kv, head_dim, mp, pool,
                            avx2_ops);
        avx2_same = same_bits(out_avx2, direct);
    }
    bool zero_rows_ok = true;
    const double max_rel = attention_max_rel(out_b, ref_b, mask, masked, n, total, n_head, head_dim, zero_rows_ok);
    const bool ref_same = same_bits(ref_b, ref_f) && same_bits(forced, ref_b);
    const bool tiles = attention_runs_tiles(n_head, n_head_kv, head_dim);
    const bool generic_same = !(tiles || g_generic_f32) || same_bits(out_b, out_f);
    // where the generic kernel runs, its bits; on the reference path (no AVX2) attention_ref's, which it is
    const bool direct_same = tiles || same_bits(out_b, reference_path() ? ref_b : direct);
    ++g_cases;
    if (!(max_rel <= 1e-5) || !zero_rows_ok || !ref_same || !generic_same || !direct_same || !avx2_same)
        std::fprintf(stderr, "n %lld kv heads %d group %d head_dim %d kv_len %lld %s %s: max rel err %g%s%s%s%s%s\n", (long long)n,
                     n_head_kv, group, head_dim, (long long)kv_len, masked ? "mask" : "causal", pool ? "pool" : "1 thread",
                     max_rel, zero_rows_ok ? "" : ", fully masked row not zero", ref_same ? "" : ", bf16 ref != f32 ref on widened K/V",
                     generic_same ? "" : ", bf16 != f32 on widened K/V",
                     direct_same ? "" : ", != one (row, head) at a time", avx2_same ? "" : ", AVX2-only loops != one (row, head) at a time");
    CHECK(max_rel <= 1e-5);
    CHECK(zero_rows_ok);
    CHECK(ref_same);
    CHECK(generic_same);
    CHECK(direct_same);
    CHECK(avx2_same);
}

void check_batch_invariance(int64_t n, int n_head_kv, int group, int head_dim, int64_t kv_len, thread_pool * pool,
                            std::mt19937 & rng) {
    const int n_head = n_head_kv * group;
    const int64_t total = kv_len + n;
    const int64_t q_dim = int64_t(n_head) * head_dim, kv_dim = int64_t(n_head_kv) * head_dim;
    const std::vector<float> q = randn(static_cast<size_t>(n * q_dim), rng);
    const std::vector<uint16_t> k = to_bf16(randn(static_cast<size_t>(total * kv_dim), rng));
    const std::vector<uint16_t> v = to_bf16(randn(static_cast<size_t>(total * kv_dim), rng));
    std::vector<float> batch(static_cast<size_t>(n * q_dim)), tree(static_cast<size_t>(n * q_dim)), one(static_cast<size_t>(q_dim));
    attention(batch.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, nullptr, pool);
    std::vector<uint8_t> causal(static_cast<size_t>(n * total), 0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j <= kv_len + i; ++j) causal[i * total + j] = 1;
    attention(tree.data(), q.data(), k.data(), v.data(), kv_len, n, n_head, n_head_kv, head_dim, causal.data(), pool);
    bool same = true;
    for (int64_t i = 0; i < n; ++i) {
        attention(one.data(), q.data() + i * q_dim, k.data(), v.data(), kv_len + i, 1, n_head, n_head_kv, head_dim, nullptr, nullptr);
        for (int64_t c = 0; c < q_dim; ++c) same = same && one[c] == batch[i * q_dim + c] && one[c] == tree[i * q_dim + c];
    }
    ++g_cases;
    if (!same)
        std::fprintf(stderr, "bf16 batch invariance: n %lld kv heads %d group %d head_dim %d kv_len %lld: a row differs\n",
                     (long long)n, n_head_kv, group, head_dim, (long long)kv_len);
    CHECK(same);
}

// dot / axpy with a bf16 operand equal the f32 ones (the dispatched path and the reference) on the
// widened operand, for every length through two vectors and a tail.
void check_helpers(std::mt19937 & rng) {
    int bad = 0;
    for (int64_t len = 0; len <= 70; ++len) {
        const std::vector<float> a = randn(static_cast<size_t>(len), rng);
        const std::vector<uint16_t> b = to_bf16(randn(static_cast<size_t>(len), rng));
        const std::vector<float> bw = widen(b);
        if (dot_f32_bf16_ref(a.data(), b.data(), len) != dot_f32_ref(a.data(), bw.data(), len)) ++bad;
        if (kernel_path_supported(KERNEL_PATH_AVX2) &&
            dot_f32_bf16_avx2(a.data(), b.data(), len) != dot_f32_avx2(a.data(), bw.data(), len)) ++bad;
        std::vector<float> y1 = randn(static_cast<size_t>(len), rng), y2 = y1, y3 = y1, y4 = y1;
        axpy_f32_bf16_ref(y1.data(), 0.375f, b.data(), len);
        axpy_f32_ref(y2.data(), 0.375f, bw.data(), len);
        if (!same_bits(y1, y2)) ++bad;
        if (kernel_path_supported(KERNEL_PATH_AVX2)) {
            axpy_f32_bf16_avx2(y3.data(), 0.375f, b.data(), len);
            axpy_f32_avx2(y4.data(), 0.375f, bw.data(), len);
            if (!same_bits(y3, y4)) ++bad;
        }
        // the dispatched ones are one of the two
        const float d = dot_f32_bf16(a.data(), b.data(), len);
        if (d != dot_f32_bf16_ref(a.data(), b.data(), len) &&
            !(kernel_path_supported(KERNEL_PATH_AVX2) && d == dot_f32_bf16_avx2(a.data(), b.data(), len))) ++bad;
        ++g_cases;
    }
    if (bad) std::fprintf(stderr, "bf16 dot/axpy helpers: %d mismatches\n", bad);
    CHECK(bad == 0);
}

// axpys2 (AVX2, and AVX-512VL where the CPU has it) from outputs y0 / y1 with weights a / b over
// rows (at offset off): how many of them differ in any bit from e0 / e1, the successive one-row
// axpys' results.
template <class T>
using axpys2_fn = void (*)(float *, float *, const float *, const float *, const T * const *, int64_t, int64_t, int64_t);
template <class T>
int two_output_mismatches(axpys2_fn<T> avx2, axpys2_fn<T> avx512vl, const std::vector<float> & y0, const std::vector<float> & y1,
                          const std::vector<float> & a, const std::vector<float> & b, const std::vector<const T *> & rows,
                          int64_t off, int64_t len, const std::vector<float> & e0, const std::vector<float> & e1) {
    int bad = 0;
    for (bool wide512 : {false, true}) {
        if (wide512 && !g_avx512) continue;
        std::vector<float> u = y0, v = y1;
        (wide512 ? avx512vl : avx2)(u.data(), v.data(), a.data(), b.data(), rows.data(), off, static_cast<int64_t>(rows.size()), len);
        if (!same_bits(u, e0) || !same_bits(v, e1)) ++bad;
    }
    return bad;
}

// The generic attention's block loops (attention-avx2.cpp: AVX2, and the AVX-512VL versions where
// the CPU has them) equal one dot per (query, key) and one axpy per key in key order, bit for bit:
// query counts around the pairs and fours, key counts around the tiles of four and eight, head
// sizes around the 64-float register block (and ones with a scalar tail); scores written at a row
// stride wider than the block, value rows read at an offset into each pointed-to row (a head's
// part of a slot's V row); and the AVX2 widening of bf16 rows is exact.
void check_block_loops(std::mt19937 & rng) {
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) return;
    int bad = 0;
    for (int64_t len : {8, 16, 24, 32, 40, 48, 56, 64, 72, 88, 120, 128, 136, 7, 13, 65})
        for (int64_t nq : {1, 2, 3, 4, 5, 7, 9})
            for (int64_t count = 0; count <= 17; ++count) {
                const std::vector<float> qv = randn(static_cast<size_t>(nq * len), rng);
                const std::vector<float> kb = randn(static_cast<size_t>(count * len), rng);
                std::vector<const float *> qs;
                for (int64_t i = 0; i < nq; ++i) qs.push_back(qv.data() + i * len);
                const int64_t lds = count + 3;
                for (bool wide : {false, true}) {
                    if (wide && !g_avx512) continue;
                    std::vector<float> s(static_cast<size_t>(nq * lds), 7.0f);
                    if (wide) attention_dots_avx512vl(s.data(), lds, qs.data(), nq, kb.data(), count, len);
                    else attention_dots_avx2(s.data(), lds, qs.data(), nq, kb.data(), count, len);
                    for (int64_t i = 0; i < nq; ++i) {
                        for (int64_t j = 0; j < count; ++j)
                            if (s[i * lds + j] != dot_f32_avx2(qs[i], kb.data() + j * len, len)) ++bad;
                        for (int64_t j = count; j < lds; ++j)
                            if (s[i * lds + j] != 7.0f) ++bad;  // nothing past the block
                    }
                }
                std::vector<std::vector<float>> xf;
                std::vector<const float *> px;
                for (int64_t j = 0; j < count; ++j) xf.push_back(randn(static_cast<size_t>(len + 5), rng));
                for (int64_t j = 0; j < count; ++j) px.push_back(xf[j].data());
                const std::vector<float> a = randn(static_cast<size_t>(count), rng);
                std::vector<float> y1 = randn(static_cast<size_t>(len), rng), y2 = y1;
                axpys_f32_avx2(y1.data(), a.data(), px.data(), 5, count, len);
                for (int64_t j = 0; j < count; ++j) axpy_f32_avx2(y2.data(), a[j], px[j] + 5, len);
                if (!same_bits(y1, y2)) ++bad;
                // two outputs at once (rows read from their start), and the widening of bf16 rows
                const std::vector<float> b = randn(static_cast<size_t>(count), rng);
                std::vector<float> z1 = randn(static_cast<size_t>(len), rng), z2 = z1, w1 = randn(static_cast<size_t>(len), rng),
                                   w2 = w1;
                for (int64_t j = 0; j < count; ++j) {
                    axpy_f32_avx2(z2.data(), a[j], px[j], len);
                    axpy_f32_avx2(w2.data(), b[j], px[j], len);
                }
                bad += two_output_mismatches(axpys2_f32_avx2, axpys2_f32_avx512vl, z1, w1, a, b, px, 0, len, z2, w2);
                std::vector<std::vector<uint16_t>> xb;
                std::vector<const uint16_t *> pb;
                for (int64_t j = 0; j < count; ++j) xb.push_back(to_bf16(xf[j]));
                for (int64_t j = 0; j < count; ++j) pb.push_back(xb[j].data());
                std::vector<float> wide(static_cast<size_t>(count * len), 7.0f);
                attention_widen_bf16_avx2(wide.data(), pb.data(), 5, count, len);
                for (int64_t j = 0; j < count; ++j)
                    for (int64_t c = 0; c < len; ++c)
                        if (wide[j * len + c] != bf16_to_f32(xb[j][5 + c])) ++bad;
                // the same loops on the bf16 rows in place (at offset 5): the one-row bf16 helpers' bits
                for (bool wide512 : {false, true}) {
                    if (wide512 && !g_avx512) continue;
                    std::vector<float> s(static_cast<size_t>(nq * lds), 7.0f);
                    if (wide512) attention_dots_bf16_avx512vl(s.data(), lds, qs.data(), nq, pb.data(), 5, count, len);
                    else attention_dots_bf16_avx2(s.data(), lds, qs.data(), nq, pb.data(), 5, count, len);
                    for (int64_t i = 0; i < nq; ++i) {
                        for (int64_t j = 0; j < count; ++j)
                            if (s[i * lds + j] != dot_f32_bf16_avx2(qs[i], pb[j] + 5, len)) ++bad;
                        for (int64_t j = count; j < lds; ++j)
                            if (s[i * lds + j] != 7.0f) ++bad;
                    }
                }
                std::vector<float> u1 = randn(static_cast<size_t>(len), rng), u2 = u1, v1 = randn(static_cast<size_t>(len), rng),
                                   v2 = v1, u3 = u1;
                axpys_bf16_avx2(u1.data(), a.data(), pb.data(), 5, count, len);
                for (int64_t j = 0; j < count; ++j) {
                    axpy_f32_bf16_avx2(u2.data(), a[j], pb[j] + 5, len);
                    axpy_f32_bf16_avx2(v2.data(), b[j], pb[j] + 5, len);
                }
                if (!same_bits(u1, u2)) ++bad;
                bad += two_output_mismatches(axpys2_bf16_avx2, axpys2_bf16_avx512vl, u3, v1, a, b, pb, 5, len, u2, v2);
                ++g_cases;
            }
    if (bad) std::fprintf(stderr, "attention block loops: %d mismatches\n", bad);
    CHECK(bad == 0);
}

// The softmax's scaling passes on AVX2 equal the scalar loops: the products bit for bit, the max
// the same value (NaN scores passed over, -inf for an empty or all-NaN row), every length 0..70.
void check_scale_passes(std::mt19937 & rng) {
    if (!kernel_path_supported(KERNEL_PATH_AVX2)) return;
    int bad = 0;
    for (int64_t len = 0; len <= 70; ++len)
        for (int nan_at : {-1, 0, 5, 17, 69}) {
            std::vector<float> x = randn(static_cast<size_t>(len), rng);
            if (nan_at >= 0 && nan_at < len) x[static_cast<size_t>(nan_at)] = NAN;
            std::vector<float> y = x, z = x;
            const float scale = 0.125f + static_cast<float>(len) / 64.0f;
            float want = -INFINITY;
            for (auto & v : y) {
                v *= scale;
                want = std::max(want, v);
            }
            const float got = attention_scale_max_avx2(z.data(), len, scale);
            if (!same_bits(y, z) || !(got == want)) ++bad;
            attention_scale_avx2(z.data(), len, 1.0f / 3.0f);
            for (auto & v : y) v *= 1.0f / 3.0f;
            if (!same_bits(y, z)) ++bad;
        }
    std::vector<float> all_nan(9, NAN);
    if (attention_scale_max_avx2(all_nan.data(), 9, 2.0f) != -INFINITY) ++bad;
    if (bad) std::fprintf(stderr, "softmax scaling passes: %d mismatches\n", bad);
    CHECK(bad == 0);
}

}  // namespace

int main() {
    std::mt19937 rng(11);
    thread_pool pool(2);
    std::fprintf(stderr, "best path: %s (head_dim 64, 2 KV heads x 4: %s kernel)\n", kernel_best_path_name(),
                 attention_runs_tiles(8, 2, 64) ? "tile" : "generic");
    check_helpers(rng);
    check_block_loops(rng);
    check_scale_passes(rng);
    for (int head_dim : {32, 64, 128, 40})
        for (int group : {1, 2, 4, 8})
            for (int64_t kv_len : {0, 1, 15, 16, 17, 300})
                for (int64_t n : {1, 2, 3, 5, 9})
                    for (bool masked : {false, true}) {
                        const int n_head_kv = (n + group + kv_len) % 3 == 0 ? 1 : 2;
                        check_case(n, n_head_kv, group, head_dim, kv_len, masked, (n + kv_len) % 2 ? &pool : nullptr, rng);
                    }
    for (int head_dim : {16, 48, 80})
        for (int group : {1, 3, 7})
            for (int64_t kv_len : {0, 17, 300})
                for (int64_t n : {1, 2, 9})
                    for (bool masked : {false, true}) check_case(n, 2, group, head_dim, kv_len, masked, n % 2 ? &pool : nullptr, rng);
    check_case(64, 2, 7, 64, 900, false, &pool, rng);
    check_case(33, 2, 7, 64, 40, true, &pool, rng);
    // a context so long that one row's scores over the group pass a task's budget: fewer heads per task
    check_case(3, 1, 8, 32, 9000, true, &pool, rng);
    check_case(2, 1, 8, 32, 9000, false, nullptr, rng);
    for (int head_dim : {32, 64})
        for (int group : {1, 2, 7})
            for (int64_t n : {2, 3, 5, 16})
                for (int64_t kv_len : {0, 17, 300}) check_batch_invariance(n, 2, group, head_dim, kv_len, n % 2 ? &pool : nullptr, rng);
    std::fprintf(stderr, "%d bf16 attention cases\n", g_cases);
    return test_summary("test-attention-bf16");
}
