/*
 * test-kv-pool.cpp: the KV block pool (core/kv-pool.h) and prefix sharing across sessions
 * (core/kv-share.h, the decode loop's prefill). Part 1, the pool alone: the hash chain, sharing of
 * a common first block, exact matching, the byte budget, least-recently-used eviction that never
 * takes a held block, refusal when everything is held, off at budget 0, leaves evicted before
 * their ancestors; four threads at once (contents intact, budget kept, holds balanced).
 * Part 2, the engine: several documents edited at random, interleaved, served by two sessions
 * that keep switching documents (and are now and then freed and made anew), with the pool on (a roomy and a tiny budget) give greedy tokens
 * AND final logits bit-identical to a cold engine (a fresh session per request, pool off), on the
 * tiny random model and on stories260K; the pool really supplied positions; a second document that
 * starts alike finds the first one's blocks; ReDrafter rounds on shared blocks stay exact.
 */
#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include "api/engine-internal.h"
#include "core/kv-pool.h"
#include "kernels/kernels.h"
#include "engine-redrafter.h"
#include "run-generation.h"
#include "stories-drafters.h"
#include "test-util.h"
#include "tiny-model.h"

// ---- part 1: the pool alone ----------------------------------------------------------------------

namespace {

// n_layer 1, kv_dim 2: a block is (1, 2, 16, 2) = 64 floats, 256 bytes. Block b of a sequence is
// filled with (first token + b) so its content says where it came from.
std::vector<int32_t> seq(int32_t base, int n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = base + i;
    return t;
}

int64_t publish(kv_pool & p, const std::vector<int32_t> & t) {
    return p.publish(t.data(), static_cast<int64_t>(t.size()) / KV_BLOCK_TOKENS, [&](int64_t b, unsigned char * bytes) {
        float * dst = reinterpret_cast<float *>(bytes);
        for (size_t i = 0; i < p.block_elems(); ++i) dst[i] = static_cast<float>(t[static_cast<size_t>(b * KV_BLOCK_TOKENS)] + b);
    });
}

void test_pool_alone() {
    kv_pool p(1, 2, 4, 3 * 256);
    CHECK(p.block_bytes() == 256);
    const std::vector<int32_t> a = seq(100, 32);  // blocks a0 a1
    std::vector<int32_t> b = a;                   // b0 == a0, b1 differs
    b[20] = 7;
    CHECK(publish(p, a) == 2);
    CHECK(publish(p, b) == 2);
    CHECK(p.stats().blocks == 3);  // a0 shared
    CHECK(p.stats().bytes == 3 * 256);
    // lookups: exact chains only
    std::vector<int32_t> ids = p.lookup(a.data(), 32, 10);
    CHECK(ids.size() == 2);
    if (ids.size() == 2) {
        CHECK(static_cast<const float *>(p.data(ids[0]))[0] == 100.0f);
        CHECK(static_cast<const float *>(p.data(ids[1]))[5] == 117.0f);
    }
    p.release(ids);
    ids = p.lookup(b.data(), 32, 10);
    CHECK(ids.size() == 2);
    p.release(ids);
    ids = p.lookup(a.data(), 31, 10);  // one full block only
    CHECK(ids.size() == 1);
    p.release(ids);
    ids = p.lookup(a.data(), 32, 1);  // capped
    CHECK(ids.size() == 1);
    p.release(ids);
    std::vector<int32_t> c = a;
    c[3] = 9;  // block 0 differs: nothing, even though block 1's tokens match a1's
    ids = p.lookup(c.data(), 32, 10);
    CHECK(ids.empty());
    p.release(ids);

    // eviction: hold a's chain; a new sequence d (2 blocks) must evict b1 only, then be refused
    ids = p.lookup(a.data(), 32, 10);
    CHECK(ids.size() == 2);
    const std::vector<int32_t> d = seq(300, 32);
    CHECK(publish(p, d) == 1);  // d0 takes b1's room; d1 has no unheld block left to evict
    kv_pool_stats st = p.stats();
    CHECK(st.bytes <= 3 * 256);
    CHECK(st.evictions == 1);
    CHECK(st.refused == 1);
    CHECK(st.held == 2);
    CHECK(static_cast<const float *>(p.data(ids[0]))[0] == 100.0f);  // the held blocks are intact
    CHECK(static_cast<const float *>(p.data(ids[1]))[0] == 117.0f);
    std::vector<int32_t> lb = p.lookup(b.data(), 32, 10);
    CHECK(lb.size() == 1);  // b0 (== a0) still there, b1 gone
    p.release(lb);
    p.release(ids);
    CHECK(p.stats().held == 0);

    // least recently used first (a lookup leaves its chain's root most recent): resident a0 a1 d0;
    // lookup(d) touches d0, so e0 evicts a1, the least recently used unheld leaf
    ids = p.lookup(d.data(), 32, 10);
    p.release(ids);
    const std::vector<int32_t> e = seq(500, 16);
    CHECK(publish(p, e) == 1);
    ids = p.lookup(a.data(), 32, 10);
    CHECK(ids.size() == 1);  // a0 kept, a1 evicted
    p.release(ids);
    ids = p.lookup(d.data(), 16, 10);
    CHECK(ids.size() == 1);
    p.release(ids);

    // leaves go before their ancestors: f0 f1 resident, a new block evicts f1 and f0 stays found
    kv_pool q(1, 2, 4, 2 * 256);
    const std::vector<int32_t> f = seq(700, 32);
    CHECK(publish(q, f) == 2);
    const std::vector<int32_t> g = seq(900, 16);
    CHECK(publish(q, g) == 1);
    ids = q.lookup(f.data(), 32, 10);
    CHECK(ids.size() == 1);
    q.release(ids);
    CHECK(q.stats().evictions == 1);

    // a publisher that keeps its own copy (recent = false): its new blocks go out first
    kv_pool r(1, 2, 4, 2 * 256);
    const std::vector<int32_t> h = seq(1100, 16), i2 = seq(1300, 16), j = seq(1500, 16);
    CHECK(publish(r, h) == 1);
    CHECK(r.publish(i2.data(), 1, [](int64_t, unsigned char * dst) { dst[0] = 0; }, false) == 1);
    CHECK(publish(r, j) == 1);  // evicts i2 (least recently used end), not h
    ids = r.lookup(h.data(), 16, 1);
    CHECK(ids.size() == 1);
    r.release(ids);
    CHECK(r.lookup(i2.data(), 16, 1).empty());

    // budget 0: off
    p.set_budget(0);
    CHECK(p.stats().blocks == 0);
    CHECK(p.stats().bytes == 0);
    CHECK(p.lookup(a.data(), 32, 10).empty());
    CHECK(publish(p, a) == 0);
    // a budget below one block refuses, never crashes
    p.set_budget(100);
    CHECK(publish(p, a) == 0);
    CHECK(p.stats().bytes == 0);
}

// Four threads publishing, looking up and reading blocks of overlapping sequences at once under a
// small budget: every block read holds what its tokens say, the budget holds, the counts add up.
void test_pool_threads() {
    kv_pool p(1, 2, 4, 6 * 256);
    std::atomic<int> bad{0};
    std::atomic<int> found{0};
    auto work = [&](uint32_t seed) {
        std::mt19937 rng(seed);
        for (int it = 0; it < 3000; ++it) {
            // 8 sequences of 3 blocks sharing their first block in pairs
            const int k = static_cast<int>(rng() % 8);
            std::vector<int32_t> t = seq(10000 * (k / 2), 48);
            t[20] = k;  // block 1 differs within a pair
            if (rng() % 2) {
                p.publish(t.data(), 3, [&](int64_t b, unsigned char * bytes) {
                    float * dst = reinterpret_cast<float *>(bytes);
                    for (size_t i = 0; i < p.block_elems(); ++i) dst[i] = static_cast<float>(t[static_cast<size_t>(b * 16)] * 3 + b);
                });
            } else {
                const std::vector<int32_t> ids = p.lookup(t.data(), 48, 3);
                for (size_t b = 0; b < ids.size(); ++b) {
                    const float * d = static_cast<const float *>(p.data(ids[b]));
                    const float want = static_cast<float>(t[b * 16] * 3 + static_cast<int64_t>(b));
                    if (d[0] != want || d[p.block_elems() - 1] != want) bad++;
                }
                found += static_cast<int>(ids.size());
                p.release(ids);
            }
            if (p.stats().bytes > 6 * 256) bad++;
        }
    };
    std::vector<std::thread> ts;
    for (uint32_t i = 0; i < 4; ++i) ts.emplace_back(work, 100 + i);
    for (auto & t : ts) t.join();
    const kv_pool_stats st = p.stats();
    CHECK(bad == 0);
    CHECK(found > 0);
    CHECK(st.held == 0);
    CHECK(st.bytes <= 6 * 256);
    CHECK(st.hits == found);
    std::fprintf(stderr, "pool threads: %d blocks found, %lld inserted, %lld evictions, %lld refused\n", found.load(),
                 (long long)st.inserted, (long long)st.evictions, (long long)st.refused);
}

// ---- part 2: the engine --------------------------------------------------------------------------

struct doc_edits {
    std::mt19937 rng;
    int n_vocab;
    std::vector<std::vector<int32_t>> docs;
    doc_edits(uint32_t seed, int vocab, int n_docs, int header, int max_len) : rng(seed), n_vocab(vocab), max_len_(max_len) {
        std::vector<int32_t> head;
        for (int i = 0; i < header; ++i) head.push_back(tok());
        for (int d = 0; d < n_docs; ++d) {
            std::vector<int32_t> t = head;
            const int body = 5 + static_cast<int>(rng() % 40);
            for (int i = 0; i < body; ++i) t.push_back(tok());
            docs.push_back(t);
        }
    }
    int32_t tok() { return 1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab - 1)); }
    // One edit of document d, mostly near its end (typing), sometimes anywhere.
    void edit(int d) {
        std::vector<int32_t> & t = docs[static_cast<size_t>(d)];
        const int kind = static_cast<int>(rng() % 10);
        const size_t n = t.size();
        size_t at = kind < 7 ? n - std::min<size_t>(n - 1, rng() % 4) : 1 + rng() % (n - 1);
        if (kind < 5 || n < 8) {
            const int k = 1 + static_cast<int>(rng() % 3);
            for (int i = 0; i < k; ++i) t.insert(t.begin() + static_cast<long>(std::min(at, t.size())), tok());
        } else if (kind < 8) {
            const size_t k = std::min<size_t>(1 + rng() % 3, t.size() - at);
            if (at < t.size()) t.erase(t.begin() + static_cast<long>(at), t.begin() + static_cast<long>(at + k));
        } else {
            if (at >= t.size()) at = t.size() - 1;
            t[at] = tok();
        }
        if (t.size() > static_cast<size_t>(max_len_)) t.resize(static_cast<size_t>(max_len_));
    }
    int max_len_;
};

