/*
 * beam-search.cpp: the drafter forward (§1.3-1.4), written once against the base model's backend
 * table, and beam search (§2.3): the top-M selection on the host. At step 1 every beam holds the
 * same state and input, so one row is computed and shared (§2.3); the candidates are still the
 * full M x V table, so results equal the unoptimised search.
 */
#include "beam-search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/backend.h"
#include "base/check.h"
#include "core/model.h"
#include "drafter.h"

namespace {

// The drafter step's activation buffers (engine_backend_i::scratch slots).
enum : int {
    D_STATE = BACKEND_SCRATCH_DRAFTER,  // state, state_next: (M, H)
    D_STATE_NEXT,
    D_EMB,                              // emb: (M, H) base input embeddings
    D_TMP,                              // tmp: (M, H) W e
    D_Z,                                // z: (M, 2H) concat(context, state)
    D_H,                                // h, h2: (M, E)
    D_H2,
    D_LOGITS,                           // logits: (M, V) -> log q after §1.5
    D_END
};
static_assert(D_END <= BACKEND_SCRATCH_SLOTS, "the drafter's scratch slots exceed the backend's");

struct candidate {
    float score;
    int64_t flat;  // beam * V + token: ties go to the lower flat index
};
inline bool better(const candidate & a, const candidate & b) { return a.score > b.score || (a.score == b.score && a.flat < b.flat); }

// Keeps the best M candidates seen (a small sorted array; M is small).
struct top_m {
    int m;
    std::vector<candidate> items;  // sorted best first
    void offer(const candidate & c) {
        if ((int)items.size() == m && !better(c, items.back())) return;
        auto pos = std::upper_bound(items.begin(), items.end(), c, better);
        items.insert(pos, c);
        if ((int)items.size() > m) items.pop_back();
    }
};

}  // namespace

