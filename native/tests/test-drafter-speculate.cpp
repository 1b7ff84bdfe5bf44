/*
 * test-drafter-speculate.cpp: ReDrafter rounds end to end on stories260K (fp32) through the C API's
 * decode loop (engine_generation): greedy ReDrafter output equals greedy plain decoding token for
 * token, for random-weight drafters and several (M, L) including M = 1 and L = 2, with and without
 * extra drafts (the true continuation, a corrupted one, one that does not continue the text); the
 * per-step figures add up to the totals; AR and hand-driven ReDrafter steps alternate on one
 * session; the committed tokens equal prompt + output.
 */
#include <cstdio>
#include <string>
#include <vector>

#include "run-generation.h"
#include "stories-drafters.h"
#include "test-util.h"

namespace {

std::vector<int32_t> plain(engine_session * s, const std::vector<int32_t> & prompt, int n) {
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
    const generation_run r = run_generation(s, greedy_params(prompt, n));
    CHECK(r.status == ENGINE_STATUS_OK && r.done == ENGINE_DONE_MAX_TOKENS);
    CHECK(r.stats.forward_passes == n && r.stats.rounds == 0);
    return r.ids;
}

std::vector<int32_t> redrafter(engine_session * s, engine_drafter * d, int M, int L, const std::vector<int32_t> & prompt, int n,
                               const std::vector<std::vector<int32_t>> & extra, engine_generation_stats & st) {
    std::vector<int32_t> flat, lens;
    for (const auto & e : extra) {
        flat.insert(flat.end(), e.begin(), e.end());
        lens.push_back((int32_t)e.size());
    }
    engine_generation_params p = greedy_params(prompt, n);
    p.mode = ENGINE_DECODE_REDRAFTER;
    p.drafter = d;
    p.n_beams = M;
    p.beam_len = L;
    p.extra_tokens = flat.data();
    p.extra_lens = lens.data();
    p.n_extra = (int)lens.size();
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
    const generation_run r = run_generation(s, p);
    if (r.status != ENGINE_STATUS_OK) std::fprintf(stderr, "redrafter failed: %s\n", engine_session_last_error(s));
    CHECK(r.status == ENGINE_STATUS_OK && r.done == ENGINE_DONE_MAX_TOKENS);
    // the steps' figures add up to the totals, each round within its bounds
    int64_t nodes = 0, accepted = 0, hist_rounds = 0;
    for (size_t i = 0; i < r.steps.size(); ++i) {
        const engine_step_stats & x = r.steps[i];
        CHECK(x.kind == (i == 0 ? ENGINE_STEP_PREFILL : ENGINE_STEP_REDRAFTER));
        if (i == 0) continue;
        CHECK(x.tree_size >= 1 && x.accepted >= 0 && x.accepted < x.tree_size && x.extra_accepted <= x.accepted);
        nodes += x.tree_size;
        accepted += x.accepted;
    }
    for (int i = 0; i < ENGINE_ACCEPTED_HISTOGRAM; ++i) hist_rounds += r.stats.accepted_histogram[i];
    CHECK(r.stats.rounds == (int)r.steps.size() - 1 && hist_rounds == r.stats.rounds);
    CHECK(r.stats.tree_nodes == nodes);
    CHECK(r.stats.emitted == (int)r.ids.size() && r.stats.emitted == r.stats.rounds + accepted + 1);
    st = r.stats;
    return r.ids;
}

}  // namespace

