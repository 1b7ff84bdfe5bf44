/*
 * test-branches.cpp: branches of one prompt decoded side by side (engine_generation_params.branches,
 * native/src/decode/branches.h) through the C API, on stories260K (f32 K/V, head_dim 8: the
 * generic attention), a tiny f32 model of head_dim 32 (the AVX-512 attention tile where the CPU
 * has it) and a tiny bf16 one of head_dim 16: each branch's tokens equal, bit for bit, a plain
 * single-sequence generation with its sampling params (greedy and sampled, several seeds, B = 1..4,
 * with and without a required prefix, with stop tokens: a stop token ends only its branch); ending
 * a branch mid-way leaves the others unchanged; afterwards the session holds exactly the prompt and
 * the next plain generation reuses P - 1 tokens and gives what a fresh session gives; masked K/V
 * never reach the shared block pool; the capacity error, abort, a free mid-way, and refused
 * arguments (a drafter, logprobs, B = 0 or 17, a short max_out, a bad branch index).
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/session.h"
#include "run-generation.h"
#include "stories-drafters.h"
#include "test-util.h"
#include "tiny-engine.h"

namespace {

struct branches_run {
    engine_status status = ENGINE_STATUS_OK;
    std::vector<std::vector<int32_t>> ids;  // (B) each branch's tokens
    std::vector<int> why;                   // (B) engine_branch_end, 0 = never reported ended
    engine_done done = ENGINE_DONE_NOT;
    engine_generation_stats stats{};
    std::vector<engine_step_stats> steps;
    bool well_formed = true;  // per step: at most one token per branch, none from an ended branch
};

std::vector<int32_t> committed(engine_session * s) {
    const int32_t * t = engine_session_tokens(s);
    return std::vector<int32_t>(t, t + engine_session_length(s));
}

engine_generation_params branch_params(const std::vector<int32_t> & prompt, int max_tokens, const std::vector<engine_sampling> & b) {
    engine_generation_params p = greedy_params(prompt, max_tokens);
    p.branches = b.data();
    p.n_branches = static_cast<int>(b.size());
    return p;
}

// Records one step's output into r; false when the step failed.
bool take_step(engine_generation * g, branches_run & r, int B) {
    int32_t buf[ENGINE_STEP_MAX_TOKENS], which[ENGINE_STEP_MAX_TOKENS], ended[ENGINE_MAX_BRANCHES];
    engine_branch_end why[ENGINE_MAX_BRANCHES];
    int n = 0;
    engine_step_stats st;
    r.status = engine_generation_step(g, buf, ENGINE_STEP_MAX_TOKENS, &n, &r.done, &st);
    if (r.status != ENGINE_STATUS_OK) return false;
    r.steps.push_back(st);
    const int nb = engine_generation_step_branches(g, which, ENGINE_STEP_MAX_TOKENS);
    if (nb != n) r.well_formed = false;
    std::vector<int> seen(static_cast<size_t>(B), 0);
    for (int i = 0; i < std::min(n, nb); ++i) {
        const int b = which[i];
        if (b < 0 || b >= B || seen[b]++ || r.why[b] != 0) {
            r.well_formed = false;
            continue;
        }
        r.ids[b].push_back(buf[i]);
    }
    const int ne = engine_generation_step_ended(g, ended, why, ENGINE_MAX_BRANCHES);
    for (int i = 0; i < ne; ++i) {
        if (ended[i] < 0 || ended[i] >= B || r.why[ended[i]] != 0) r.well_formed = false;
        else r.why[ended[i]] = why[i];
    }
    return true;
}

// Runs a branches generation to its end; end_at: (B) the step index after which branch b is
// ended by the caller (-1: never).
branches_run run_branches(engine_session * s, const engine_generation_params & p, const std::vector<int> & end_at = {}) {
    branches_run r;
    const int B = p.n_branches;
    r.ids.resize(static_cast<size_t>(B));
    r.why.assign(static_cast<size_t>(B), 0);
    engine_generation * g = nullptr;
    char err[512];
    r.status = engine_generation_init(s, &p, &g, err, sizeof err);
    if (r.status != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine_generation_init: %s\n", err);
        return r;
    }
    for (int step = 0; r.done == ENGINE_DONE_NOT; ++step) {
        if (!take_step(g, r, B)) break;
        for (int b = 0; b < static_cast<int>(end_at.size()); ++b)
            if (end_at[b] == step) CHECK(engine_generation_end_branch(g, b) == ENGINE_STATUS_OK);
    }
    engine_generation_get_stats(g, &r.stats);
    engine_generation_free(g);
    return r;
}

generation_run single(engine_session * s, const std::vector<int32_t> & prompt, int max_tokens, const engine_sampling & sp,
                      const std::vector<int32_t> & stop, const std::string & required) {
    engine_generation_params p = greedy_params(prompt, max_tokens);
    p.sampling = sp;
    p.stop_tokens = stop.data();
    p.n_stop = static_cast<int>(stop.size());
    p.required_prefix = reinterpret_cast<const uint8_t *>(required.data());
    p.n_required_prefix = static_cast<int>(required.size());
    return run_generation(s, p);
}

const std::vector<engine_sampling> SAMPLINGS = {
    {0.0f, 0, 1.0f, 0},   // greedy
    {0.8f, 0, 1.0f, 1},   // the server's alternatives: temperature 0.8, seeds 1, 2, ...
    {0.8f, 0, 1.0f, 2},
    {1.0f, 20, 0.9f, 7},  // top-k and top-p
    {0.8f, 0, 1.0f, 3},
};

// Every branch equals its single-sequence generation, for B = 1..4 and several branch mixes.
void test_exact(const char * name, engine_session * s, const std::vector<int32_t> & prompt, int max_tokens,
                const std::vector<int32_t> & stop = {}, const std::string & required = {}) {
    std::vector<std::vector<int32_t>> ref;
    std::vector<engine_done> ref_done;
    for (const engine_sampling & sp : SAMPLINGS) {
        const generation_run g = single(s, prompt, max_tokens, sp, stop, required);
        CHECK(g.status == ENGINE_STATUS_OK);
        ref.push_back(g.ids);
        ref_done.push_back(g.done);
    }
    const std::vector<std::vector<int>> mixes = {{0}, {1}, {0, 1}, {1, 2, 0}, {0, 1, 2, 3}, {3, 4, 1, 2}, {2, 2, 4}};
    for (const auto & mix : mixes) {
        std::vector<engine_sampling> b;
        for (int i : mix) b.push_back(SAMPLINGS[static_cast<size_t>(i)]);
        engine_generation_params p = branch_params(prompt, max_tokens, b);
        p.stop_tokens = stop.data();
        p.n_stop = static_cast<int>(stop.size());
        p.required_prefix = reinterpret_cast<const uint8_t *>(required.data());
        p.n_required_prefix = static_cast<int>(required.size());
        const branches_run r = run_branches(s, p);
        CHECK(r.status == ENGINE_STATUS_OK && r.well_formed);
        bool all_max = true;
        for (size_t i = 0; i < mix.size(); ++i) {
            const size_t k = static_cast<size_t>(mix[i]);
            const bool same = r.ids[i] == ref[k];
            CHECK(same);
            if (!same) {
                std::fprintf(stderr, "  %s: B=%zu branch %zu (sampling %zu): %zu tokens vs %zu; first difference at", name, mix.size(), i, k,
                             r.ids[i].size(), ref[k].size());
                size_t j = 0;
                while (j < r.ids[i].size() && j < ref[k].size() && r.ids[i][j] == ref[k][j]) ++j;
                std::fprintf(stderr, " %zu\n", j);
            }
            const int want = ref_done[k] == ENGINE_DONE_EOS ? ENGINE_BRANCH_EOS : ENGINE_BRANCH_MAX_TOKENS;
            CHECK(r.why[i] == want);
            all_max = all_max && want == ENGINE_BRANCH_MAX_TOKENS;
        }
        CHECK(r.done == (all_max ? ENGINE_DONE_MAX_TOKENS : ENGINE_DONE_EOS));
        // one prefill, then one forward per step while a branch lives
        CHECK(!r.steps.empty() && r.steps[0].kind == ENGINE_STEP_PREFILL);
        for (size_t i = 1; i < r.steps.size(); ++i) CHECK(r.steps[i].kind == ENGINE_STEP_AR && r.steps[i].tree_size >= 1);
        CHECK(r.stats.forward_passes == static_cast<int>(r.steps.size()));
        size_t longest = 0, total = 0;
        for (const auto & ids : r.ids) {
            longest = std::max(longest, ids.size());
            total += ids.size();
        }
        CHECK(r.steps.size() <= std::max<size_t>(1, longest + 1) && r.stats.emitted == static_cast<int>(total));
        CHECK(committed(s) == prompt);  // back to the prompt
    }
}

// Ending a branch mid-way: its tokens so far stay, the others are unchanged; the session after it.
void test_end_branch_and_after(engine_session * s, engine_model * m, const std::vector<int32_t> & prompt) {
    const int N = 24;
    std::vector<engine_sampling> b = {SAMPLINGS[0], SAMPLINGS[1], SAMPLINGS[2]};
    const branches_run full = run_branches(s, branch_params(prompt, N, b));
    CHECK(full.status == ENGINE_STATUS_OK);
    // branch 1 ended after step 5 (it emitted 6 tokens: the prefill's and 5 steps'), branch 2 after the prefill
    const branches_run cut = run_branches(s, branch_params(prompt, N, b), {-1, 5, 0});
    CHECK(cut.status == ENGINE_STATUS_OK && cut.well_formed);
    CHECK(cut.ids[0] == full.ids[0]);
    CHECK(cut.ids[1] == std::vector<int32_t>(full.ids[1].begin(), full.ids[1].begin() + 6));
    CHECK(cut.ids[2] == std::vector<int32_t>(full.ids[2].begin(), full.ids[2].begin() + 1));
    CHECK(cut.why[0] == ENGINE_BRANCH_MAX_TOKENS && cut.why[1] == ENGINE_BRANCH_ENDED && cut.why[2] == ENGINE_BRANCH_ENDED);
    CHECK(cut.done == ENGINE_DONE_EOS);
    // later steps forward fewer rows
    CHECK(cut.steps.size() == static_cast<size_t>(N) && cut.steps[1].tree_size == 2 && cut.steps[7].tree_size == 1);
    // every branch ended by the caller: the step after reports them and runs no forward
    {
        const branches_run all = run_branches(s, branch_params(prompt, N, b), {2, 2, 2});
        CHECK(all.status == ENGINE_STATUS_OK && all.done == ENGINE_DONE_EOS && all.steps.size() == 4);
        CHECK(all.stats.forward_passes == 3);
        for (int i = 0; i < 3; ++i) CHECK(all.ids[i].size() == 3 && all.why[i] == ENGINE_BRANCH_ENDED);
    }
    // the session holds exactly the prompt; a plain generation keeps P - 1 tokens and gives what a fresh session gives
    CHECK(committed(s) == prompt);
    const generation_run after = single(s, prompt, N, SAMPLINGS[1], {}, {});
    CHECK(after.status == ENGINE_STATUS_OK && after.stats.reused_tokens == static_cast<int>(prompt.size()) - 1);
    engine_session * fresh = nullptr;
    CHECK(engine_session_init(m, 256, &fresh, nullptr, 0) == ENGINE_STATUS_OK);
    const generation_run ref = single(fresh, prompt, N, SAMPLINGS[1], {}, {});
    CHECK(ref.stats.reused_tokens == 0 && ref.ids == after.ids && ref.ids == full.ids[1]);
    engine_session_free(fresh);
}

// A stop token ends only its branch (each branch = its single sequence with the same stop tokens).
void test_stop_tokens(engine_session * s, const std::vector<int32_t> & prompt) {
    const generation_run g1 = single(s, prompt, 30, SAMPLINGS[1], {}, {});
    const std::vector<int32_t> stop = {g1.ids[6]};
    test_exact("stop token", s, prompt, 30, stop);
    std::vector<engine_sampling> b = {SAMPLINGS[0], SAMPLINGS[1], SAMPLINGS[2]};
    engine_generation_params p = branch_params(prompt, 30, b);
    p.stop_tokens = stop.data();
    p.n_stop = 1;
    const branches_run r = run_branches(s, p);
    CHECK(r.why[1] == ENGINE_BRANCH_EOS && r.ids[1].size() <= 6);
}

void test_abort_free_and_capacity(engine_model * m, const std::vector<int32_t> & prompt) {
    const int P = static_cast<int>(prompt.size());
    engine_session * s = nullptr;
    CHECK(engine_session_init(m, 64, &s, nullptr, 0) == ENGINE_STATUS_OK);
    std::vector<engine_sampling> b = {SAMPLINGS[0], SAMPLINGS[1], SAMPLINGS[2], SAMPLINGS[3]};
    char err[512] = {0};
    engine_generation * g = nullptr;
    // capacity: P + B * max_tokens must fit
    engine_generation_params p = branch_params(prompt, (64 - P) / 4 + 1, b);
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT && !g);
    CHECK(std::strstr(err, "4 branches") && std::strstr(err, "max context 64"));
    p.max_tokens = (64 - P) / 4;
    // abort: the step emits nothing, the generation ends, the session holds the prompt
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    int32_t buf[ENGINE_STEP_MAX_TOKENS];
    int n = 0;
    engine_done done = ENGINE_DONE_NOT;
    CHECK(engine_generation_step(g, buf, 3, &n, &done, nullptr) == ENGINE_STATUS_INVALID_ARGUMENT);  // room for 4 tokens needed
    for (int i = 0; i < 3; ++i) CHECK(engine_generation_step(g, buf, ENGINE_STEP_MAX_TOKENS, &n, &done, nullptr) == ENGINE_STATUS_OK && n == 4);
    CHECK(engine_session_length(s) == P + 8);
    engine_session_set_abort(s, 1);
    CHECK(engine_generation_step(g, buf, ENGINE_STEP_MAX_TOKENS, &n, &done, nullptr) == ENGINE_STATUS_OK);
    CHECK(n == 0 && done == ENGINE_DONE_CANCELLED && engine_generation_step_branches(g, buf, ENGINE_STEP_MAX_TOKENS) == 0);
    CHECK(committed(s) == prompt);
    engine_generation_free(g);
    // freed mid-way: the session holds the prompt
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    for (int i = 0; i < 4; ++i) CHECK(engine_generation_step(g, buf, ENGINE_STEP_MAX_TOKENS, &n, &done, nullptr) == ENGINE_STATUS_OK);
    CHECK(engine_session_length(s) == P + 12);
    engine_generation_free(g);
    CHECK(committed(s) == prompt);
    // freed before its first step: the session untouched
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    engine_generation_free(g);
    CHECK(committed(s) == prompt);
    engine_session_free(s);
}

void test_refused(engine_session * s, engine_drafter * d, const std::vector<int32_t> & prompt) {
    std::vector<engine_sampling> b(17, SAMPLINGS[1]);
    char err[512];
    engine_generation * g = nullptr;
    engine_generation_params p = branch_params(prompt, 4, b);
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT && !g);  // 17
    CHECK(std::strstr(err, "17") != nullptr);
    p.n_branches = 0;  // branches given, none counted
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT && !g);
    p.n_branches = -1;
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT && !g);
    p.n_branches = 2;
    p.mode = ENGINE_DECODE_REDRAFTER;
    p.drafter = d;
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT && !g);
    CHECK(std::strstr(err, "branches") != nullptr);
    p.mode = ENGINE_DECODE_AR;
    p.drafter = nullptr;
    p.logprobs = 1;
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT && !g);
    CHECK(std::strstr(err, "logprobs") != nullptr);
    p.logprobs = 0;
    CHECK(engine_session_acquire(s) == ENGINE_STATUS_OK);  // every refusal released the session
    engine_session_release(s);
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    CHECK(engine_generation_end_branch(g, 2) == ENGINE_STATUS_INVALID_ARGUMENT);
    CHECK(engine_generation_end_branch(g, -1) == ENGINE_STATUS_INVALID_ARGUMENT);
    CHECK(engine_generation_end_branch(nullptr, 0) == ENGINE_STATUS_INVALID_ARGUMENT);
    engine_generation_free(g);
    const engine_generation_params plain = greedy_params(prompt, 2);
    CHECK(engine_generation_init(s, &plain, &g, err, sizeof err) == ENGINE_STATUS_OK);
    CHECK(engine_generation_end_branch(g, 0) == ENGINE_STATUS_INVALID_ARGUMENT);  // no branches
    engine_generation_free(g);
}

// Masked K/V never reach the model's block pool: with the pool on, only the prompt's blocks are
// published, also when the session goes while a branches generation holds it.
void test_pool(engine_model * m) {
    CHECK(engine_model_set_kv_pool(m, 64ull << 20) == ENGINE_STATUS_OK);
    std::vector<int32_t> prompt;
    for (int i = 0; i < 37; ++i) prompt.push_back(5 + (i * 37) % 400);
    std::vector<engine_sampling> b = {SAMPLINGS[0], SAMPLINGS[1], SAMPLINGS[3]};
    engine_session * s = nullptr;
    CHECK(engine_session_init(m, 256, &s, nullptr, 0) == ENGINE_STATUS_OK);
    const branches_run r = run_branches(s, branch_params(prompt, 20, b));
    engine_kv_pool_stats ps;
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.inserted == 2);  // 37 prompt tokens: two full blocks
    // a session freed under the generation (free_pending): freed at the generation's free, after the truncation
    engine_generation_params p = branch_params(prompt, 20, b);
    engine_generation * g = nullptr;
    char err[256];
    CHECK(engine_generation_init(s, &p, &g, err, sizeof err) == ENGINE_STATUS_OK);
    int32_t buf[ENGINE_STEP_MAX_TOKENS];
    int n = 0;
    engine_done done = ENGINE_DONE_NOT;
    for (int i = 0; i < 10; ++i) CHECK(engine_generation_step(g, buf, ENGINE_STEP_MAX_TOKENS, &n, &done, nullptr) == ENGINE_STATUS_OK);
    engine_session_free(s);
    engine_generation_free(g);
    engine_model_get_kv_pool_stats(m, &ps);
    CHECK(ps.inserted == 3);  // and the prompt's partial last block as the session left (never a branch's K/V)
    // a new session reading the pool's blocks gives the same branches
    CHECK(engine_session_init(m, 256, &s, nullptr, 0) == ENGINE_STATUS_OK);
    const branches_run again = run_branches(s, branch_params(prompt, 20, b));
    CHECK(again.stats.reused_tokens == 36 && again.ids == r.ids);
    engine_session_free(s);
    CHECK(engine_model_set_kv_pool(m, 0) == ENGINE_STATUS_OK);
}

// stories260K's synthetic byte table (as test-generation.cpp's): id i >= 3 writes 1 + i % 3
// letters a..f; ids 0..2 are special.
void set_synthetic_token_bytes(engine_model * m, int V) {
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> offsets{0};
    std::vector<uint8_t> special(static_cast<size_t>(V), 0);
    for (int i = 0; i < V; ++i) {
        if (i < 3) {
            special[static_cast<size_t>(i)] = 1;
        } else {
            int x = i / 3;
            for (int k = 0; k < 1 + i % 3; ++k, x /= 6) bytes.push_back(static_cast<uint8_t>('a' + x % 6));
        }
        offsets.push_back(static_cast<uint32_t>(bytes.size()));
    }
    char err[256];
    CHECK(engine_model_set_token_bytes(m, bytes.data(), offsets.data(), special.data(), V, err, sizeof err) == ENGINE_STATUS_OK);
}

// The logits themselves, bit for bit: B token sequences decoded one token per forward on their own
// (a causal AR step at kv.length) against all B in one forward per step with the branches' KV
// layout and mask (interleaved slots, explicit positions), as branches.cpp lays them out.
void test_logits_bits(const char * name, const model & m, const std::vector<int32_t> & prompt, int B, int T) {
    const int64_t V = m.config.n_vocab, P = static_cast<int64_t>(prompt.size());
    auto tok = [&](int b, int t) { return static_cast<int32_t>(3 + (b * 131 + t * 29 + t * t * 7) % (V - 3)); };
    std::vector<std::vector<float>> ref(static_cast<size_t>(B));  // (B) (T, V): the AR logits after each token
    for (int b = 0; b < B; ++b) {
        session s;
        session_init(s, m, P + T + 1);
        session_forward(s, prompt.data(), P, nullptr, nullptr, nullptr, 0, nullptr, nullptr);
        for (int t = 0; t < T; ++t) {
            const int32_t x = tok(b, t), row = 0;
            std::vector<float> lg(static_cast<size_t>(V));
            session_forward(s, &x, 1, nullptr, nullptr, &row, 1, lg.data(), nullptr);
            ref[b].insert(ref[b].end(), lg.begin(), lg.end());
        }
    }
    session s;
    session_init(s, m, P + int64_t(B) * T + 1);
    session_forward(s, prompt.data(), P, nullptr, nullptr, nullptr, 0, nullptr, nullptr);
    std::vector<std::vector<int64_t>> slots(static_cast<size_t>(B));
    int differ = 0;
    for (int t = 0; t < T; ++t) {
        const int64_t len = s.kv.length, n = B, cols = len + n;
        std::vector<int32_t> x(n), pos(n), rows(n);
        std::vector<uint8_t> mask(static_cast<size_t>(n * cols), 0);
        for (int b = 0; b < B; ++b) {
            x[b] = tok(b, t);
            pos[b] = static_cast<int32_t>(P + t);
            rows[b] = b;
            for (int64_t j = 0; j < P; ++j) mask[b * cols + j] = 1;
            for (int64_t j : slots[b]) mask[b * cols + j] = 1;
            mask[b * cols + len + b] = 1;
        }
        std::vector<float> lg(static_cast<size_t>(n * V));
        session_forward(s, x.data(), n, pos.data(), mask.data(), rows.data(), n, lg.data(), nullptr);
        for (int b = 0; b < B; ++b) {
            slots[b].push_back(len + b);
            if (std::memcmp(lg.data() + b * V, ref[b].data() + int64_t(t) * V, static_cast<size_t>(V) * sizeof(float)) != 0) {
                if (differ++ < 3) {
                    double md = 0;
                    for (int64_t v = 0; v < V; ++v) md = std::max(md, (double)std::fabs(lg[b * V + v] - ref[b][t * V + v]));
                    std::fprintf(stderr, "  %s: branch %d token %d: logits differ from the AR step's (max |diff| %.3g)\n", name, b, t, md);
                }
            }
        }
    }
    CHECK(differ == 0);
}

// A seeded tiny model (tiny-engine.h) through the C API: exactness on other attention paths.
void test_tiny(const char * name, tiny_spec spec) {
    tiny_engine e(spec, 11, 2, 512);
    if (!e.ok()) return;
    std::vector<int32_t> prompt;
    for (int i = 0; i < 21; ++i) prompt.push_back(1 + (i * 7) % (spec.vocab - 1));
    test_exact(name, e.s, prompt, 40);
    model_load_params lp;
    lp.n_threads = 2;
    auto im = model_load(e.dir, lp);
    for (int B : {1, 3, 4}) test_logits_bits(name, *im, prompt, B, 24);
}

}  // namespace

int main() {
    stories_drafters f;
    if (stories_drafters_init(f, 256)) {
        const std::vector<int32_t> prompt{1, 403, 407, 21, 66};
        test_exact("stories260K", f.s, prompt, 40);
        test_exact("stories260K, one-token prompt", f.s, {1}, 12);
        test_stop_tokens(f.s, prompt);
        test_end_branch_and_after(f.s, f.model, prompt);
        test_abort_free_and_capacity(f.model, prompt);
        test_refused(f.s, f.d1, prompt);
        test_pool(f.model);
        set_synthetic_token_bytes(f.model, 512);
        for (const char * r : {"a", "bca", "abcabcab"}) test_exact("stories260K, required prefix", f.s, prompt, 20, {}, r);
    }
    stories_drafters_free(f);
    {
        model_load_params lp;
        lp.n_threads = 2;
        auto m = model_load(fixtures_dir() + "/models/stories260K", lp);
        for (int B : {2, 4}) test_logits_bits("stories260K", *m, {1, 403, 407, 21, 66, 9, 80, 300, 17}, B, 30);
    }
    tiny_spec f8;
    f8.vocab = 64;
    test_tiny("tiny f32, head_dim 8", f8);
    tiny_spec f32;
    f32.vocab = 64, f32.hidden = 64, f32.ff = 96, f32.heads = 2, f32.kv_heads = 1, f32.head_dim = 32;
    test_tiny("tiny f32, head_dim 32", f32);
    tiny_spec bf16 = f32;
    bf16.bf16 = true, bf16.heads = 4, bf16.kv_heads = 2, bf16.head_dim = 16;
    test_tiny("tiny bf16, head_dim 16", bf16);
    return test_summary("test-branches");
}
