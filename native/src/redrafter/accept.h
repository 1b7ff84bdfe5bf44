/*
 * accept.h: acceptance of a verified draft tree (docs/redrafter.md §2.6-2.7). Greedy walks the tree
 * along the base model's argmax (§2.6). Sampling uses exact recursive rejection down the tree
 * (§2.7): each child of the current node is accepted with its renormalised target probability;
 * the emitted tokens are distributed exactly as plain sampling from the base model.
 */
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/sampler.h"
#include "tree-attention.h"

struct accept_result {
    std::vector<int32_t> path;  // path: (n + 1) packed indices root .. last accepted node; path[0] = 0 (g0)
    int32_t next_token = -1;    // the new guaranteed token: the correction, or the bonus after a leaf
    int n_accepted() const { return (int)path.size() - 1; }  // drafted tokens accepted (g0 excluded)
};

// Fills probs: (n_vocab) with the base model's processed sampling distribution (temperature,
// top-k, top-p exactly as plain sampling applies them) for one logits row: (n_vocab).
using accept_probs_fn = std::function<void(const float * logits, float * probs)>;
// A uniform draw in [0, 1) (never 1: spec pitfall 14).
using accept_uniform_fn = std::function<double()>;
// Called on a node's logits row before acceptance reads it (only for the nodes the walk visits):
// checks it and applies the decoding constraint in place (docs/redrafter.md §2.12). May throw.
using accept_row_fn = std::function<void(int node, float * logits)>;

// First index of the largest value (the tie-break plain greedy decoding uses).
int32_t accept_argmax(const float * row, int n);

// Inverse-CDF draw from weights: (n) (non-negative, need not sum to 1) with u in [0, 1).
int32_t accept_draw(const float * weights, int n, double u);

// The distribution sampler_sample() draws from for these params (temperature > 0): softmax of
// logits / T, then top-k, then top-p over the remaining mass (ties by lower id), renormalised.
// logits: (n_vocab); probs: (n_vocab), zero outside the kept set; order: (n_vocab) scratch.
void accept_sampling_probs(const float * logits, int n_vocab, const sampling_params & params, float * probs,
                           std::vector<int> & order);

// logits: (n_tree, n_vocab) row-major, row i = base logits after packed node i; the rows the walk
// visits are passed through prepare (when set) first, in place.
void accept_greedy(const draft_tree & tree, float * logits, int n_vocab, accept_result & out,
                   const accept_row_fn & prepare = {});
void accept_sample(const draft_tree & tree, float * logits, int n_vocab, const accept_probs_fn & probs,
                   const accept_uniform_fn & uniform, accept_result & out, const accept_row_fn & prepare = {});
