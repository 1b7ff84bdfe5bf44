/*
 * engine-generation.cpp: the generations part of the C API (include/engine.h): copies and checks
 * the caller's arrays, holds the session's busy guard from init to free (each step moves it from
 * "held by a generation" to "a generation step runs" and back), and converts exceptions and
 * figures. The loop itself is decode/generation.cpp.
 */
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "api-guard.h"
#include "base/status.h"
#include "engine-internal.h"
#include "engine.h"

static_assert(int(ENGINE_DONE_NOT) == int(GENERATION_RUNNING) && int(ENGINE_DONE_EOS) == int(GENERATION_EOS) &&
                  int(ENGINE_DONE_MAX_TOKENS) == int(GENERATION_MAX_TOKENS) &&
                  int(ENGINE_DONE_CANCELLED) == int(GENERATION_CANCELLED),
              "engine_done and generation_done must agree");
static_assert(int(ENGINE_STEP_PREFILL) == int(STEP_PREFILL) && int(ENGINE_STEP_AR) == int(STEP_AR) &&
                  int(ENGINE_STEP_REDRAFTER) == int(STEP_REDRAFTER) && int(ENGINE_STEP_DRAFTS) == int(STEP_DRAFTS),
              "engine_step_kind and generation_step_kind must agree");
static_assert(ENGINE_ACCEPTED_HISTOGRAM == GENERATION_HISTOGRAM, "histogram sizes must agree");
static_assert(ENGINE_STEP_MAX_TOKENS == SPECULATE_MAX_EXTRA_LEN, "a round emits at most its longest beam");
static_assert(ENGINE_MAX_BRANCHES == GENERATION_MAX_BRANCHES && ENGINE_MAX_BRANCHES <= ENGINE_STEP_MAX_TOKENS,
              "branch counts must agree, and a branches step fits a step's tokens");
static_assert(int(ENGINE_BRANCH_EOS) == int(BRANCH_EOS) && int(ENGINE_BRANCH_MAX_TOKENS) == int(BRANCH_MAX_TOKENS) &&
                  int(ENGINE_BRANCH_ENDED) == int(BRANCH_ENDED),
              "engine_branch_end and branch_end must agree");

