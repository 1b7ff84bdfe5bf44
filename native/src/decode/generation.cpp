/*
 * generation.cpp: the decode loop's checks, its first step (prefix reuse + prefill) and its later
 * steps (one AR step, one ReDrafter round, one drafts round without a drafter, or one forward of
 * every live branch: branches.cpp), the stop rule, lookup drafts' adaptive length, and the running
 * totals.
 */
#include "generation.h"

#include <algorithm>
#include <chrono>

#include "base/check.h"
#include "base/status.h"
#include "core/model.h"
#include "core/kv-share.h"
#include "core/session.h"
#include "redrafter/drafter.h"

static_assert(1 + LOOKUP_MAX_TOKENS <= SPECULATE_MAX_EXTRA_LEN, "a lookup draft (g0 + tokens) fits one extra beam");

namespace {

[[noreturn]] void invalid(const std::string & msg) { throw engine_error(ERROR_INVALID_ARGUMENT, msg); }

void check_ids(const char * what, const std::vector<int32_t> & ids, int n_vocab) {
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= n_vocab)
            invalid(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                    " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void generation_init(generation & g, session & s, generation_params params) {
    const model & m = *s.m;
    const int V = m.config.n_vocab;
    if (params.prompt.empty()) invalid("a generation needs a prompt of at least one token");
    check_ids("prompt", params.prompt, V);
    check_ids("stop_tokens", params.stop, V);
    if (params.max_tokens < 1) invalid("max_tokens must be at least 1");
    if ((int64_t)params.prompt.size() + params.max_tokens > s.kv.capacity)
        invalid("prompt (" + std::to_string(params.prompt.size()) + " tokens) + max_tokens (" + std::to_string(params.max_tokens) +
                ") exceed the session's max context " + std::to_string(s.kv.capacity));
    if (params.d) {
        if (params.d->config.n_vocab != V || params.d->config.n_embd != m.config.n_embd)
            invalid("drafter " + params.d->dir + " does not fit this session's model (hidden size or vocabulary differ)");
        const speculate_params & sp = params.sp;
        if (sp.n_beams < 1 || sp.n_beams > SPECULATE_MAX_BEAMS)
            invalid("beam width " + std::to_string(sp.n_beams) + " is outside 1.." + std::to_string(SPECULATE_MAX_BEAMS));
        if (sp.beam_len < 2 || sp.beam_len > SPECULATE_MAX_LEN)
            invalid("beam length " + std::to_string(sp.beam_len) + " is outside 2.." + std::to_string(SPECULATE_MAX_LEN) +
                    " (it counts the guaranteed token)");
    }
    if (const char * e = lookup_params_error(params.lookup); *e) invalid(e);
    int64_t total = 0;
    for (size_t e = 0; e < params.extra_lens.size(); ++e) {
        if (params.extra_lens[e] < 0) invalid("extra draft " + std::to_string(e) + " has a negative length");
        total += params.extra_lens[e];
    }
    if (total != (int64_t)params.extra_tokens.size()) invalid("extra drafts: the lengths do not add up to the tokens given");
    check_ids("extra draft tokens", params.extra_tokens, V);
    if (!params.branches.empty()) {
        const int64_t B = static_cast<int64_t>(params.branches.size());
        if (B > GENERATION_MAX_BRANCHES)
            invalid(std::to_string(B) + " branches: at most " + std::to_string(GENERATION_MAX_BRANCHES) + " are decoded side by side");
        if (params.d || !params.extra_lens.empty() || params.logprobs || params.lookup.tokens > 0)
            invalid("branches decode plainly: no drafter, extra drafts, lookup drafts or logprobs with them");
        const int64_t need = (int64_t)params.prompt.size() + B * params.max_tokens;
        if (need > s.kv.capacity)
            invalid("prompt (" + std::to_string(params.prompt.size()) + " tokens) + " + std::to_string(B) + " branches x max_tokens (" +
                    std::to_string(params.max_tokens) + ") = " + std::to_string(need) + " exceed the session's max context " +
                    std::to_string(s.kv.capacity));
    }
    g = generation{};
    g.s = &s;
    if (!params.required_prefix.empty()) {
        if (!params.vocab) invalid("a required prefix needs the model's token bytes (engine_model_set_token_bytes)");
        ENGINE_ASSERT(params.vocab->n_vocab == V);
        g.constraint = prefix_constraint_make(params.vocab, params.required_prefix);
    }
    g.p = std::move(params);
    g.totals.prompt_tokens = (int)g.p.prompt.size();
    g.text.reserve(g.p.prompt.size() + (size_t)g.p.max_tokens);
    g.text.assign(g.p.prompt.begin(), g.p.prompt.end());
    if (g.p.lookup.tokens > 0) g.lookup_len = g.p.lookup.tokens;  // start at the cap; the schedule shrinks it on misses
    if (!g.p.branches.empty()) branches_init(g.br, g.p.branches);
}

void generation_release(generation & g) noexcept {
    try {
        branches_release(g);
    } catch (...) {  // a truncation to the prompt's length cannot fail: nothing to report
    }
}

namespace {
generation_done step(generation & g, int max_out, std::vector<int32_t> & out, generation_step_stats & st);
}  // namespace

generation_done generation_step(generation & g, int max_out, std::vector<int32_t> & out, generation_step_stats & st) {
    if (g.failed) invalid("this generation failed in an earlier step");
    if (g.done != GENERATION_RUNNING) invalid("this generation is done");
    if (max_out < 1) invalid("a step needs room for one token");
    if (g.br.active() && max_out < (int)g.br.b.size())
        invalid("a step of " + std::to_string(g.br.b.size()) + " branches needs room for " + std::to_string(g.br.b.size()) + " tokens");
    g.br.step_branch.clear();
    g.br.step_ended.clear();
    g.br.step_ended_why.clear();
    generation_done d;
    try {
        d = step(g, max_out, out, st);
    } catch (...) {
        generation_release(g);
        throw;
    }
    if (d != GENERATION_RUNNING) generation_release(g);
    return d;
}

namespace {

// One step of generation_step (its checks done; the caller releases the session at the end).
generation_done step(generation & g, int max_out, std::vector<int32_t> & out, generation_step_stats & st) {
    session & s = *g.s;
    st = generation_step_stats{};
    const auto t0 = std::chrono::steady_clock::now();
    if (s.abort.load()) return g.done = GENERATION_CANCELLED;
    std::vector<int32_t> & decided = g.round_out;
    decided.clear();
    std::vector<float> & decided_lp = g.round_logprobs;  // (decided) with p.logprobs
    decided_lp.clear();
    g.step_logprobs.clear();
    s.want_logprobs = g.p.logprobs;
    const constraint_state cs{g.constraint ? &*g.constraint : nullptr, g.cpos};
    generation_totals & tot = g.totals;
    try {
        if (!g.started) {  // reuse the resident prefix, prefill the rest
            const int64_t n = (int64_t)g.p.prompt.size();
            int64_t keep = session_reusable_prefix(s, g.p.prompt.data(), n);
            if (keep < s.kv.length) session_truncate(s, keep);
            keep = session_fill_from_pool(s, g.p.prompt.data(), n, keep);  // other sessions' resident blocks
            st.kind = STEP_PREFILL;
            st.reused_tokens = (int)keep;
            st.prompt_tokens = (int)(n - keep);
            tot.reused_tokens = (int)keep;
            if (g.br.active()) {  // the last row's logits once, for every branch (branches_first)
                const int32_t last = (int32_t)(n - keep - 1);
                g.br.logits.resize((size_t)s.m->config.n_vocab);
                session_forward(s, g.p.prompt.data() + keep, n - keep, nullptr, nullptr, &last, 1, g.br.logits.data(), nullptr);
            } else {
                decided.push_back(session_prefill(s, g.p.prompt.data() + keep, n - keep, g.p.sampling, cs));
                if (g.p.logprobs) decided_lp.push_back(s.pending_logprob);
            }
            session_publish_to_pool(s);
            g.started = true;
            if (g.br.active()) branches_first(g, out);
        } else if (g.br.active()) {
            if (!branches_step(g, out, st)) {  // every branch had ended (the caller's end requests)
                st.step_ms = ms_since(t0);
                return g.done = GENERATION_EOS;
            }
        } else {
            const int max_emit = std::min(max_out, g.p.max_tokens - tot.emitted);
            // the round's drafts: the caller's, re-aligned to g0 (none left once the output leaves them), then lookup drafts
            const size_t n_prompt = g.p.prompt.size();
            speculate_align_extra(g.text.data() + n_prompt, (int)(g.text.size() - n_prompt), g.p.extra_tokens.data(), g.p.extra_lens.data(),
                                  (int)g.p.extra_lens.size(), g.ex_tokens, g.ex_lens);
            const int n_caller = (int)g.ex_lens.size();
            g.lookup.clear();
            if (g.p.lookup.tokens > 0) {  // this round's lookup drafts, no deeper than the round may emit
                const int64_t room = s.kv.capacity - s.kv.length;
                const int cap = (int)std::min<int64_t>({(int64_t)g.lookup_len, (int64_t)max_emit - 1, room - 1});
                if (cap >= 1) lookup_find(g.text.data(), (int)g.text.size(), g.p.lookup, cap, g.lookup);
                g.ex_tokens.insert(g.ex_tokens.end(), g.lookup.tokens.begin(), g.lookup.tokens.end());
                g.ex_lens.insert(g.ex_lens.end(), g.lookup.lens.begin(), g.lookup.lens.end());
            }
            const int n_drafts = (int)g.ex_lens.size();
            if (!g.p.d && (n_drafts == 0 || max_emit < 2)) {  // nothing to verify: the plain step, unchanged
                st.kind = STEP_AR;
                st.round.tree_size = 1;
                decided.push_back(session_step_ar(s, cs));
                if (g.p.logprobs) decided_lp.push_back(s.pending_logprob);
            } else {
                st.kind = g.p.d ? STEP_REDRAFTER : STEP_DRAFTS;
                speculate_step(s, g.p.d, g.p.sp, g.ex_tokens.data(), g.ex_lens.data(), n_drafts, max_emit, decided, st.round, cs,
                               g.p.logprobs ? &decided_lp : nullptr, n_drafts - n_caller);
                if (g.lookup.size() > 0) {
                    // the schedule (docs/engine.md, "Lookup drafts"): as long as the longest lookup
                    // draft was accepted whole, double the length, else halve it (1..tokens); measured
                    // against HF's +2 / -1 and a fixed length (docs/performance.md)
                    const int longest = *std::max_element(g.lookup.lens.begin(), g.lookup.lens.end()) - 1;
                    g.lookup_len = st.round.accepted >= longest ? std::min(g.lookup_len * 2, g.p.lookup.tokens)
                                                                : std::max(g.lookup_len / 2, 1);
                }
            }
        }
    } catch (const engine_error & e) {
        if (e.kind == ERROR_CANCELLED) {
            st.step_ms = ms_since(t0);
            return g.done = GENERATION_CANCELLED;
        }
        g.failed = true;
        throw;
    } catch (...) {
        g.failed = true;
        throw;
    }
    if (g.br.active() && branches_all_ended(g.br)) {
        const bool all_max = std::all_of(g.br.b.begin(), g.br.b.end(), [](const branch & b) { return b.end == BRANCH_MAX_TOKENS; });
        g.done = all_max ? GENERATION_MAX_TOKENS : GENERATION_EOS;
    }
    // the stop rule: a decided stop token ends the generation and is not emitted (branches: each
    // branch's, in branches.cpp)
    for (size_t i = 0; i < decided.size(); ++i) {
        const int32_t t = decided[i];
        if (std::find(g.p.stop.begin(), g.p.stop.end(), t) != g.p.stop.end()) {
            g.done = GENERATION_EOS;
            break;
        }
        out.push_back(t);
        if (g.p.logprobs) g.step_logprobs.push_back(decided_lp[i]);
        g.text.push_back(t);
        tot.emitted += 1;
        if (g.constraint) {
            g.cpos = prefix_constraint_advance(*g.constraint, g.cpos, t);
            ENGINE_ASSERT(g.cpos >= 0);  // every decided token was chosen under the mask
        }
        if (tot.emitted >= g.p.max_tokens) {
            g.done = GENERATION_MAX_TOKENS;
            break;
        }
    }
    st.step_ms = ms_since(t0);
    tot.forward_passes += 1;
    if (st.kind == STEP_PREFILL) {
        tot.prefill_ms += st.step_ms;
    } else {
        tot.decode_ms += st.step_ms;
    }
    if (st.kind == STEP_REDRAFTER || st.kind == STEP_DRAFTS) {
        const speculate_round & r = st.round;
        tot.rounds += 1;
        tot.tree_nodes += r.tree_size;
        tot.max_tree_nodes = std::max<int64_t>(tot.max_tree_nodes, r.tree_size);
        tot.extra_accepted += r.extra_accepted;
        tot.lookup_accepted += r.lookup_accepted;
        tot.accepted_histogram[std::min(r.accepted, GENERATION_HISTOGRAM - 1)] += 1;
        tot.draft_ms += r.draft_ms;
        tot.verify_ms += r.verify_ms;
        tot.accept_ms += r.accept_ms;
    }
    return g.done;
}

}  // namespace
