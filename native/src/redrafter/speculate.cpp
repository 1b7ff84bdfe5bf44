/*
 * speculate.cpp: the ReDrafter round (docs/redrafter.md §2.11 pseudocode). Buffers live in a
 * thread-local workspace: a round runs on one thread from start to end.
 */
#include "speculate.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "accept.h"
#include "base/check.h"
#include "base/status.h"
#include "beam-search.h"
#include "core/model.h"
#include "core/sampler.h"
#include "core/session.h"
#include "drafter.h"
#include "tree-attention.h"

namespace {

struct speculate_ws {
    beam_search_result beams;
    beam_search_ws bs;
    std::vector<int32_t> all_beams;  // (M + extra, max_len)
    std::vector<int32_t> lens;       // (M + extra)
    draft_tree tree;
    std::vector<uint8_t> mask;       // (n_tree, n_ctx + n_tree)
    std::vector<int32_t> positions;  // (n_tree)
    std::vector<int32_t> rows;       // (n_tree)
    std::vector<float> logits;       // (n_tree, V)
    std::vector<float> hidden;       // (n_tree, H)
    std::vector<int> order;          // (V) sampling scratch
    std::vector<int> node_pos;       // (n_tree) constraint state each node's row is decided under; -1 = not allowed
    std::vector<int32_t> mask_ids;   // constraint_mask_logits scratch
    std::vector<float> mask_saved;
    accept_result acc;
};

thread_local speculate_ws t_ws;

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

speculate_params speculate_default_params(const std::string & backend) {
    speculate_params p;
    if (backend == "cuda") {  // verification of ~64 tokens costs about one token there (§5)
        p.n_beams = 16;
        p.beam_len = 5;
    } else {  // CPU: narrow trees pay (§5)
        p.n_beams = 1;
        p.beam_len = 3;
    }
    return p;
}

void speculate_step(session & s, const drafter * d, const speculate_params & params, const int32_t * extra_tokens,
                    const int32_t * extra_lens, int n_extra, int max_emit, std::vector<int32_t> & out,
                    speculate_round & round, const constraint_state & cs, std::vector<float> * out_logprobs, int n_lookup) {
    const model & m = *s.m;
    const int V = m.config.n_vocab, H = m.config.n_embd;
    if (!s.has_pending) throw engine_error(ERROR_INVALID_ARGUMENT, "redrafter step without a prefill: no pending token");
    if (d && (d->config.n_vocab != V || d->config.n_embd != H))
        throw engine_error(ERROR_INVALID_ARGUMENT, "drafter " + d->dir + " does not fit this session's model (hidden size or vocabulary differ)");
    const int M = d ? params.n_beams : 0, L = d ? params.beam_len : 1;  // no drafter: no beams, g0 alone
    if (d && (M < 1 || M > SPECULATE_MAX_BEAMS))
        throw engine_error(ERROR_INVALID_ARGUMENT, "beam width " + std::to_string(M) + " is outside 1.." + std::to_string(SPECULATE_MAX_BEAMS));
    if (d && (L < 2 || L > SPECULATE_MAX_LEN))
        throw engine_error(ERROR_INVALID_ARGUMENT, "beam length " + std::to_string(L) + " is outside 2.." + std::to_string(SPECULATE_MAX_LEN) +
                                                               " (it counts the guaranteed token)");
    if (max_emit < 1) throw engine_error(ERROR_INVALID_ARGUMENT, "max_emit must be at least 1");
    if (n_extra < 0 || (n_extra > 0 && (!extra_tokens || !extra_lens)))
        throw engine_error(ERROR_INVALID_ARGUMENT, "extra drafts: tokens and lengths are required");
    if (n_lookup < 0 || n_lookup > n_extra) throw engine_error(ERROR_INVALID_ARGUMENT, "lookup drafts: more than the extra drafts given");
    const int64_t n_ctx = s.kv.length;
    // A round commits at most `len` tokens (g0 + drafts), so cap the depth by the budget and the room left (§2.10).
    const int64_t room = s.kv.capacity - n_ctx;
    if (room < 1)
        throw engine_error(ERROR_INVALID_ARGUMENT, "context full: " + std::to_string(n_ctx) + " tokens fill max context " +
                                                               std::to_string(s.kv.capacity));
    const int len_cap = (int)std::min<int64_t>({(int64_t)max_emit, room, (int64_t)SPECULATE_MAX_EXTRA_LEN});
    const int Ld = std::min(L, len_cap);
    speculate_ws & ws = t_ws;
    const int32_t g0 = s.pending_token;

    // ---- draft (§2.3) ----
    auto t0 = std::chrono::steady_clock::now();
    if (d) beam_search(*d, m, s.pending_hidden.data(), g0, M, Ld, ws.beams, ws.bs, /*want_scores=*/false, cs);
    const double draft_ms = d ? ms_since(t0) : 0.0;

    // ---- join extra drafts (§3) and build the tree (§2.4) ----
    auto t1 = std::chrono::steady_clock::now();
    int max_len = Ld;
    int budget = (int)SESSION_SCRATCH_SLOTS - (1 + M * (Ld - 1));  // nodes the extra beams may add at most
    std::vector<std::pair<const int32_t *, int>> extras;
    int n_caller_kept = 0;  // the kept extras come in order: the caller's, then the lookup drafts
    {
        int64_t off = 0;
        for (int e = 0; e < n_extra; ++e) {
            const int n = extra_lens[e];
            if (n < 0) throw engine_error(ERROR_INVALID_ARGUMENT, "extra draft " + std::to_string(e) + " has a negative length");
            const int32_t * toks = extra_tokens + off;
            off += n;
            for (int i = 0; i < n; ++i)
                if (toks[i] < 0 || toks[i] >= V)
                    throw engine_error(ERROR_INVALID_ARGUMENT, "extra draft " + std::to_string(e) + ": token id " +
                                                                           std::to_string(toks[i]) + " is outside the vocabulary");
            if (n < 2 || toks[0] != g0) continue;  // does not continue the text, or adds nothing
            const int keep = std::min({n, len_cap, 1 + std::max(0, budget)});
            if (keep < 2) continue;
            budget -= keep - 1;
            extras.push_back({toks, keep});
            if (e < n_extra - n_lookup) n_caller_kept += 1;
            max_len = std::max(max_len, keep);
        }
    }
    // beams: the drafter's M, the extras; without a drafter and without extras, g0 alone (one node)
    const int n_beams = std::max(1, M + (int)extras.size());
    ws.all_beams.assign((size_t)n_beams * max_len, g0);
    ws.lens.assign(n_beams, Ld);
    for (int b = 0; b < M; ++b)
        std::memcpy(ws.all_beams.data() + (size_t)b * max_len, ws.beams.beams.data() + (size_t)b * Ld, sizeof(int32_t) * Ld);
    for (size_t e = 0; e < extras.size(); ++e) {
        std::memcpy(ws.all_beams.data() + (size_t)(M + e) * max_len, extras[e].first, sizeof(int32_t) * extras[e].second);
        ws.lens[M + e] = extras[e].second;
    }
    tree_build(ws.all_beams.data(), n_beams, max_len, ws.lens.data(), ws.tree);
    const draft_tree & tree = ws.tree;
    const int n_tree = tree.size();
    ENGINE_ASSERT(n_tree <= SESSION_SCRATCH_SLOTS);

    // ---- one base forward over the packed tree (§2.5) ----
    ws.mask.resize((size_t)n_tree * (n_ctx + n_tree));
    tree_mask(tree, (int)n_ctx, ws.mask.data());
    ws.positions.resize(n_tree);
    ws.rows.resize(n_tree);
    for (int i = 0; i < n_tree; ++i) {
        ws.positions[i] = (int32_t)(n_ctx + tree.depth[i]);
        ws.rows[i] = i;
    }
    ws.logits.resize((size_t)n_tree * V);  // logits: (n_tree, V), row i = after packed node i
    ws.hidden.resize((size_t)n_tree * H);  // hidden: (n_tree, H) post-norm
    model_forward(m, s.kv, tree.tokens.data(), n_tree, ws.positions.data(), ws.mask.data(), ws.rows.data(), n_tree,
                  ws.logits.data(), ws.hidden.data(), &s.abort);

    const double verify_ms = ms_since(t1);

    // ---- accept (§2.6-2.7) against the target masked per node by the constraint (§2.12) ----
    auto t2 = std::chrono::steady_clock::now();
    ws.node_pos.resize(n_tree);
    ws.node_pos[0] = cs.pos;  // parents precede children in packed order
    if (cs.c)
        for (int i = 1; i < n_tree; ++i) {
            const int pp = ws.node_pos[tree.parent[i]];
            ws.node_pos[i] = pp < 0 ? -1 : prefix_constraint_advance(*cs.c, pp, tree.tokens[i]);
        }
    accept_row_fn prepare = [&](int node, float * row) {
        sampler_check_finite(row, V);
        if (!cs.c) return;
        ENGINE_ASSERT(ws.node_pos[node] >= 0);  // the walk only enters allowed nodes
        constraint_mask_logits({cs.c, ws.node_pos[node]}, row, V, ws.mask_ids, ws.mask_saved);
    };
    accept_result & acc = ws.acc;
    if (s.sampling.temperature <= 0.0f) {
        accept_greedy(tree, ws.logits.data(), V, acc, prepare);
    } else {
        const sampling_params sp = s.sampling;
        accept_probs_fn probs = [&](const float * row, float * p) { accept_sampling_probs(row, V, sp, p, ws.order); };
        accept_uniform_fn uniform = [&]() { return s.rng.next_double(); };
        accept_sample(tree, ws.logits.data(), V, probs, uniform, acc, prepare);
    }

    // ---- commit the accepted path's KV (§2.9: rows are increasing packed indices, no re-rotation) ----
    const int n_acc = acc.n_accepted();
    kv_commit_rows(s.kv, acc.path.data(), (int64_t)acc.path.size());
    for (int32_t node : acc.path) s.tokens.push_back(tree.tokens[node]);
    // ---- next step's inputs (§2.8) ----
    std::memcpy(s.pending_hidden.data(), ws.hidden.data() + (size_t)acc.path.back() * H, sizeof(float) * H);
    s.pending_token = acc.next_token;
    s.has_pending = true;
    for (int k = 1; k <= n_acc; ++k) out.push_back(tree.tokens[acc.path[k]]);
    out.push_back(acc.next_token);
    if (out_logprobs) {
        // token path[k] was chosen from the row after its parent path[k - 1]; the new g0 from the last
        // node's row (every one of these rows was visited, so checked and masked, by the walk)
        for (int k = 1; k <= n_acc; ++k)
            out_logprobs->push_back(sampler_logprob(ws.logits.data() + (size_t)acc.path[k - 1] * V, V, tree.tokens[acc.path[k]]));
        s.pending_logprob = sampler_logprob(ws.logits.data() + (size_t)acc.path.back() * V, V, acc.next_token);
        out_logprobs->push_back(s.pending_logprob);
    }

    // ---- this round's figures (§4) ----
    round.tree_size = n_tree;
    round.accepted = n_acc;
    round.extra_accepted = 0;
    round.lookup_accepted = 0;
    for (int k = 1; k <= n_acc; ++k) {
        const int beam = tree.source[acc.path[k]] / max_len;  // the first beam holding this prefix
        if (beam >= M + n_caller_kept) {
            round.lookup_accepted += 1;
        } else if (beam >= M) {
            round.extra_accepted += 1;
        }
    }
    round.draft_ms = draft_ms;
    round.verify_ms = verify_ms;
    round.accept_ms = ms_since(t2);
}

void speculate_align_extra(const int32_t * generated, int n_generated, const int32_t * extra_tokens,
                           const int32_t * extra_lens, int n_extra, std::vector<int32_t> & out_tokens,
                           std::vector<int32_t> & out_lens) {
    out_tokens.clear();
    out_lens.clear();
    if (n_generated < 1) return;
    int64_t off = 0;
    for (int e = 0; e < n_extra; ++e) {
        const int n = extra_lens[e];
        const int32_t * d = extra_tokens + off;
        off += std::max(0, n);
        if (n <= n_generated) continue;  // nothing left past g0
        if (!std::equal(generated, generated + n_generated, d)) continue;
        out_tokens.insert(out_tokens.end(), d + n_generated - 1, d + n);
        out_lens.push_back(n - n_generated + 1);
    }
}
