/*
 * accept.cpp: greedy acceptance (§2.6) and exact tree rejection sampling (§2.7) over the packed
 * draft tree. Only the nodes on the walked path get their distribution computed.
 */
#include "accept.h"

#include <algorithm>
#include <numeric>

#include "base/check.h"

int32_t accept_argmax(const float * row, int n) { return sampler_argmax(row, n); }

void accept_sampling_probs(const float * logits, int n_vocab, const sampling_params & params, float * probs,
                           std::vector<int> & order) {
    ENGINE_ASSERT(params.temperature > 0.0f);
    sampler_softmax(logits, n_vocab, params.temperature, probs);
    const bool use_k = params.top_k > 0 && params.top_k < n_vocab;
    const bool use_p = params.top_p > 0.0f && params.top_p < 1.0f;
    if (!use_k && !use_p) return;
    const int keep = sampler_truncate(probs, n_vocab, params, order);
    double total = 0;
    for (int i = 0; i < keep; ++i) total += probs[order[i]];
    for (int i = keep; i < n_vocab; ++i) probs[order[i]] = 0.0f;
    const float inv = (float)(1.0 / total);
    for (int i = 0; i < keep; ++i) probs[order[i]] *= inv;
}

int32_t accept_draw(const float * weights, int n, double u) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += weights[i];
    ENGINE_ASSERT(total > 0);
    const double target = u * total;
    double cum = 0;
    int32_t last_positive = -1;
    for (int i = 0; i < n; ++i) {
        if (weights[i] <= 0) continue;
        cum += weights[i];
        last_positive = i;
        if (target < cum) return i;
    }
    return last_positive;  // rounding left target >= cum: the last token with mass
}

void accept_greedy(const draft_tree & tree, float * logits, int n_vocab, accept_result & out, const accept_row_fn & prepare) {
    out.path.assign(1, 0);
    int node = 0;
    for (;;) {
        if (prepare) prepare(node, logits + (size_t)node * n_vocab);
        const int32_t want = accept_argmax(logits + (size_t)node * n_vocab, n_vocab);
        int next = -1;
        for (int c = tree.child_begin[node]; c < tree.child_begin[node + 1]; ++c)
            if (tree.tokens[tree.child_list[c]] == want) { next = tree.child_list[c]; break; }
        if (next < 0) { out.next_token = want; return; }  // correction, or bonus at a leaf
        out.path.push_back(next);
        node = next;
    }
}

void accept_sample(const draft_tree & tree, float * logits, int n_vocab, const accept_probs_fn & probs,
                   const accept_uniform_fn & uniform, accept_result & out, const accept_row_fn & prepare) {
    out.path.assign(1, 0);
    std::vector<float> p(n_vocab);  // p: (n_vocab) residual target distribution at the current node
    int node = 0;
    for (;;) {
        if (prepare) prepare(node, logits + (size_t)node * n_vocab);
        probs(logits + (size_t)node * n_vocab, p.data());
        double z = 0;
        for (int v = 0; v < n_vocab; ++v) z += p[v];
        int next = -1;
        for (int c = tree.child_begin[node]; c < tree.child_begin[node + 1] && next < 0; ++c) {
            const int child = tree.child_list[c];
            const int32_t x = tree.tokens[child];
            const double px = p[x];
            if (px > 0 && uniform() * z < px) { next = child; break; }
            // rejected: remove x from the target and renormalise (z recomputed to avoid drift)
            p[x] = 0;
            z = 0;
            for (int v = 0; v < n_vocab; ++v) z += p[v];
        }
        if (next < 0) {  // every child rejected (or a leaf): draw from what remains
            out.next_token = accept_draw(p.data(), n_vocab, uniform());
            return;
        }
        out.path.push_back(next);
        node = next;
    }
}