void beam_search(const drafter & d, const model & base, const float * context, int32_t g0, int M, int L,
                 beam_search_result & out, beam_search_ws & ws, bool want_scores, const constraint_state & cs) {
    ENGINE_ASSERT(M >= 1 && L >= 1);
    const engine_backend_i & be = *base.backend;
    engine_backend_ctx * ctx = base.bctx;
    const int H = d.config.n_embd, E = d.config.exit_dim, V = d.config.n_vocab;
    const bool proj = d.input_proj.rows > 0;
    out.n_beams = M;
    out.beam_len = L;
    out.beams.assign((size_t)M * L, g0);
    out.scores.assign(M, BEAM_LOG_0);
    out.scores[0] = 0.0f;  // only beam 0 alive at step 1 (§2.3)
    if (L == 1) return;

    auto buf = [&](int slot, size_t floats) { return be.scratch(ctx, slot, floats * sizeof(float)); };
    float * state = buf(D_STATE, (size_t)M * H);
    float * state_next = buf(D_STATE_NEXT, (size_t)M * H);
    float * emb = buf(D_EMB, (size_t)M * H);
    float * tmp = buf(D_TMP, (size_t)M * H);
    float * z = buf(D_Z, (size_t)M * 2 * H);
    float * h = buf(D_H, (size_t)M * E);
    float * h2 = buf(D_H2, (size_t)M * E);
    float * lg = buf(D_LOGITS, (size_t)M * V);
    ws.zeros.assign((size_t)M * H, 0.0f);
    be.buffer_upload(ctx, state, ws.zeros.data(), sizeof(float) * (size_t)M * H);
    // the host's view of the logits: the buffer itself on host-memory backends, else a copy
    if (!be.host_memory) ws.logits.resize((size_t)M * V);
    float * hl = be.host_memory ? lg : ws.logits.data();
    ws.last.resize(M);
    ws.parent.resize(M);
    ws.beams_next.resize((size_t)M * L);
    std::vector<float> scores_next(M);
    const bool constrained = cs.active();
    ws.cpos.assign(M, cs.pos);
    ws.cpos_next.resize(M);

    for (int t = 1; t < L; ++t) {
        const int rows = t == 1 ? 1 : M;  // step 1: identical rows, compute one (§2.3)
        // §1.3 state update. emb: (rows, H) base input embeddings of each beam's last token.
        for (int r = 0; r < rows; ++r) ws.last[r] = out.beams[(size_t)r * L + t - 1];
        be.embed_rows(ctx, &base.tok_embd, ws.last.data(), rows, emb);
        if (d.config.rnn) {
            // state = SiLU(W e + U s + b_U); at t = 1, s = 0, so U s = 0 but b_U still applies.
            const matmul_job wj = {tmp, H, &d.rnn_w, nullptr};  // tmp: (rows, H)
            be.matmul(ctx, &wj, 1, emb, rows);
            const matmul_job uj = {state_next, H, &d.rnn_u, d.rnn_u_bias.data()};  // (rows, H)
            be.matmul(ctx, &uj, 1, state, rows);
            be.drafter_state(ctx, state, tmp, state_next, (int64_t)rows * H, 1);
        } else {
            be.drafter_state(ctx, state, emb, nullptr, (int64_t)rows * H, 0);
        }
        // §1.4 head: z = concat(c, s) (rows, 2H) -> [input_proj] -> N residual SiLU blocks -> lm_head.
        for (int r = 0; r < rows; ++r) be.buffer_upload(ctx, z + (size_t)r * 2 * H, context, sizeof(float) * H);
        be.gather_rows(ctx, z + H, 2 * H, state, H, nullptr, rows, H);
        if (proj) {
            const matmul_job pj = {h, E, &d.input_proj, d.input_proj_bias.data()};  // h: (rows, E)
            be.matmul(ctx, &pj, 1, z, rows);
        } else {
            be.gather_rows(ctx, h, E, z, E, nullptr, rows, E);  // E == 2H
        }
        for (size_t i = 0; i < d.res_w.size(); ++i) {
            const matmul_job rj = {h2, E, &d.res_w[i], d.res_b[i].data()};  // h2: (rows, E)
            be.matmul(ctx, &rj, 1, h, rows);
            be.silu_residual(ctx, h, h2, (int64_t)rows * E);
        }
        const matmul_job lj = {lg, V, &d.lm_head, nullptr};  // logits: (rows, V)
        be.matmul(ctx, &lj, 1, h, rows);
        be.buffer_download(ctx, hl, lg, sizeof(float) * (size_t)rows * V);
        if (constrained)  // §2.12: each beam's row under its own state (a beam that left it: unmasked)
            for (int r = 0; r < rows; ++r)
                if (ws.cpos[r] >= 0)
                    constraint_mask_logits({cs.c, ws.cpos[r]}, hl + (size_t)r * V, V, ws.mask_ids, ws.mask_saved);
        if (M == 1 && !want_scores) {
            // One beam: the top-1 of 0 + log q is the argmax of the raw logits (max-subtraction,
            // the top-50 mask and log-softmax keep the order; ties go to the lower id either way).
            int32_t best = 0;
            for (int v = 1; v < V; ++v)
                if (hl[v] > hl[best]) best = v;
            out.beams[t] = best;
            out.scores[0] = std::nanf("");
            if (constrained && ws.cpos[0] >= 0) ws.cpos[0] = prefix_constraint_advance(*cs.c, ws.cpos[0], best);
            continue;
        }
        // §1.5 log q per row
        std::vector<float> & mv = ws.masked;
        mv.resize(rows);
        be.buffer_upload(ctx, lg, hl, sizeof(float) * (size_t)rows * V);  // the constraint's masking
        be.topk_logprobs(ctx, lg, rows, V, BEAM_TOP_K, mv.data());
        be.buffer_download(ctx, hl, lg, sizeof(float) * (size_t)rows * V);

        // §2.3 top-M of score[m] + log q[m][v] over all M * V (ties: lower flat index). Per row,
        // the entries at LOG_0 - lse share one value, so only the first M of them can be chosen.
        top_m best{M, {}};
        best.items.reserve(M + 1);
        for (int m = 0; m < M; ++m) {
            const int r = t == 1 ? 0 : m;
            const float * lq = hl + (size_t)r * V;
            const float masked_val = mv[r];  // NaN when nothing was masked
            int masked_taken = 0;
            for (int v = 0; v < V; ++v) {
                const bool masked = lq[v] == masked_val;
                if (masked && masked_taken >= M) continue;
                masked_taken += masked;
                best.offer({out.scores[m] + lq[v], (int64_t)m * V + v});
            }
        }
        // Gather: beams[k] = beams[p_k] + [v_k], state[k] = state[p_k].
        for (int k = 0; k < M; ++k) {
            const int p = (int)(best.items[k].flat / V);
            const int32_t v = (int32_t)(best.items[k].flat % V);
            std::memcpy(ws.beams_next.data() + (size_t)k * L, out.beams.data() + (size_t)p * L, sizeof(int32_t) * L);
            ws.beams_next[(size_t)k * L + t] = v;
            ws.parent[k] = t == 1 ? 0 : p;
            scores_next[k] = best.items[k].score;
            if (constrained) ws.cpos_next[k] = ws.cpos[p] < 0 ? -1 : prefix_constraint_advance(*cs.c, ws.cpos[p], v);
        }
        be.gather_rows(ctx, state_next, H, state, H, ws.parent.data(), M, H);
        out.beams.swap(ws.beams_next);
        std::swap(state, state_next);
        out.scores = scores_next;
        if (constrained) ws.cpos.swap(ws.cpos_next);
    }
}
