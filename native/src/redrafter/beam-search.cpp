/*
 * beam-search.cpp: the drafter forward (§1.3-1.4) and beam search (§2.3) on the CPU kernels.
 * At step 1 every beam holds the same state and input, so one row is computed and shared
 * (§2.3); the candidates are still the full M x V table, so results equal the unoptimised search.
 */
#include "beam-search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "core/model.h"
#include "drafter.h"
#include "kernels/kernels.h"

namespace {

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

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

float beam_logprobs_row(float * row, int n_vocab, int top_k, std::vector<float> & scratch) {
    float mx = row[0];
    for (int v = 1; v < n_vocab; ++v) mx = std::max(mx, row[v]);
    for (int v = 0; v < n_vocab; ++v) row[v] -= mx;  // maintain_logits
    const int k = std::min(top_k, n_vocab);
    // k-th largest value: a min-heap of the k largest seen (one pass; few pushes past the first k)
    scratch.assign(row, row + k);
    std::make_heap(scratch.begin(), scratch.end(), std::greater<float>());
    for (int v = k; v < n_vocab; ++v) {
        if (row[v] > scratch.front()) {
            std::pop_heap(scratch.begin(), scratch.end(), std::greater<float>());
            scratch.back() = row[v];
            std::push_heap(scratch.begin(), scratch.end(), std::greater<float>());
        }
    }
    const float kth = scratch.front();
    // warp_logits: entries strictly below the k-th largest become LOG_0. exp(LOG_0) is 0 in double,
    // so only the kept entries enter the sum (in index order, as a full sum would add them).
    double sum = 0;
    bool any_masked = false;
    for (int v = 0; v < n_vocab; ++v) {
        if (row[v] < kth) {
            row[v] = BEAM_LOG_0;
            any_masked = true;
        } else {
            sum += std::exp((double)row[v]);
        }
    }
    const float lse = (float)std::log(sum);
    for (int v = 0; v < n_vocab; ++v) row[v] -= lse;
    return any_masked ? BEAM_LOG_0 - lse : std::nanf("");
}

void beam_search(const drafter & d, const model & base, const float * context, int32_t g0, int M, int L,
                 beam_search_result & out, beam_search_ws & ws, thread_pool * pool, bool want_scores,
                 const constraint_state & cs) {
    ENGINE_ASSERT(M >= 1 && L >= 1);
    const int H = d.config.n_embd, E = d.config.exit_dim, V = d.config.n_vocab;
    const bool proj = d.input_proj.rows > 0;
    out.n_beams = M;
    out.beam_len = L;
    out.beams.assign((size_t)M * L, g0);
    out.scores.assign(M, BEAM_LOG_0);
    out.scores[0] = 0.0f;  // only beam 0 alive at step 1 (§2.3)
    if (L == 1) return;

    ws.state.assign((size_t)M * H, 0.0f);
    ws.state_next.resize((size_t)M * H);
    ws.emb.resize((size_t)M * H);
    ws.tmp.resize((size_t)M * H);
    ws.z.resize((size_t)M * 2 * H);
    ws.h.resize((size_t)M * E);
    ws.h2.resize((size_t)M * E);
    ws.logits.resize((size_t)M * V);
    ws.beams_next.resize((size_t)M * L);
    std::vector<float> scores_next(M);
    const bool constrained = cs.active();
    ws.cpos.assign(M, cs.pos);
    ws.cpos_next.resize(M);

    for (int t = 1; t < L; ++t) {
        const int rows = t == 1 ? 1 : M;  // step 1: identical rows, compute one (§2.3)
        // §1.3 state update. emb: (rows, H) base input embeddings of each beam's last token.
        for (int r = 0; r < rows; ++r) model_embed_row(base, out.beams[(size_t)r * L + t - 1], ws.emb.data() + (size_t)r * H);
        if (d.config.rnn) {
            // state = SiLU(W e + U s + b_U); at t = 1, s = 0, so U s = 0 but b_U still applies.
            matmul(ws.tmp.data(), H, ws.emb.data(), rows, d.rnn_w, nullptr, pool);            // tmp: (rows, H)
            matmul(ws.state_next.data(), H, ws.state.data(), rows, d.rnn_u, d.rnn_u_bias.data(), pool);  // (rows, H)
            for (size_t i = 0; i < (size_t)rows * H; ++i) ws.state[i] = silu(ws.tmp[i] + ws.state_next[i]);
        } else {
            for (size_t i = 0; i < (size_t)rows * H; ++i) ws.state[i] += ws.emb[i];
        }
        // §1.4 head: z = concat(c, s) (rows, 2H) -> [input_proj] -> N residual SiLU blocks -> lm_head.
        for (int r = 0; r < rows; ++r) {
            std::memcpy(ws.z.data() + (size_t)r * 2 * H, context, sizeof(float) * H);
            std::memcpy(ws.z.data() + (size_t)r * 2 * H + H, ws.state.data() + (size_t)r * H, sizeof(float) * H);
        }
        if (proj) {
            matmul(ws.h.data(), E, ws.z.data(), rows, d.input_proj, d.input_proj_bias.data(), pool);  // h: (rows, E)
        } else {
            std::memcpy(ws.h.data(), ws.z.data(), sizeof(float) * (size_t)rows * E);  // E == 2H
        }
        for (size_t i = 0; i < d.res_w.size(); ++i) {
            matmul(ws.h2.data(), E, ws.h.data(), rows, d.res_w[i], d.res_b[i].data(), pool);  // h2: (rows, E)
            for (size_t k = 0; k < (size_t)rows * E; ++k) ws.h[k] += silu(ws.h2[k]);
        }
        matmul(ws.logits.data(), V, ws.h.data(), rows, d.lm_head, nullptr, pool);  // logits: (rows, V)
        if (constrained)  // §2.12: each beam's row under its own state (a beam that left it: unmasked)
            for (int r = 0; r < rows; ++r)
                if (ws.cpos[r] >= 0)
                    constraint_mask_logits({cs.c, ws.cpos[r]}, ws.logits.data() + (size_t)r * V, V, ws.mask_ids, ws.mask_saved);
        if (M == 1 && !want_scores) {
            // One beam: the top-1 of 0 + log q is the argmax of the raw logits (max-subtraction,
            // the top-50 mask and log-softmax keep the order; ties go to the lower id either way).
            const float * lg = ws.logits.data();
            int32_t best = 0;
            for (int v = 1; v < V; ++v)
                if (lg[v] > lg[best]) best = v;
            out.beams[t] = best;
            out.scores[0] = std::nanf("");
            if (constrained && ws.cpos[0] >= 0) ws.cpos[0] = prefix_constraint_advance(*cs.c, ws.cpos[0], best);
            continue;
        }
        // §1.5 log q per row
        std::vector<float> & mv = ws.masked;
        mv.resize(rows);
        for (int r = 0; r < rows; ++r) mv[r] = beam_logprobs_row(ws.logits.data() + (size_t)r * V, V, BEAM_TOP_K, ws.sel);

        // §2.3 top-M of score[m] + log q[m][v] over all M * V (ties: lower flat index). Per row,
        // the entries at LOG_0 - lse share one value, so only the first M of them can be chosen.
        top_m best{M, {}};
        best.items.reserve(M + 1);
        for (int m = 0; m < M; ++m) {
            const int r = t == 1 ? 0 : m;
            const float * lq = ws.logits.data() + (size_t)r * V;
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
            std::memcpy(ws.state_next.data() + (size_t)k * H, ws.state.data() + (size_t)(t == 1 ? 0 : p) * H, sizeof(float) * H);
            scores_next[k] = best.items[k].score;
            if (constrained) ws.cpos_next[k] = ws.cpos[p] < 0 ? -1 : prefix_constraint_advance(*cs.c, ws.cpos[p], v);
        }
        out.beams.swap(ws.beams_next);
        ws.state.swap(ws.state_next);
        out.scores = scores_next;
        if (constrained) ws.cpos.swap(ws.cpos_next);
    }
}
