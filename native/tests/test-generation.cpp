/*
 * test-generation.cpp: the decode loop's contract through the C API (engine_generation) on
 * stories260K: the stop rule (a decided stop token ends it and is not emitted, also inside an
 * accepted ReDrafter chunk and at the prefill), max_tokens, prefix reuse, cancellation (nothing
 * committed, the generation ends), the one busy guard (a generation holds the session from init
 * to free), refused arguments, and the required-prefix constraint on a synthetic token-bytes table:
 * every output starts with the required bytes and greedy ReDrafter equals greedy plain decoding
 * under it, for several (M, L) and with extra drafts. Log-probabilities of the emitted tokens: equal
 * to an independent float64 log-softmax of the session's own logits, the same bits from greedy
 * ReDrafter as from greedy plain decoding, none unless asked.
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "run-generation.h"
#include "stories-drafters.h"
#include "test-util.h"

namespace {

std::vector<int32_t> committed(engine_session * s) {
    const int32_t * t = engine_session_tokens(s);
    return std::vector<int32_t>(t, t + engine_session_length(s));
}

engine_generation_params redrafter_params(const std::vector<int32_t> & prompt, int n, engine_drafter * d, int M, int L) {
    engine_generation_params p = greedy_params(prompt, n);
    p.mode = ENGINE_DECODE_REDRAFTER;
    p.drafter = d;
    p.n_beams = M;
    p.beam_len = L;
    return p;
}

void test_stop_rule_and_limits(engine_session * s, engine_drafter * d) {
    const std::vector<int32_t> prompt{1, 403, 407};
    const generation_run plain = run_generation(s, greedy_params(prompt, 40));
    CHECK(plain.status == ENGINE_STATUS_OK && plain.done == ENGINE_DONE_MAX_TOKENS && plain.ids.size() == 40);
    CHECK(plain.steps.size() == 40 && plain.steps[0].kind == ENGINE_STEP_PREFILL && plain.steps[1].kind == ENGINE_STEP_AR);
    CHECK(plain.stats.emitted == 40 && plain.stats.forward_passes == 40 && plain.stats.prompt_tokens == 3);
    // a stop token: emitted up to (not including) its first occurrence
    const int32_t stop = plain.ids[10];
    size_t first = 0;
    while (plain.ids[first] != stop) ++first;
    engine_generation_params p = greedy_params(prompt, 40);
    p.stop_tokens = &stop;
    p.n_stop = 1;
    const generation_run ar = run_generation(s, p);
    CHECK(ar.done == ENGINE_DONE_EOS);
    CHECK(ar.ids == std::vector<int32_t>(plain.ids.begin(), plain.ids.begin() + (long)first));
    // the same inside a long accepted ReDrafter chunk (the true continuation as an extra draft)
    engine_generation_params rp = redrafter_params(prompt, 40, d, 1, 3);
    rp.stop_tokens = &stop;
    rp.n_stop = 1;
    const int32_t extra_len = (int32_t)plain.ids.size();
    rp.extra_tokens = plain.ids.data();
    rp.extra_lens = &extra_len;
    rp.n_extra = 1;
    const generation_run rd = run_generation(s, rp);
    CHECK(rd.done == ENGINE_DONE_EOS && rd.ids == ar.ids);
    CHECK(rd.stats.forward_passes <= 3);  // the prefill and one or two rounds verifying the extra draft
    // a stop token decided at the prefill: nothing emitted
    p.stop_tokens = &plain.ids[0];
    const generation_run none = run_generation(s, p);
    CHECK(none.done == ENGINE_DONE_EOS && none.ids.empty() && none.steps.size() == 1);
    // max_tokens 1: the prefill's token only
    const generation_run one = run_generation(s, greedy_params(prompt, 1));
    CHECK(one.done == ENGINE_DONE_MAX_TOKENS && one.ids == std::vector<int32_t>{plain.ids[0]});
    // a ReDrafter round never emits past max_tokens, nor past max_out
    for (int n : {2, 3, 7}) {
        const generation_run r = run_generation(s, redrafter_params(prompt, n, d, 2, 5), 2);
        CHECK(r.done == ENGINE_DONE_MAX_TOKENS && r.ids == std::vector<int32_t>(plain.ids.begin(), plain.ids.begin() + n));
        for (size_t i = 1; i < r.steps.size(); ++i) CHECK(r.steps[i].accepted + 1 <= 2);
    }
}

void test_prefix_reuse(engine_session * s) {
    const std::vector<int32_t> a{1, 403, 407, 261, 378};
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
    const generation_run first = run_generation(s, greedy_params(a, 6));
    CHECK(first.steps[0].reused_tokens == 0 && first.steps[0].prompt_tokens == 5);
    // the session now holds a + 5 generated tokens (the 6th is pending); extend the prompt by them
    std::vector<int32_t> b(a);
    b.insert(b.end(), first.ids.begin(), first.ids.end() - 1);
    CHECK(engine_session_reusable_prefix(s, b.data(), (int)b.size()) == (int)b.size() - 1);
    const generation_run second = run_generation(s, greedy_params(b, 4));
    CHECK(second.stats.reused_tokens == (int)b.size() - 1 && second.steps[0].prompt_tokens == 1);
    CHECK(second.ids[0] == first.ids.back());  // the same token decided from the same state
    // a diverging prompt keeps only the common prefix
    const std::vector<int32_t> c{1, 403, 500};
    CHECK(engine_session_reusable_prefix(s, c.data(), 3) == 2);
    const generation_run third = run_generation(s, greedy_params(c, 2));
    CHECK(third.stats.reused_tokens == 2);
    const std::vector<int32_t> held = committed(s);
    CHECK(held.size() == 4 && held[2] == 500);
}

void test_cancel_and_busy(engine_session * s) {
    const std::vector<int32_t> prompt{1, 403};
    engine_generation_params p = greedy_params(prompt, 20);
    engine_generation * g = nullptr;
    char err[256];
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    // the generation holds the session: single calls and other generations are refused
    CHECK(engine_session_acquire(s) == ENGINE_STATUS_BUSY);
    engine_generation * other = nullptr;
    CHECK(engine_generation_init(s, &p, &other, err, sizeof err) == ENGINE_STATUS_BUSY && !other);
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_BUSY);
    int32_t t0 = 1;
    CHECK(engine_session_forward(s, &t0, 1, nullptr, nullptr, nullptr, 1, nullptr, nullptr) == ENGINE_STATUS_BUSY);
    int32_t buf[64];
    int n = 0;
    engine_done done = ENGINE_DONE_NOT;
    CHECK(engine_generation_step(g, buf, 64, &n, &done, nullptr) == ENGINE_STATUS_OK && n == 1 && done == ENGINE_DONE_NOT);
    const int length = engine_session_length(s);
    engine_session_set_abort(s, 1);
    CHECK(engine_generation_step(g, buf, 64, &n, &done, nullptr) == ENGINE_STATUS_OK);
    CHECK(n == 0 && done == ENGINE_DONE_CANCELLED && engine_session_length(s) == length);
    CHECK(engine_generation_step(g, buf, 64, &n, &done, nullptr) == ENGINE_STATUS_INVALID_ARGUMENT);  // it is done
    engine_generation_free(g);
    CHECK(engine_session_acquire(s) == ENGINE_STATUS_OK);  // released by free
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_BUSY);  // now a call holds it
    engine_session_release(s);
    // a new generation clears the abort flag and runs
    engine_session_set_abort(s, 1);
    const generation_run again = run_generation(s, greedy_params(prompt, 5));
    CHECK(again.status == ENGINE_STATUS_OK && again.done == ENGINE_DONE_MAX_TOKENS && again.ids.size() == 5);
}

// A session freed while a generation holds it (the addon's objects collected in either order) is
// freed by the generation's free; the generation keeps working until then.
void test_session_freed_under_a_generation(engine_model * m) {
    engine_session * s = nullptr;
    CHECK(engine_session_init(m, 64, &s, nullptr, 0) == ENGINE_STATUS_OK);
    const std::vector<int32_t> prompt{1, 403};
    const engine_generation_params p = greedy_params(prompt, 4);
    engine_generation * g = nullptr;
    char err[256];
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    engine_session_free(s);  // deferred
    int32_t buf[64];
    int n = 0;
    engine_done done = ENGINE_DONE_NOT;
    CHECK(engine_generation_step(g, buf, 64, &n, &done, nullptr) == ENGINE_STATUS_OK && n == 1);
    engine_generation_free(g);  // frees the session too (valgrind / ASan: no leak, no use after free)
}

void test_refused_arguments(engine_session * s, engine_model * m, engine_drafter * d) {
    const std::vector<int32_t> prompt{1, 403};
    char err[512];
    engine_generation * g = nullptr;
    auto refused = [&](const engine_generation_params & p, const char * what) {
        const engine_status st = engine_generation_init(s, &p, &g, err, sizeof err);
        if (st != ENGINE_STATUS_INVALID_ARGUMENT || !std::strstr(err, what)) std::fprintf(stderr, "got %d: %s\n", (int)st, err);
        CHECK(st == ENGINE_STATUS_INVALID_ARGUMENT && !g && std::strstr(err, what));
        CHECK(engine_session_acquire(s) == ENGINE_STATUS_OK);  // a refused init leaves the session free
        engine_session_release(s);
    };
    engine_generation_params p = greedy_params(prompt, 4);
    p.mode = ENGINE_DECODE_REDRAFTER;
    refused(p, "needs a drafter");
    refused(redrafter_params(prompt, 4, d, 65, 3), "beam width");
    refused(redrafter_params(prompt, 4, d, 1, 1), "beam length");
    refused(greedy_params(prompt, 0), "max_tokens");
    refused(greedy_params(prompt, engine_session_max_context(s)), "exceed");
    const std::vector<int32_t> bad{1, 512};
    refused(greedy_params(bad, 4), "outside the vocabulary");
    p = greedy_params(prompt, 4);
    const uint8_t r[] = {'a'};
    p.required_prefix = r;
    p.n_required_prefix = 1;
    refused(p, "token bytes");
    const uint32_t offsets[3] = {0, 1, 2};
    const uint8_t bytes[2] = {'a', 'b'};
    CHECK(engine_model_set_token_bytes(m, bytes, offsets, nullptr, 2, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT);
    CHECK(std::strstr(err, "2 tokens given") != nullptr);
}

// A synthetic byte table for stories260K's 512 ids: id i >= 3 writes 1 + i % 3 letters a..f, the
// base-6 digits of i / 3 (so every letter has a one-letter token and a required prefix has several
// tokenizations); ids 0..2 are special.
std::string synthetic_bytes(int32_t i) {
    std::string s;
    if (i < 3) return s;
    int x = i / 3;
    for (int k = 0; k < 1 + i % 3; ++k, x /= 6) s += (char)('a' + x % 6);
    return s;
}

void set_synthetic_token_bytes(engine_model * m) {
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> offsets{0};
    std::vector<uint8_t> special(512, 0);
    for (int i = 0; i < 512; ++i) {
        if (i < 3) special[(size_t)i] = 1;
        const std::string b = synthetic_bytes(i);
        bytes.insert(bytes.end(), b.begin(), b.end());
        offsets.push_back((uint32_t)bytes.size());
    }
    char err[256];
    CHECK(engine_model_set_token_bytes(m, bytes.data(), offsets.data(), special.data(), 512, err, sizeof err) == ENGINE_STATUS_OK);
}

std::string written(const std::vector<int32_t> & ids) {  // the synthetic table's bytes of ids
    std::string s;
    for (int32_t i : ids) s += synthetic_bytes(i);
    return s;
}

void test_required_prefix(engine_session * s, engine_model * m, engine_drafter * d1, engine_drafter * d2) {
    set_synthetic_token_bytes(m);
    const std::vector<std::vector<int32_t>> prompts{{1}, {1, 403, 407, 261}, {1, 320, 400, 266, 401}};
    const char * required[] = {"a", "fed", "abcabcab", "eeeeffaa"};
    int changed = 0;  // cases where the constraint changed the output
    for (const auto & prompt : prompts) {
        const std::string free_text = written(run_generation(s, greedy_params(prompt, 24)).ids);
        for (const char * r : required) {
            changed += free_text.compare(0, std::strlen(r), r) != 0;
            engine_generation_params p = greedy_params(prompt, 24);
            p.required_prefix = reinterpret_cast<const uint8_t *>(r);
            p.n_required_prefix = (int)std::strlen(r);
            const generation_run plain = run_generation(s, p);
            CHECK(plain.status == ENGINE_STATUS_OK && plain.ids.size() == 24);
            CHECK(written(plain.ids).compare(0, std::strlen(r), r) == 0);
            struct cfg { engine_drafter * d; int M, L; };
            for (cfg c : {cfg{d1, 1, 2}, cfg{d1, 1, 5}, cfg{d1, 4, 4}, cfg{d2, 8, 6}}) {
                engine_generation_params rp = redrafter_params(prompt, 24, c.d, c.M, c.L);
                rp.required_prefix = p.required_prefix;
                rp.n_required_prefix = p.n_required_prefix;
                const generation_run rd = run_generation(s, rp);
                if (rd.ids != plain.ids) std::fprintf(stderr, "required \"%s\" M=%d L=%d: ReDrafter differs from plain\n", r, c.M, c.L);
                CHECK(rd.status == ENGINE_STATUS_OK && rd.ids == plain.ids);
            }
            // extra drafts: the true output is accepted, a draft that breaks the constraint never is
            if (plain.ids.size() < 2) continue;
            std::vector<int32_t> wrong(plain.ids);
            wrong[1] = wrong[1] == 2 ? 1 : 2;  // a special token: never allowed while the prefix is unwritten
            std::vector<int32_t> flat(plain.ids);
            flat.insert(flat.end(), wrong.begin(), wrong.end());
            const int32_t lens[2] = {(int32_t)plain.ids.size(), (int32_t)wrong.size()};
            engine_generation_params ep = redrafter_params(prompt, 24, d1, 2, 3);
            ep.required_prefix = p.required_prefix;
            ep.n_required_prefix = p.n_required_prefix;
            ep.extra_tokens = flat.data();
            ep.extra_lens = lens;
            ep.n_extra = 2;
            const generation_run ex = run_generation(s, ep);
            CHECK(ex.ids == plain.ids && ex.stats.extra_accepted > 0);
        }
    }
    CHECK(changed >= 10);
    // sampling: every output starts with the required bytes
    for (uint64_t seed = 0; seed < 40; ++seed) {
        engine_generation_params p = redrafter_params(prompts[1], 10, d1, 2, 4);
        p.sampling = engine_sampling{1.5f, 0, 1.0f, seed};
        p.required_prefix = reinterpret_cast<const uint8_t *>("abcabcab");
        p.n_required_prefix = 8;
        const generation_run r = run_generation(s, p);
        CHECK(r.status == ENGINE_STATUS_OK && written(r.ids).compare(0, 8, "abcabcab") == 0);
        p.mode = ENGINE_DECODE_AR;
        const generation_run a = run_generation(s, p);
        CHECK(a.status == ENGINE_STATUS_OK && written(a.ids).compare(0, 8, "abcabcab") == 0);
    }
}

}  // namespace

// log p(token) of a logits row in float64: log-sum-exp from the largest logit.
double ref_logprob(const std::vector<float> & row, int32_t token) {
    double mx = row[0];
    for (float v : row) mx = std::max(mx, (double)v);
    double sum = 0;
    for (float v : row) sum += std::exp((double)v - mx);
    return (double)row[(size_t)token] - mx - std::log(sum);
}

void test_logprobs(engine_session * s, engine_model * m, engine_drafter * d1, engine_drafter * d2) {
    const std::vector<int32_t> prompt{1, 403, 407, 261};
    const int n = 24;
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
    const generation_run bare = run_generation(s, greedy_params(prompt, n));
    CHECK(bare.logprobs.empty());  // not asked: none kept
    engine_generation_params p = greedy_params(prompt, n);
    p.logprobs = 1;
    const generation_run ar = run_generation(s, p);
    CHECK(ar.status == ENGINE_STATUS_OK && ar.ids == bare.ids);  // asking changes no token
    CHECK(ar.logprobs.size() == ar.ids.size());
    // each against the logits of a forward of the prompt and the tokens before it
    engine_model_info info;
    engine_model_get_info(m, &info);
    const int V = info.n_vocab;
    std::vector<int32_t> seq(prompt);
    std::vector<float> row((size_t)V);
    double worst = 0;
    for (size_t k = 0; k < ar.ids.size(); ++k) {
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
        CHECK(engine_session_forward(s, seq.data(), (int)seq.size(), nullptr, nullptr, nullptr, 1, row.data(), nullptr) == ENGINE_STATUS_OK);
        const double want = ref_logprob(row, ar.ids[k]);
        worst = std::max(worst, std::fabs(want - (double)ar.logprobs[k]));
        CHECK(ar.logprobs[k] <= 0.0f);
        seq.push_back(ar.ids[k]);
    }
    std::printf("logprobs: %zu tokens, largest difference from the float64 reference %.3g\n", ar.ids.size(), worst);
    CHECK(worst < 1e-4);
    // greedy ReDrafter: the same tokens from the same rows, so the same bits
    for (engine_drafter * d : {d1, d2})
        for (const auto & ml : std::vector<std::pair<int, int>>{{1, 3}, {2, 4}, {4, 5}}) {
            engine_generation_params rp = redrafter_params(prompt, n, d, ml.first, ml.second);
            rp.logprobs = 1;
            const generation_run rd = run_generation(s, rp);
            CHECK(rd.status == ENGINE_STATUS_OK && rd.ids == ar.ids);
            CHECK(rd.logprobs.size() == ar.logprobs.size() &&
                  std::memcmp(rd.logprobs.data(), ar.logprobs.data(), sizeof(float) * ar.logprobs.size()) == 0);
        }
    // sampled: one per token, each a log-probability
    engine_generation_params sp = greedy_params(prompt, n);
    sp.logprobs = 1;
    sp.sampling = engine_sampling{0.8f, 0, 1.0f, 3};
    const generation_run sampled = run_generation(s, sp);
    CHECK(sampled.logprobs.size() == sampled.ids.size());
    for (float lp : sampled.logprobs) CHECK(std::isfinite(lp) && lp <= 0.0f);
}

int main() {
    stories_drafters f;
    if (stories_drafters_init(f, 256)) {
        test_stop_rule_and_limits(f.s, f.d1);
        test_prefix_reuse(f.s);
        test_cancel_and_busy(f.s);
        test_session_freed_under_a_generation(f.model);
        test_refused_arguments(f.s, f.model, f.d1);
        test_required_prefix(f.s, f.model, f.d1, f.d2);
        test_logprobs(f.s, f.model, f.d1, f.d2);
    }
    stories_drafters_free(f);
    return test_summary("test-generation");
}