namespace {

[[noreturn]] void invalid(const std::string & msg) { throw engine_error(ERROR_INVALID_ARGUMENT, msg); }

generation_params to_generation_params(const engine_session * s, const engine_generation_params & p) {
    if (!p.prompt || p.n_prompt < 1) invalid("a generation needs a prompt of at least one token");
    if (p.n_stop < 0 || (p.n_stop > 0 && !p.stop_tokens)) invalid("stop_tokens: n_stop tokens are required");
    if (p.n_extra < 0 || (p.n_extra > 0 && (!p.extra_tokens || !p.extra_lens))) invalid("extra drafts: tokens and lengths are required");
    if (p.n_required_prefix < 0 || (p.n_required_prefix > 0 && !p.required_prefix))
        invalid("required_prefix: n_required_prefix bytes are required");
    generation_params g;
    g.prompt.assign(p.prompt, p.prompt + p.n_prompt);
    g.sampling = to_params(&p.sampling);
    g.max_tokens = p.max_tokens;
    if (p.n_stop > 0) g.stop.assign(p.stop_tokens, p.stop_tokens + p.n_stop);
    if (p.mode == ENGINE_DECODE_REDRAFTER) {
        if (!p.drafter) invalid("mode REDRAFTER needs a drafter");
        g.d = p.drafter->d.get();
        g.sp = redrafter_resolve(s->model, p.n_beams, p.beam_len);
    } else if (p.mode != ENGINE_DECODE_AR) {
        invalid("mode must be ENGINE_DECODE_AR or ENGINE_DECODE_REDRAFTER");
    }
    // extra drafts: beside the drafter's beams (REDRAFTER) or verified without one (AR)
    int64_t total = 0;
    for (int e = 0; e < p.n_extra; ++e) {
        if (p.extra_lens[e] < 0) invalid("extra draft " + std::to_string(e) + " has a negative length");
        total += p.extra_lens[e];
    }
    if (p.n_extra > 0) {
        g.extra_lens.assign(p.extra_lens, p.extra_lens + p.n_extra);
        g.extra_tokens.assign(p.extra_tokens, p.extra_tokens + total);
    }
    if (p.lookup_tokens != 0) {  // zero n-gram / draft counts: the defaults; checked in generation_init
        g.lookup.tokens = p.lookup_tokens;
        if (p.lookup_min_ngram != 0) g.lookup.min_ngram = p.lookup_min_ngram;
        if (p.lookup_max_ngram != 0) g.lookup.max_ngram = p.lookup_max_ngram;
        if (p.lookup_max_drafts != 0) g.lookup.max_drafts = p.lookup_max_drafts;
        // a default min above an explicit max (or the reverse) follows the explicit one
        if (p.lookup_min_ngram == 0) g.lookup.min_ngram = std::min(g.lookup.min_ngram, g.lookup.max_ngram);
        if (p.lookup_max_ngram == 0) g.lookup.max_ngram = std::max(g.lookup.max_ngram, g.lookup.min_ngram);
    }
    if (p.n_required_prefix > 0) {
        g.required_prefix.assign(reinterpret_cast<const char *>(p.required_prefix), static_cast<size_t>(p.n_required_prefix));
        g.vocab = s->model->vocab;
    }
    g.logprobs = p.logprobs != 0;
    if (p.n_branches != 0 || p.branches) {
        if (!p.branches || p.n_branches < 1 || p.n_branches > ENGINE_MAX_BRANCHES)
            invalid("branches: " + std::to_string(p.n_branches) + " given, 1.." + std::to_string(ENGINE_MAX_BRANCHES) +
                    " are decoded side by side (and their params are required)");
        if (p.mode != ENGINE_DECODE_AR) invalid("branches decode plainly: mode must be ENGINE_DECODE_AR");
        for (int b = 0; b < p.n_branches; ++b) g.branches.push_back(to_params(&p.branches[b]));
    }
    return g;
}

}  // namespace

extern "C" engine_generation_params engine_generation_default_params(void) noexcept {
    engine_generation_params p;
    std::memset(&p, 0, sizeof p);
    p.sampling = engine_sampling{0.0f, 0, 1.0f, 0};
    p.max_tokens = 1;
    p.mode = ENGINE_DECODE_AR;
    return p;
}