// Bitwise comparison of the last logits row each session computed.
bool same_logits(const engine_session * a, const engine_session * b) {
    const std::vector<float> & x = a->s.logits;
    const std::vector<float> & y = b->s.logits;
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Runs `rounds` random interleaved edits of n_docs documents: engine A (model a, pool at budget,
// two sessions picked at random, so they keep switching documents) against a cold engine (model
// cold, pool off, a fresh session per request). drafter_a / drafter_cold: ReDrafter rounds when set.
void run_interleaved(const char * what, engine_model * a, engine_model * cold, uint64_t budget, int rounds, uint32_t seed,
                     int max_ctx, const engine_drafter * drafter_a = nullptr, const engine_drafter * drafter_cold = nullptr) {
    CHECK(engine_model_set_kv_pool(a, budget) == ENGINE_STATUS_OK);
    CHECK(engine_model_set_kv_pool(cold, 0) == ENGINE_STATUS_OK);
    engine_model_info info;
    engine_model_get_info(a, &info);
    engine_session * ss[2] = {nullptr, nullptr};
    for (auto & s : ss) CHECK(engine_session_init(a, max_ctx, &s, nullptr, 0) == ENGINE_STATUS_OK);
    doc_edits ed(seed, info.n_vocab, 4, 37, max_ctx - 24);
    int mismatches = 0, logit_mismatches = 0, from_pool = 0, over_budget = 0;
    for (int r = 0; r < rounds; ++r) {
        const int d = static_cast<int>(ed.rng() % 4);
        ed.edit(d);
        const std::vector<int32_t> & prompt = ed.docs[static_cast<size_t>(d)];
        const size_t which = ed.rng() % 2;
        if (ed.rng() % 6 == 0) {  // the server drops a session: its blocks and tail stay in the pool
            engine_session_free(ss[which]);
            CHECK(engine_session_init(a, max_ctx, &ss[which], nullptr, 0) == ENGINE_STATUS_OK);
        }
        engine_session * s = ss[which];
        const int own = engine_session_reusable_prefix(s, prompt.data(), static_cast<int>(prompt.size()));
        engine_generation_params p = greedy_params(prompt, 6);
        if (drafter_a) {
            p.mode = ENGINE_DECODE_REDRAFTER;
            p.drafter = drafter_a;
        }
        const generation_run ra = run_generation(s, p);
        engine_session * c = nullptr;
        CHECK(engine_session_init(cold, max_ctx, &c, nullptr, 0) == ENGINE_STATUS_OK);
        if (drafter_cold) p.drafter = drafter_cold;
        const generation_run rc = run_generation(c, p);
        CHECK(ra.status == ENGINE_STATUS_OK && rc.status == ENGINE_STATUS_OK);
        if (ra.ids != rc.ids) ++mismatches;
        if (!same_logits(s, c)) ++logit_mismatches;
        CHECK(rc.stats.reused_tokens == 0);
        if (ra.stats.reused_tokens > own) ++from_pool;
        engine_kv_pool_stats ps;
        engine_model_get_kv_pool_stats(a, &ps);
        if (ps.bytes > ps.budget_bytes) ++over_budget;
        engine_session_free(c);
    }
    engine_kv_pool_stats ps;
    engine_model_get_kv_pool_stats(a, &ps);
    std::fprintf(stderr, "%s: %d rounds, %d mismatched ids, %d mismatched logits, %d prefills helped by the pool; pool %llu / %llu bytes, %lld blocks, %lld hits, %lld evictions, %lld refused\n",
                 what, rounds, mismatches, logit_mismatches, from_pool, (unsigned long long)ps.bytes,
                 (unsigned long long)ps.budget_bytes, (long long)ps.blocks, (long long)ps.hits, (long long)ps.evictions,
                 (long long)ps.refused);
    CHECK(mismatches == 0);
    CHECK(logit_mismatches == 0);
    CHECK(over_budget == 0);
    CHECK(from_pool > 0);  // the pool really supplied positions the session did not have
    CHECK(ps.hits > 0);
    for (auto & s : ss) engine_session_free(s);
}

// Two documents that start alike (48 tokens = 3 blocks): the second, on a fresh session, reuses the
// first one's blocks; a third that differs at token 20 reuses only block 0 (full blocks only: the
// partial block from the divergence on is recomputed, never shared or written).
void test_cross_document(engine_model * m) {
    CHECK(engine_model_set_kv_pool(m, 1 << 24) == ENGINE_STATUS_OK);
    engine_model_info info;
    engine_model_get_info(m, &info);
    std::mt19937 rng(5);
    std::vector<int32_t> x;
    for (int i = 0; i < 70; ++i) x.push_back(1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(info.n_vocab - 1)));
    std::vector<int32_t> y(x.begin(), x.begin() + 48);
    for (int i = 0; i < 10; ++i) y.push_back(1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(info.n_vocab - 1)));
    std::vector<int32_t> z = x;
    z[20] = x[20] % (info.n_vocab - 1) + 1;  // another id in 1..V-1
    engine_session *s1 = nullptr, *s2 = nullptr, *s3 = nullptr;
    CHECK(engine_session_init(m, 128, &s1, nullptr, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_init(m, 128, &s2, nullptr, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_init(m, 128, &s3, nullptr, 0) == ENGINE_STATUS_OK);
    const generation_run r1 = run_generation(s1, greedy_params(x, 3));
    CHECK(r1.stats.reused_tokens == 0);
    const generation_run r2 = run_generation(s2, greedy_params(y, 3));
    CHECK(r2.stats.reused_tokens == 48);
    const generation_run r3 = run_generation(s3, greedy_params(z, 3));
    CHECK(r3.stats.reused_tokens == 16);
    // and x again on s2 (which holds y): its own prefix is 48; the pool has x's 4 full blocks (64)
    const generation_run r4 = run_generation(s2, greedy_params(x, 3));
    CHECK(r4.stats.reused_tokens == 64);
    CHECK(r4.ids == r1.ids);
    engine_session_free(s1);
    engine_session_free(s2);
    engine_session_free(s3);
    CHECK(engine_model_set_kv_pool(m, 0) == ENGINE_STATUS_OK);
}

// Full pool blocks a prefill finds are read in place (held, not copied; attention_paged gives the
// contiguous attention's bits, f32 and bf16 K/V, tile kernel or generic): a fresh session
// on a published document holds its 4 full blocks; diverging at token 20 keeps block 0 in place and
// copies rows 16..19 of block 1 into the session before releasing it; every output (ids and the
// last logits row) equals a cold model's; freeing the sessions releases every hold.
void test_in_place(engine_model * m, engine_model * cold) {
    CHECK(engine_model_set_kv_pool(m, 1 << 24) == ENGINE_STATUS_OK);
    CHECK(engine_model_set_kv_pool(cold, 0) == ENGINE_STATUS_OK);
    engine_model_info info;
    engine_model_get_info(m, &info);
    std::mt19937 rng(9);
    std::vector<int32_t> x;
    for (int i = 0; i < 70; ++i) x.push_back(1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(info.n_vocab - 1)));
    std::vector<int32_t> z = x;
    z[20] = x[20] % (info.n_vocab - 1) + 1;
    engine_session *s1 = nullptr, *s2 = nullptr;
    CHECK(engine_session_init(m, 128, &s1, nullptr, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_init(m, 128, &s2, nullptr, 0) == ENGINE_STATUS_OK);
    auto cold_run = [&](const std::vector<int32_t> & prompt, const generation_run & got, engine_session * s) {
        engine_session * c = nullptr;
        CHECK(engine_session_init(cold, 128, &c, nullptr, 0) == ENGINE_STATUS_OK);
        const generation_run rc = run_generation(c, greedy_params(prompt, 8));
        CHECK(rc.status == ENGINE_STATUS_OK && got.status == ENGINE_STATUS_OK);
        CHECK(rc.ids == got.ids);
        CHECK(same_logits(s, c));
        engine_session_free(c);
    };
    run_generation(s1, greedy_params(x, 8));
    const generation_run r2 = run_generation(s2, greedy_params(x, 8));
    CHECK(r2.stats.reused_tokens == 64);
    CHECK(s2->s.kv.shared == 64);
    engine_kv_pool_stats ps;
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.held == 4);
    cold_run(x, r2, s2);
    const generation_run r3 = run_generation(s2, greedy_params(z, 8));  // truncates to 20: block 0 stays, rows 16..19 copied
    CHECK(r3.stats.reused_tokens == 20);
    CHECK(s2->s.kv.shared == 16);
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.held == 1);
    cold_run(z, r3, s2);
    const generation_run r4 = run_generation(s2, greedy_params(x, 8));  // back: its own 20, then copies of x's blocks
    CHECK(r4.stats.reused_tokens == 64);
    cold_run(x, r4, s2);
    engine_session_free(s1);
    engine_session_free(s2);
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.held == 0);
    std::fprintf(stderr, "in place (%s K/V, %s attention): held and read through the block table\n", info.kv_dtype,
                 attention_runs_tiles(info.n_head, info.n_head_kv, info.head_dim) ? "tile" : "generic");
    CHECK(engine_model_set_kv_pool(m, 0) == ENGINE_STATUS_OK);
}

