/*
 * topk-logprobs.cpp: the drafter's per-row log-probabilities for beam search (docs/redrafter.md
 * §1.5): max-subtraction, top-k masking to TOPK_LOG_0, log-softmax. One scalar path (the sum runs
 * in double, in index order), used by every kernel path.
 */
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "kernels.h"

float topk_logprobs_row(float * row, int n_vocab, int top_k, std::vector<float> & scratch) {
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
            row[v] = TOPK_LOG_0;
            any_masked = true;
        } else {
            sum += std::exp((double)row[v]);
        }
    }
    const float lse = (float)std::log(sum);
    for (int v = 0; v < n_vocab; ++v) row[v] -= lse;
    return any_masked ? TOPK_LOG_0 - lse : std::nanf("");
}