extern "C" engine_status engine_generation_init(engine_session * s, const engine_generation_params * params,
                                                engine_generation ** out, char * error, size_t error_len) noexcept {
    if (out) *out = nullptr;
    if (!s || !params || !out) {
        copy_str(error, error_len, "engine_generation_init: session, params and out are required");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    int expected = SESSION_FREE;
    if (!s->s.busy.compare_exchange_strong(expected, SESSION_GENERATION)) {
        copy_str(error, error_len, "session is busy: another call on it is still running");
        return ENGINE_STATUS_BUSY;
    }
    std::string err;
    std::unique_ptr<engine_generation> eg;
    engine_status st = guarded(err, [&] {
        eg = std::make_unique<engine_generation>();
        eg->session = s;
        generation_init(eg->g, s->s, to_generation_params(s, *params));
    });
    if (st != ENGINE_STATUS_OK) {
        s->s.busy.store(SESSION_FREE);
        copy_str(error, error_len, err);
        return st;
    }
    s->s.abort.store(false);
    *out = eg.release();
    return ENGINE_STATUS_OK;
}

extern "C" void engine_generation_free(engine_generation * g) noexcept {
    if (!g) return;
    engine_session * s = g->session;
    generation_release(g->g);  // branches: the session back to the prompt
    s->s.busy.store(SESSION_FREE);
    delete g;
    if (s->free_pending) engine_session_free(s);  // freed while this generation held it
}

extern "C" engine_status engine_generation_step(engine_generation * g, int32_t * out_tokens, int max_out, int * n_out,
                                                engine_done * done, engine_step_stats * stats) noexcept {
    if (n_out) *n_out = 0;
    if (done) *done = ENGINE_DONE_NOT;
    if (!g) return ENGINE_STATUS_INVALID_ARGUMENT;
    session & ss = g->session->s;
    int expected = SESSION_GENERATION;
    if (!ss.busy.compare_exchange_strong(expected, SESSION_GENERATION_STEP)) return ENGINE_STATUS_BUSY;
    engine_status st = guarded(ss.last_error, [&] {
        if (!out_tokens || max_out < 1) invalid("a step needs room for one token");
        g->out.clear();
        generation_step_stats gs;
        const generation_done d = generation_step(g->g, max_out, g->out, gs);
        std::copy(g->out.begin(), g->out.end(), out_tokens);
        if (n_out) *n_out = static_cast<int>(g->out.size());
        if (done) *done = static_cast<engine_done>(d);
        to_step_stats(gs, stats);
    });
    ss.busy.store(SESSION_GENERATION);
    return st;
}

extern "C" int engine_generation_step_logprobs(const engine_generation * g, float * out, int max) noexcept {
    if (!g) return 0;
    const std::vector<float> & lp = g->g.step_logprobs;
    if (out && max > 0) std::copy(lp.begin(), lp.begin() + std::min<size_t>(lp.size(), static_cast<size_t>(max)), out);
    return static_cast<int>(lp.size());
}

extern "C" void engine_generation_get_stats(const engine_generation * g, engine_generation_stats * out) noexcept {
    if (!g || !out) return;
    const generation_totals & t = g->g.totals;
    std::memset(out, 0, sizeof *out);
    out->prompt_tokens = t.prompt_tokens;
    out->reused_tokens = t.reused_tokens;
    out->emitted = t.emitted;
    out->forward_passes = t.forward_passes;
    out->rounds = t.rounds;
    out->tree_nodes = t.tree_nodes;
    out->max_tree_nodes = t.max_tree_nodes;
    out->extra_accepted = t.extra_accepted;
    out->lookup_accepted = t.lookup_accepted;
    std::copy(t.accepted_histogram, t.accepted_histogram + GENERATION_HISTOGRAM, out->accepted_histogram);
    out->prefill_ms = t.prefill_ms;
    out->decode_ms = t.decode_ms;
    out->draft_ms = t.draft_ms;
    out->verify_ms = t.verify_ms;
    out->accept_ms = t.accept_ms;
}

extern "C" int engine_generation_step_branches(const engine_generation * g, int32_t * out, int max) noexcept {
    if (!g) return 0;
    const std::vector<int32_t> & b = g->g.br.step_branch;
    if (out && max > 0) std::copy(b.begin(), b.begin() + std::min<size_t>(b.size(), static_cast<size_t>(max)), out);
    return static_cast<int>(b.size());
}

extern "C" int engine_generation_step_ended(const engine_generation * g, int32_t * branches, engine_branch_end * why, int max) noexcept {
    if (!g) return 0;
    const branch_set & bs = g->g.br;
    const size_t k = std::min<size_t>(bs.step_ended.size(), static_cast<size_t>(std::max(max, 0)));
    for (size_t i = 0; i < k; ++i) {
        if (branches) branches[i] = bs.step_ended[i];
        if (why) why[i] = static_cast<engine_branch_end>(bs.step_ended_why[i]);
    }
    return static_cast<int>(bs.step_ended.size());
}

extern "C" engine_status engine_generation_end_branch(engine_generation * g, int b) noexcept {
    if (!g) return ENGINE_STATUS_INVALID_ARGUMENT;
    std::string err;  // not the session's last_error: a step may be running and writing it
    return guarded(err, [&] { branches_request_end(g->g.br, b); });
}