// A session freed leaves its committed blocks in the pool (generated tokens included), its partial
// last block as a tail that a prompt diverging inside it uses up to the divergence; K/V a
// hand-driven forward committed with explicit positions or a mask are never published.
void test_free_and_exactness(engine_model * m) {
    CHECK(engine_model_set_kv_pool(m, 1 << 24) == ENGINE_STATUS_OK);
    engine_model_info info;
    engine_model_get_info(m, &info);
    std::vector<int32_t> p;
    for (int i = 0; i < 20; ++i) p.push_back(1 + (i * 7) % (info.n_vocab - 1));
    engine_session * a = nullptr;
    CHECK(engine_session_init(m, 128, &a, nullptr, 0) == ENGINE_STATUS_OK);
    const generation_run ra = run_generation(a, greedy_params(p, 20));
    CHECK(ra.ids.size() == 20);
    engine_kv_pool_stats ps;
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.blocks == 1);  // after the prefill: 20 prompt tokens, one full block
    engine_session_free(a);  // 39 committed (the 20th emitted token's KV is not): two blocks + a tail
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.blocks == 3);  // and the 7-token tail
    std::vector<int32_t> q = p;
    q.insert(q.end(), ra.ids.begin(), ra.ids.end());
    engine_session * b = nullptr;
    CHECK(engine_session_init(m, 128, &b, nullptr, 0) == ENGINE_STATUS_OK);
    const generation_run rb = run_generation(b, greedy_params(q, 4));
    CHECK(rb.stats.reused_tokens == 39);  // 2 full blocks + the freed session's 7-token tail (the 40th is computed)
    engine_session * b2 = nullptr;  // diverging inside the tail: its common rows only
    std::vector<int32_t> q2(q.begin(), q.begin() + 36);
    q2.push_back(q[36] % (info.n_vocab - 1) + 1);
    q2.push_back(3);
    CHECK(engine_session_init(m, 128, &b2, nullptr, 0) == ENGINE_STATUS_OK);
    const generation_run rb2 = run_generation(b2, greedy_params(q2, 2));
    CHECK(rb2.stats.reused_tokens == 36);
    engine_session * cold = nullptr;
    CHECK(engine_model_set_kv_pool(m, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_init(m, 128, &cold, nullptr, 0) == ENGINE_STATUS_OK);
    const generation_run rc2 = run_generation(cold, greedy_params(q2, 2));
    CHECK(rc2.ids == rb2.ids);
    CHECK(rc2.stats.reused_tokens == 0);
    engine_session_free(cold);
    engine_session_free(b2);
    CHECK(engine_model_set_kv_pool(m, 1 << 24) == ENGINE_STATUS_OK);
    engine_session_free(b);

    // explicit positions (shifted by 5): committed, but not what a prefill computes
    CHECK(engine_model_set_kv_pool(m, 0) == ENGINE_STATUS_OK);
    CHECK(engine_model_set_kv_pool(m, 1 << 24) == ENGINE_STATUS_OK);
    std::vector<int32_t> pos(40);
    std::vector<int32_t> t(40);
    for (int i = 0; i < 40; ++i) {
        pos[static_cast<size_t>(i)] = i + 5;
        t[static_cast<size_t>(i)] = 1 + (i * 11) % (info.n_vocab - 1);
    }
    engine_session * c = nullptr;
    CHECK(engine_session_init(m, 128, &c, nullptr, 0) == ENGINE_STATUS_OK);
    const int32_t last = 39;
    CHECK(engine_session_forward(c, t.data(), 40, pos.data(), nullptr, &last, 1, nullptr, nullptr) == ENGINE_STATUS_OK);
    engine_session_free(c);
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.blocks == 0);
    CHECK(engine_model_set_kv_pool(m, 0) == ENGINE_STATUS_OK);
}

