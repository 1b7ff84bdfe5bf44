/*
 * branches.cpp: the branch steps of the decode loop (branches.h): each branch's choice of a token
 * under its own sampler and required-prefix state, its stop rule, the one masked forward of every
 * live branch's pending token, and the truncation back to the prompt at the end.
 */
#include "branches.h"

#include <algorithm>
#include <string>

#include "base/check.h"
#include "base/status.h"
#include "core/model.h"
#include "core/session.h"
#include "generation.h"

void branches_init(branch_set & bs, const std::vector<sampling_params> & params) {
    bs = branch_set{};
    bs.b.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) bs.b[i].sampling = params[i];
    bs.end_asked = std::make_unique<std::atomic<bool>[]>(params.size());
    for (size_t i = 0; i < params.size(); ++i) bs.end_asked[i].store(false);
}

void branches_request_end(branch_set & bs, int b) {
    if (b < 0 || b >= static_cast<int>(bs.b.size()))
        throw engine_error(ERROR_INVALID_ARGUMENT, "branch " + std::to_string(b) + " is outside 0.." +
                                                       std::to_string(static_cast<int>(bs.b.size()) - 1) +
                                                       (bs.b.empty() ? " (this generation has no branches)" : ""));
    bs.end_asked[static_cast<size_t>(b)].store(true, std::memory_order_release);
}

bool branches_all_ended(const branch_set & bs) {
    return std::all_of(bs.b.begin(), bs.b.end(), [](const branch & x) { return x.end != BRANCH_LIVE; });
}

namespace {

void ended(branch_set & bs, int b, branch_end why) {
    bs.b[static_cast<size_t>(b)].end = why;
    bs.step_ended.push_back(b);
    bs.step_ended_why.push_back(why);
}

// The caller's end requests take effect: those branches take no further rows.
void apply_end_requests(branch_set & bs) {
    for (size_t i = 0; i < bs.b.size(); ++i)
        if (bs.b[i].end == BRANCH_LIVE && bs.end_asked[i].load(std::memory_order_acquire)) ended(bs, static_cast<int>(i), BRANCH_ENDED);
}

// Branch b picks its next token from row (n_vocab; masked in place) as a single sequence's
// session choose() would, then the stop rule: a decided stop token ends the branch and is not
// emitted; max_tokens emitted end it too.
void decide(generation & g, int b, float * row, std::vector<int32_t> & out) {
    session & s = *g.s;
    branch & br = g.br.b[static_cast<size_t>(b)];
    const int V = s.m->config.n_vocab;
    sampler_check_finite(row, V);
    const constraint_state cs{g.constraint ? &*g.constraint : nullptr, br.cpos};
    constraint_mask_logits(cs, row, V, s.mask_ids, s.mask_saved);
    const int32_t t = sampler_sample(row, V, br.sampling, br.rng);
    if (std::find(g.p.stop.begin(), g.p.stop.end(), t) != g.p.stop.end()) {
        ended(g.br, b, BRANCH_EOS);
        return;
    }
    out.push_back(t);
    g.br.step_branch.push_back(b);
    br.pending = t;
    br.emitted += 1;
    g.totals.emitted += 1;
    if (g.constraint) {
        br.cpos = prefix_constraint_advance(*g.constraint, br.cpos, t);
        ENGINE_ASSERT(br.cpos >= 0);  // chosen under the mask
    }
    if (br.emitted >= g.p.max_tokens) ended(g.br, b, BRANCH_MAX_TOKENS);
}

}  // namespace

void branches_first(generation & g, std::vector<int32_t> & out) {
    branch_set & bs = g.br;
    session & s = *g.s;
    const size_t V = static_cast<size_t>(s.m->config.n_vocab);
    apply_end_requests(bs);
    for (size_t i = 0; i < bs.b.size(); ++i) {
        branch & br = bs.b[i];
        if (br.end != BRANCH_LIVE) continue;
        br.rng.reseed(br.sampling.seed);
        std::copy(bs.logits.begin(), bs.logits.begin() + static_cast<std::ptrdiff_t>(V), s.logits.begin());  // each its own copy
        decide(g, static_cast<int>(i), s.logits.data(), out);
    }
}

bool branches_step(generation & g, std::vector<int32_t> & out, generation_step_stats & st) {
    branch_set & bs = g.br;
    session & s = *g.s;
    const int64_t V = s.m->config.n_vocab;
    const int64_t P = static_cast<int64_t>(g.p.prompt.size());
    apply_end_requests(bs);
    bs.live.clear();
    for (size_t i = 0; i < bs.b.size(); ++i)
        if (bs.b[i].end == BRANCH_LIVE) bs.live.push_back(static_cast<int32_t>(i));
    if (bs.live.empty()) return false;
    // one row per live branch: its pending token at position P + t (t: its tokens in the cache), at
    // slot len + r; mask row r (len + n): the prompt [0, P), the branch's own slots, its new slot
    const int64_t n = static_cast<int64_t>(bs.live.size()), len = s.kv.length, cols = len + n;
    bs.tokens.resize(static_cast<size_t>(n));
    bs.positions.resize(static_cast<size_t>(n));
    bs.rows.resize(static_cast<size_t>(n));
    bs.mask.assign(static_cast<size_t>(n * cols), 0);
    for (int64_t r = 0; r < n; ++r) {
        const branch & br = bs.b[static_cast<size_t>(bs.live[r])];
        bs.tokens[r] = br.pending;
        bs.positions[r] = static_cast<int32_t>(P + static_cast<int64_t>(br.slots.size()));
        bs.rows[r] = static_cast<int32_t>(r);
        uint8_t * m = bs.mask.data() + r * cols;
        std::fill(m, m + P, uint8_t{1});
        for (const int64_t j : br.slots) m[j] = 1;
        m[len + r] = 1;
    }
    bs.logits.resize(static_cast<size_t>(n * V));
    session_forward(s, bs.tokens.data(), n, bs.positions.data(), bs.mask.data(), bs.rows.data(), n, bs.logits.data(), nullptr);
    st.kind = STEP_AR;
    st.round.tree_size = static_cast<int>(n);
    for (int64_t r = 0; r < n; ++r) bs.b[static_cast<size_t>(bs.live[r])].slots.push_back(len + r);
    for (int64_t r = 0; r < n; ++r) decide(g, bs.live[r], bs.logits.data() + r * V, out);
    return true;
}

void branches_release(generation & g) {
    if (!g.br.active() || !g.started || !g.s) return;
    session & s = *g.s;
    const int64_t P = static_cast<int64_t>(g.p.prompt.size());
    if (s.kv.length > P) session_truncate(s, P);
    s.has_pending = false;  // no branch's token is the session's g0
}
