/*
 * test-lookup-drafts.cpp: lookup drafts (native/src/decode/lookup-drafts.h; docs/engine.md, "Lookup
 * drafts"). The draft source on hand-made texts: n-gram order (longest first), most recent
 * occurrence first, distinct drafts (prefixes of kept ones skipped), the caps, the text's end, no
 * hit. Through the C API's decode loop: greedy generations with lookup drafts (no drafter: drafts
 * rounds; with a drafter: extra beams) equal plain greedy decoding token for token on stories260K
 * and seeded tiny models (ctest repeats this on every capped kernel path), on texts that repeat
 * (lookup_accepted > 0 asserted), with a required prefix, with logprobs (the same bits), with a
 * small max_out; caller extra drafts in mode AR; sampled runs (valid ids, the same seed twice gives
 * the same output); refused params (bad ranges, lookup with branches).
 */
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "decode/lookup-drafts.h"
#include "run-generation.h"
#include "stories-drafters.h"
#include "test-util.h"
#include "tiny-engine.h"

namespace {

using ids = std::vector<int32_t>;

std::vector<ids> find(const ids & text, int min_n, int max_n, int max_drafts, int max_tokens) {
    lookup_params p;
    p.tokens = max_tokens;
    p.min_ngram = min_n;
    p.max_ngram = max_n;
    p.max_drafts = max_drafts;
    lookup_drafts d;
    lookup_find(text.data(), (int)text.size(), p, max_tokens, d);
    std::vector<ids> out;
    size_t off = 0;
    for (int i = 0; i < d.size(); ++i) {
        out.emplace_back(d.tokens.begin() + (long)off, d.tokens.begin() + (long)off + d.lens[(size_t)i]);
        off += (size_t)d.lens[(size_t)i];
    }
    return out;
}

void test_draft_source() {
    // text: 5 6 7 | 9 7 8 | 5 6 7 1 2 | 6 7 ; g0 = 7
    const ids t{5, 6, 7, 9, 7, 8, 5, 6, 7, 1, 2, 6, 7};
    // 3-gram "2 6 7": none; 2-gram "6 7": at 7 (-> 1 2 6 7 ...), at 1 (-> 9 7 8 5); 1-gram "7": at 8 (dup prefix), 4 (-> 8 5 6), 2 (dup)
    CHECK((find(t, 1, 3, 8, 3) == std::vector<ids>{{7, 1, 2, 6}, {7, 9, 7, 8}, {7, 8, 5, 6}}));
    // max_drafts caps, longest n-gram first
    CHECK((find(t, 1, 3, 1, 3) == std::vector<ids>{{7, 1, 2, 6}}));
    CHECK((find(t, 1, 1, 8, 3) == std::vector<ids>{{7, 1, 2, 6}, {7, 8, 5, 6}, {7, 9, 7, 8}}));  // most recent first
    // the draft length cap, and the text's end (the occurrence at 7 runs into the end: 1 2 6 7)
    CHECK((find(t, 2, 2, 8, 1) == std::vector<ids>{{7, 1}, {7, 9}}));
    CHECK((find(t, 2, 2, 8, 10) == std::vector<ids>{{7, 1, 2, 6, 7}, {7, 9, 7, 8, 5, 6, 7, 1, 2, 6, 7}}));
    // distinct: a repeated continuation gives one draft; a prefix of a kept draft is skipped
    const ids r{1, 2, 3, 1, 2, 3, 1, 2};  // "1 2" at 3 (-> 3 1 2) and at 0 (-> 3 1 2 ...)
    CHECK((find(r, 2, 2, 8, 3) == std::vector<ids>{{2, 3, 1, 2}}));
    CHECK((find(r, 2, 2, 8, 2) == std::vector<ids>{{2, 3, 1}}));
    // no hit; one token (nothing before g0); an n-gram longer than the text
    CHECK(find({1, 2, 3, 4}, 1, 3, 8, 5).empty());
    CHECK(find({4}, 1, 3, 8, 5).empty());
    CHECK((find({4, 4}, 1, 16, 8, 5) == std::vector<ids>{{4, 4}}));
    // g0 first in every draft; the occurrence must be followed by a token (the pattern itself is not one)
    const ids s{3, 3, 3};
    // "3 3" at 0 -> [3, 3]; "3" at 1 -> [3, 3] (a duplicate), at 0 -> [3, 3, 3] (longer: kept)
    CHECK((find(s, 1, 2, 8, 4) == std::vector<ids>{{3, 3}, {3, 3, 3}}));
    // params
    lookup_params p;
    CHECK(*lookup_params_error(p) == 0);  // off
    p.tokens = 64;
    CHECK(*lookup_params_error(p) != 0);
    p.tokens = 10;
    CHECK(*lookup_params_error(p) == 0);
    p.min_ngram = 5;
    CHECK(*lookup_params_error(p) != 0);  // min > max (4)
    p.min_ngram = 1, p.max_ngram = 17;
    CHECK(*lookup_params_error(p) != 0);
    p.max_ngram = 3, p.max_drafts = 0;
    CHECK(*lookup_params_error(p) != 0);
}

engine_generation_params with_lookup(engine_generation_params p, int tokens, int min_n = 0, int max_n = 0, int drafts = 0) {
    p.lookup_tokens = tokens;
    p.lookup_min_ngram = min_n;
    p.lookup_max_ngram = max_n;
    p.lookup_max_drafts = drafts;
    return p;
}

struct lookup_tally {
    int64_t lookup_accepted = 0, rounds = 0;
};

// Greedy with lookup (several settings) == plain greedy, token for token and (with logprobs) bit for
// bit; drafts rounds report their kind and figures consistently.
void check_exact(const char * name, engine_session * s, const ids & prompt, int n, lookup_tally & tally,
                 engine_drafter * d = nullptr, const char * required = nullptr) {
    engine_generation_params base = greedy_params(prompt, n);
    base.logprobs = 1;
    if (required) {
        base.required_prefix = reinterpret_cast<const uint8_t *>(required);
        base.n_required_prefix = (int)std::strlen(required);
    }
    const generation_run plain = run_generation(s, base);
    CHECK(plain.status == ENGINE_STATUS_OK && (int)plain.ids.size() <= n && !plain.ids.empty());
    engine_generation_params dp = base;
    if (d) {
        dp.mode = ENGINE_DECODE_REDRAFTER;
        dp.drafter = d;
        dp.n_beams = 2;
        dp.beam_len = 3;
    }
    struct setting {
        int tokens, min_n, max_n, drafts, max_out;
    };
    for (const setting & c : {setting{10, 0, 0, 0, 64}, setting{1, 1, 1, 1, 64}, setting{63, 1, 4, 16, 64}, setting{5, 2, 2, 3, 3},
                              setting{7, 3, 3, 1, 2}}) {
        const generation_run r = run_generation(s, with_lookup(dp, c.tokens, c.min_n, c.max_n, c.drafts), c.max_out);
        const bool same = r.status == ENGINE_STATUS_OK && r.ids == plain.ids && r.logprobs.size() == plain.logprobs.size() &&
                          std::memcmp(r.logprobs.data(), plain.logprobs.data(), sizeof(float) * plain.logprobs.size()) == 0;
        if (!same) std::fprintf(stderr, "%s: lookup tokens %d (n %d..%d, drafts %d, max_out %d) differs from plain greedy\n", name,
                                c.tokens, c.min_n, c.max_n, c.drafts, c.max_out);
        CHECK(same);
        int64_t acc = 0, lk = 0, ex = 0;
        for (size_t i = 1; i < r.steps.size(); ++i) {
            const engine_step_stats & st = r.steps[i];
            CHECK(st.kind == (d ? ENGINE_STEP_REDRAFTER : ENGINE_STEP_AR) || (!d && st.kind == ENGINE_STEP_DRAFTS));
            CHECK(st.accepted + 1 <= c.max_out && st.lookup_accepted + st.extra_accepted <= st.accepted);
            if (st.kind == ENGINE_STEP_AR) CHECK(st.tree_size == 1 && st.accepted == 0);
            acc += st.accepted, lk += st.lookup_accepted, ex += st.extra_accepted;
        }
        CHECK(r.stats.lookup_accepted == lk && ex == 0 && r.stats.extra_accepted == 0);
        CHECK(r.stats.forward_passes == (int)r.steps.size());
        CHECK(r.stats.emitted == (int)r.ids.size());
        tally.lookup_accepted += lk;
        tally.rounds += r.stats.rounds;
        if (!d) CHECK(r.stats.forward_passes + acc >= (int64_t)r.ids.size());
    }
}

// A prompt that repeats: the prompt, then its plain greedy continuation twice over (the model's own
// text, so the continuation tends to come back).
ids repeating_prompt(engine_session * s, const ids & seed, int n) {
    const generation_run g = run_generation(s, greedy_params(seed, n));
    ids p = seed;
    p.insert(p.end(), g.ids.begin(), g.ids.end());
    p.insert(p.end(), seed.begin() + 1, seed.end());
    return p;
}

void test_stories(stories_drafters & f) {
    lookup_tally t;
    const ids seed{1, 403, 407, 21, 66};
    check_exact("stories260K", f.s, seed, 60, t);
    const ids rep = repeating_prompt(f.s, seed, 30);
    check_exact("stories260K, repeating prompt", f.s, rep, 48, t);
    check_exact("stories260K, one-token prompt", f.s, {1}, 30, t);
    const int64_t plain_rounds_hits = t.lookup_accepted;
    CHECK(plain_rounds_hits > 0);
    lookup_tally td;
    check_exact("stories260K, drafter d1", f.s, rep, 48, td, f.d1);
    check_exact("stories260K, drafter d2", f.s, seed, 40, td, f.d2);
    CHECK(td.lookup_accepted > 0 && td.rounds > 0);
    // with a drafter, the output also equals plain greedy (check_exact compared against the
    // drafter-less plain run of the same params: the drafter's own parity is the redrafter tests')

    // caller extra drafts in mode AR: verified in drafts rounds (the true continuation: accepted)
    const generation_run plain = run_generation(f.s, greedy_params(seed, 40));
    engine_generation_params ep = greedy_params(seed, 40);
    const int32_t len = (int32_t)plain.ids.size();
    ep.extra_tokens = plain.ids.data();
    ep.extra_lens = &len;
    ep.n_extra = 1;
    const generation_run ex = run_generation(f.s, ep);
    CHECK(ex.ids == plain.ids && ex.stats.extra_accepted > 0 && ex.stats.lookup_accepted == 0);
    CHECK(ex.steps.size() > 1 && ex.steps[1].kind == ENGINE_STEP_DRAFTS && ex.stats.forward_passes <= 3);
    // extras and lookup together: still exact; a wrong extra draft costs nothing in tokens
    ids wrong = plain.ids;
    for (size_t i = 2; i < wrong.size(); ++i) wrong[i] = (wrong[i] + 7) % 512;
    ep.extra_tokens = wrong.data();
    const generation_run both = run_generation(f.s, with_lookup(ep, 8));
    CHECK(both.ids == plain.ids);

    // a required prefix (synthetic token bytes, as test-branches sets them) and lookup
    {
        std::vector<uint8_t> bytes;
        std::vector<uint32_t> offsets{0};
        std::vector<uint8_t> special(512, 0);
        for (int i = 0; i < 512; ++i) {
            if (i < 3) {
                special[(size_t)i] = 1;
            } else {
                int x = i / 3;
                for (int k = 0; k < 1 + i % 3; ++k, x /= 6) bytes.push_back((uint8_t)('a' + x % 6));
            }
            offsets.push_back((uint32_t)bytes.size());
        }
        char err[256];
        CHECK(engine_model_set_token_bytes(f.model, bytes.data(), offsets.data(), special.data(), 512, err, sizeof err) ==
              ENGINE_STATUS_OK);
        lookup_tally tr;
        for (const char * r : {"a", "bca", "abcabcab"}) {
            check_exact("stories260K, required prefix", f.s, rep, 32, tr, nullptr, r);
            check_exact("stories260K, required prefix, drafter", f.s, rep, 24, tr, f.d1, r);
        }
    }

    // sampled: valid ids, the same seed twice gives the same output, lookup rounds happen
    for (uint64_t seed_v : {1u, 7u, 42u}) {
        engine_generation_params sp = with_lookup(greedy_params(rep, 40), 10);
        sp.sampling.temperature = 0.8f;
        sp.sampling.top_k = 40;
        sp.sampling.seed = seed_v;
        const generation_run a = run_generation(f.s, sp), b = run_generation(f.s, sp);
        CHECK(a.status == ENGINE_STATUS_OK && a.ids == b.ids && !a.ids.empty());
        for (int32_t id : a.ids) CHECK(id >= 0 && id < 512);
    }
}

void test_refused(stories_drafters & f) {
    const ids prompt{1, 403, 407};
    engine_generation * g = nullptr;
    char err[512];
    auto refused = [&](const engine_generation_params & p, const char * what) {
        err[0] = 0;
        const engine_status st = engine_generation_init(f.s, &p, &g, err, sizeof err);
        CHECK(st == ENGINE_STATUS_INVALID_ARGUMENT && g == nullptr);
        if (std::strstr(err, what) == nullptr) std::fprintf(stderr, "unexpected message: %s (wanted %s)\n", err, what);
        CHECK(std::strstr(err, what) != nullptr);
        if (g) engine_generation_free(g), g = nullptr;
    };
    const engine_generation_params p = greedy_params(prompt, 8);
    refused(with_lookup(p, 64), "lookup tokens");
    refused(with_lookup(p, -1), "lookup tokens");
    refused(with_lookup(p, 8, 3, 2), "n-gram");
    refused(with_lookup(p, 8, 0, 17), "n-gram");
    refused(with_lookup(p, 8, 0, 0, 17), "max_drafts");
    refused(with_lookup(p, 8, -1), "n-gram");
    engine_sampling br{0.0f, 0, 1.0f, 1};
    engine_generation_params bp = with_lookup(p, 8);
    bp.branches = &br;
    bp.n_branches = 1;
    refused(bp, "lookup");
    // a default bound follows an explicit other one (min 5 alone: max 5), and off ignores the rest
    const generation_run ok = run_generation(f.s, with_lookup(p, 8, 5));
    CHECK(ok.status == ENGINE_STATUS_OK);
    const generation_run off = run_generation(f.s, with_lookup(p, 0, 99, 99, 99));
    CHECK(off.status == ENGINE_STATUS_OK);
}

// A seeded tiny model: exactness on other attention / matmul paths (f32 hd 8 and 32, bf16 hd 16).
void test_tiny(const char * name, tiny_spec spec) {
    tiny_engine e(spec, 11, 2, 512);
    if (!e.ok()) return;
    ids prompt;
    for (int i = 0; i < 30; ++i) prompt.push_back(1 + (i * 7) % 11);  // a period-11 text: lookups hit
    lookup_tally t;
    check_exact(name, e.s, prompt, 40, t);
    CHECK(t.rounds > 0);
}

}  // namespace

int main() {
    test_draft_source();
    stories_drafters f;
    if (stories_drafters_init(f, 512)) {
        test_stories(f);
        test_refused(f);
    }
    stories_drafters_free(f);
    tiny_spec f8;
    f8.vocab = 64;
    test_tiny("tiny f32, head_dim 8", f8);
    tiny_spec f32;
    f32.vocab = 64, f32.hidden = 64, f32.ff = 96, f32.heads = 2, f32.kv_heads = 1, f32.head_dim = 32;
    test_tiny("tiny f32, head_dim 32", f32);
    tiny_spec bf16 = f32;
    bf16.bf16 = true, bf16.heads = 4, bf16.kv_heads = 2, bf16.head_dim = 16;
    test_tiny("tiny bf16, head_dim 16", bf16);
    return test_summary("test-lookup-drafts");
}