// The K/V dtype follows the stored weights (bf16 file: bf16 K/V, f32 file: f32) unless forced
// (engine_model_params.kv); bf16 K/V take exactly half the bytes: a session's cache, a pool block
// and kv_bytes_per_token. An unknown name is refused.
void test_kv_dtype_bytes() {
    char err[512];
    for (bool bf16 : {false, true}) {
        tiny_spec spec;
        spec.vocab = 64;
        spec.bf16 = bf16;
        const std::string dir = write_tiny_model(spec, 13);
        const char * kinds[3] = {nullptr, "f32", "bf16"};
        engine_model * m[3] = {nullptr, nullptr, nullptr};
        engine_model_info info[3];
        engine_kv_pool_stats ps[3];
        size_t session_bytes[3] = {0, 0, 0};
        for (int i = 0; i < 3; ++i) {
            engine_model_params mp = engine_model_default_params();
            mp.n_threads = 1;
            mp.kv = kinds[i];
            CHECK(engine_model_init(dir.c_str(), &mp, &m[i], err, sizeof err) == ENGINE_STATUS_OK);
            if (!m[i]) return;
            engine_model_get_info(m[i], &info[i]);
            engine_model_get_kv_pool_stats(m[i], &ps[i]);
            engine_session * s = nullptr;
            CHECK(engine_session_init(m[i], 64, &s, nullptr, 0) == ENGINE_STATUS_OK);
            if (s) session_bytes[i] = s->s.kv.bytes;
            engine_session_free(s);
        }
        const uint64_t elems = uint64_t(2) * uint64_t(info[0].n_layer) * uint64_t(info[0].n_head_kv) * uint64_t(info[0].head_dim);
        CHECK(std::strcmp(info[0].kv_dtype, bf16 ? "bf16" : "f32") == 0);
        CHECK(std::strcmp(info[1].kv_dtype, "f32") == 0);
        CHECK(std::strcmp(info[2].kv_dtype, "bf16") == 0);
        CHECK(info[1].kv_bytes_per_token == elems * 4);
        CHECK(info[2].kv_bytes_per_token == elems * 2);
        CHECK(info[0].kv_bytes_per_token == (bf16 ? elems * 2 : elems * 4));
        CHECK(ps[1].block_bytes == 2 * ps[2].block_bytes);
        CHECK(ps[2].block_bytes == elems * 2 * KV_BLOCK_TOKENS);
        CHECK(session_bytes[2] > 0 && session_bytes[1] == 2 * session_bytes[2]);
        CHECK(session_bytes[0] == (bf16 ? session_bytes[2] : session_bytes[1]));
        std::fprintf(stderr, "%s tiny model: K/V %s by default; session cache %zu bytes (f32) vs %zu (bf16), %llu vs %llu per token\n",
                     bf16 ? "bf16" : "f32", info[0].kv_dtype, session_bytes[1], session_bytes[2],
                     (unsigned long long)info[1].kv_bytes_per_token, (unsigned long long)info[2].kv_bytes_per_token);
        for (auto * x : m) engine_model_free(x);
        if (bf16) {
            engine_model_params mp = engine_model_default_params();
            mp.kv = "f16";
            engine_model * bad = nullptr;
            CHECK(engine_model_init(dir.c_str(), &mp, &bad, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT);
            CHECK(bad == nullptr);
            CHECK(std::strstr(err, "K/V dtype") != nullptr);
        }
        remove_dir(dir);
    }
}

// bf16 K/V keep greedy ReDrafter == greedy plain decoding, bit for bit in the ids (every reader of
// a K/V row, the tree's own scratch rows included, reads the same rounded values). The drafter's
// heads are random, so each round also verifies two extra drafts: the plain continuation with one
// token changed at 7 (accepted up to it, the rest of that beam rejected) and the continuation
// from 12 on offset by one (a second branch): trees with accepted paths and rejected scratch rows.
void test_bf16_redrafter_parity(engine_model * m, const engine_drafter * d) {
    engine_model_info info;
    engine_model_get_info(m, &info);
    CHECK(std::strcmp(info.kv_dtype, "bf16") == 0);
    std::mt19937 rng(17);
    int same = 0, accepted_more = 0;
    for (int t = 0; t < 6; ++t) {
        std::vector<int32_t> prompt;
        const int len = 5 + static_cast<int>(rng() % 60);
        for (int i = 0; i < len; ++i) prompt.push_back(1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(info.n_vocab - 1)));
        engine_session *a = nullptr, *b = nullptr;
        CHECK(engine_session_init(m, 256, &a, nullptr, 0) == ENGINE_STATUS_OK);
        CHECK(engine_session_init(m, 256, &b, nullptr, 0) == ENGINE_STATUS_OK);
        engine_generation_params p = greedy_params(prompt, 40);
        const generation_run plain = run_generation(a, p);
        std::vector<int32_t> extra = plain.ids, lens = {static_cast<int32_t>(plain.ids.size())};
        if (extra.size() > 7) extra[7] = (extra[7] + 1) % info.n_vocab;
        if (plain.ids.size() > 12) {
            extra.insert(extra.end(), plain.ids.begin(), plain.ids.begin() + 12);
            extra.push_back((plain.ids[12] + 3) % info.n_vocab);
            extra.insert(extra.end(), plain.ids.begin() + 12, plain.ids.end());
            lens.push_back(static_cast<int32_t>(plain.ids.size()) + 1);
        }
        p.mode = ENGINE_DECODE_REDRAFTER;
        p.drafter = d;
        p.extra_tokens = extra.data();
        p.extra_lens = lens.data();
        p.n_extra = static_cast<int>(lens.size());
        const generation_run spec = run_generation(b, p);
        CHECK(plain.status == ENGINE_STATUS_OK && spec.status == ENGINE_STATUS_OK);
        same += plain.ids == spec.ids;
        for (const auto & st : spec.steps) accepted_more += st.accepted > 0;
        engine_session_free(a);
        engine_session_free(b);
    }
    std::fprintf(stderr, "stories260K bf16 K/V: ReDrafter == plain in %d of 6 prompts; %d steps accepted drafted tokens\n", same, accepted_more);
    CHECK(same == 6);
    CHECK(accepted_more > 0);  // the drafts were really verified through the tree
}

}  // namespace