int main() {
    stories_drafters f;
    if (!stories_drafters_init(f, 0)) {
        stories_drafters_free(f);
        return test_summary("test-drafter-speculate");
    }
    engine_session * s = f.s;
    engine_drafter * d1 = f.d1, * d2 = f.d2;

    const std::vector<std::vector<int32_t>> prompts = {{1}, {1, 403, 407, 261, 378, 292}, {1, 320, 400, 266, 401, 263, 349, 271}};
    const int N = 80;
    for (const auto & prompt : prompts) {
        const std::vector<int32_t> ref = plain(s, prompt, N);
        CHECK((int)ref.size() == N);
        struct cfg { engine_drafter * d; int M, L; };
        for (cfg c : {cfg{d1, 1, 2}, cfg{d1, 1, 5}, cfg{d1, 2, 4}, cfg{d1, 4, 5}, cfg{d2, 3, 3}, cfg{d2, 8, 6}}) {
            engine_generation_stats st{};
            auto got = redrafter(s, c.d, c.M, c.L, prompt, N, {}, st);
            if (got != ref) std::fprintf(stderr, "M=%d L=%d: output differs from plain greedy decoding\n", c.M, c.L);
            CHECK(got == ref);
            CHECK(st.rounds >= 1 && st.emitted >= st.rounds);
        }
        // Extra drafts: the true continuation (accepted in long runs), a corrupted copy, and one that
        // does not continue the text. Prompt-relative, re-aligned every round.
        std::vector<int32_t> corrupted(ref);
        for (size_t i = 5; i < corrupted.size(); i += 7) corrupted[i] = (corrupted[i] + 1) % 512;
        std::vector<int32_t> unrelated{7, 8, 9, 10};
        for (int L : {2, 4}) {
            engine_generation_stats st{};
            auto got = redrafter(s, d1, 2, L, prompt, N, {ref, corrupted, unrelated}, st);
            CHECK(got == ref);
            CHECK(st.extra_accepted > 0);
            // with the true continuation available, every round accepts its full depth (but the last)
            CHECK(st.rounds <= (N + L - 2) / (L - 1) + 1);
            // the session holds prompt + output but the last (pending) token
            const int32_t * toks = engine_session_tokens(s);
            std::vector<int32_t> committed(toks, toks + engine_session_length(s));
            std::vector<int32_t> expect(prompt);
            expect.insert(expect.end(), ref.begin(), ref.end() - 1);
            CHECK(committed == expect);
        }
        {  // a long extra draft beyond L is verified in one pass
            engine_generation_stats st{};
            auto got = redrafter(s, d1, 1, 2, prompt, N, {ref}, st);
            CHECK(got == ref);
            CHECK(st.rounds <= 3);
        }
    }
    // AR and ReDrafter steps alternate on one session.
    {
        const std::vector<int32_t> prompt = prompts[1];
        const std::vector<int32_t> ref = plain(s, prompt, 40);
        engine_sampling sp{0.0f, 0, 1.0f, 0};
        int32_t g0 = -1;
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
        CHECK(engine_session_prefill(s, prompt.data(), (int)prompt.size(), &sp, &g0) == ENGINE_STATUS_OK);
        std::vector<int32_t> got{g0};
        engine_redrafter_params p{3, 4};
        for (int step = 0; (int)got.size() < 40; ++step) {
            int32_t buf[16];
            int n = 0;
            if (step % 2 == 0) {
                CHECK(engine_session_step(s, buf, 16, &n) == ENGINE_STATUS_OK);
            } else {
                CHECK(engine_session_step_redrafter(s, d1, &p, nullptr, nullptr, 0, buf, 40 - (int)got.size(), &n, nullptr) == ENGINE_STATUS_OK);
            }
            CHECK(n >= 1);
            got.insert(got.end(), buf, buf + n);
        }
        CHECK(got == ref);
    }
    // Bad arguments are refused with a message; the session keeps serving.
    {
        int32_t buf[4];
        int n = 0;
        engine_redrafter_params bad{0, 1};
        bad.n_beams = 2;
        CHECK(engine_session_step_redrafter(s, d1, &bad, nullptr, nullptr, 0, buf, 4, &n, nullptr) == ENGINE_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(engine_session_last_error(s)).find("beam length") != std::string::npos);
        engine_redrafter_params ok{2, 3};
        CHECK(engine_session_step_redrafter(s, d1, &ok, nullptr, nullptr, 0, buf, 4, &n, nullptr) == ENGINE_STATUS_OK);
    }
    stories_drafters_free(f);
    return test_summary("test-drafter-speculate");
}