int main() {
    test_pool_alone();
    test_pool_threads();
    engine_set_log_level(ENGINE_LOG_WARN);
    test_kv_dtype_bytes();
    char err[512];
    {
        tiny_spec spec;
        spec.vocab = 64;
        const std::string dir = write_tiny_model(spec, 11);
        engine_model_params mp = engine_model_default_params();
        mp.n_threads = 1;
        engine_model *a = nullptr, *cold = nullptr;
        CHECK(engine_model_init(dir.c_str(), &mp, &a, err, sizeof err) == ENGINE_STATUS_OK);
        CHECK(engine_model_init(dir.c_str(), &mp, &cold, err, sizeof err) == ENGINE_STATUS_OK);
        if (a && cold) {
            test_in_place(a, cold);
            test_cross_document(a);
            test_free_and_exactness(a);
            engine_kv_pool_stats ps;
            engine_model_get_kv_pool_stats(a, &ps);
            run_interleaved("tiny, roomy pool", a, cold, 1 << 24, 150, 1, 128);
            run_interleaved("tiny, 3-block pool", a, cold, 3 * ps.block_bytes, 150, 2, 128);
            engine_model_get_kv_pool_stats(a, &ps);
            CHECK(ps.evictions > 0);
        }
        engine_model_free(a);
        engine_model_free(cold);
        remove_dir(dir);
    }
    {
        stories_drafters f;
        if (!stories_drafters_init(f, 0)) {
            std::fprintf(stderr, "stories260K missing: skipping the stories part\n");
            return test_summary("test-kv-pool");
        }
        const std::string model_dir = fixtures_dir() + "/models/stories260K";
        engine_model_params mp = engine_model_default_params();
        mp.n_threads = 1;
        engine_model * cold = nullptr;
        engine_drafter * d_cold = nullptr;
        CHECK(engine_model_init(model_dir.c_str(), &mp, &cold, err, sizeof err) == ENGINE_STATUS_OK);
        CHECK(engine_drafter_init((f.root + "/a").c_str(), cold, &d_cold, err, sizeof err) == ENGINE_STATUS_OK);
        if (cold && d_cold) {
            test_in_place(f.model, cold);
            test_cross_document(f.model);
            test_free_and_exactness(f.model);
            engine_kv_pool_stats ps;
            engine_model_get_kv_pool_stats(f.model, &ps);
            run_interleaved("stories260K, roomy pool", f.model, cold, 1 << 26, 80, 3, 256);
            run_interleaved("stories260K, 4-block pool", f.model, cold, 4 * ps.block_bytes, 80, 4, 256);
            run_interleaved("stories260K ReDrafter, roomy pool", f.model, cold, 1 << 26, 40, 5, 256, f.d1, d_cold);
        }
        {
            // the same model with bf16 K/V forced: the pool's copies and ReDrafter stay exact
            engine_model_params mb = engine_model_default_params();
            mb.n_threads = 1;
            mb.kv = "bf16";
            engine_model *a16 = nullptr, *cold16 = nullptr;
            engine_drafter *da16 = nullptr, *dc16 = nullptr;
            CHECK(engine_model_init(model_dir.c_str(), &mb, &a16, err, sizeof err) == ENGINE_STATUS_OK);
            CHECK(engine_model_init(model_dir.c_str(), &mb, &cold16, err, sizeof err) == ENGINE_STATUS_OK);
            if (a16 && cold16) {
                CHECK(engine_drafter_init((f.root + "/a").c_str(), a16, &da16, err, sizeof err) == ENGINE_STATUS_OK);
                CHECK(engine_drafter_init((f.root + "/a").c_str(), cold16, &dc16, err, sizeof err) == ENGINE_STATUS_OK);
            }
            if (da16 && dc16) {
                test_in_place(a16, cold16);
                test_cross_document(a16);
                test_free_and_exactness(a16);
                run_interleaved("stories260K bf16 K/V, roomy pool", a16, cold16, 1 << 26, 60, 6, 256);
                engine_kv_pool_stats ps;
                engine_model_get_kv_pool_stats(a16, &ps);
                run_interleaved("stories260K bf16 K/V, 4-block pool", a16, cold16, 4 * ps.block_bytes, 60, 7, 256);
                run_interleaved("stories260K bf16 K/V ReDrafter, roomy pool", a16, cold16, 1 << 26, 30, 8, 256, da16, dc16);
                test_bf16_redrafter_parity(a16, da16);
            }
            engine_drafter_free(da16);
            engine_drafter_free(dc16);
            engine_model_free(a16);
            engine_model_free(cold16);
        }
        engine_drafter_free(d_cold);
        engine_model_free(cold);
        stories_drafters_free(f);
    }
    return test_summary("test-kv-pool");
}
