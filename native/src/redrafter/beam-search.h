/*
 * beam-search.h: ReDrafter's deterministic beam search over the drafter (docs/redrafter.md §1.3-2.3):
 * the recurrent state update, the prediction head on concat(context, state), max-subtraction,
 * top-50 masking to -50000, log-softmax, and top-M over all M*V joint scores (fp32), with only
 * beam 0 alive at step 1. L counts the guaranteed token g0 (L = 5 drafts 4 tokens).
 */
#pragma once
#include <cstdint>
#include <vector>

#include "core/prefix-constraint.h"

struct drafter;
struct model;
struct thread_pool;

constexpr int BEAM_TOP_K = 50;           // drafter logits kept per row (§1.5)
constexpr float BEAM_LOG_0 = -50000.0f;  // masked logit and dead-beam score (Apple's LOG_0)

struct beam_search_result {
    int n_beams = 0;              // M
    int beam_len = 0;             // L (g0 included)
    std::vector<int32_t> beams;   // beams: (M, L) row-major; column 0 = g0; rows by descending score
    std::vector<float> scores;    // scores: (M) joint draft log-probability of each beam
};

// Buffers reused across calls; not shared between threads (speculate.cpp keeps one per thread).
struct beam_search_ws {
    std::vector<float> state, state_next;  // (M, H)
    std::vector<float> emb;                // (M, H)
    std::vector<float> tmp;                // (M, H)
    std::vector<float> z;                  // (M, 2H) concat(context, state)
    std::vector<float> h, h2;              // (M, E)
    std::vector<float> logits;             // (M, V) -> log q after §1.5
    std::vector<float> sel;                // (top_k) heap of the largest logits of a row
    std::vector<float> masked;             // (M) the value masked entries of each row end at
    std::vector<int32_t> beams_next;       // (M, L)
    std::vector<int> cpos, cpos_next;      // (M) constraint state of each beam; -1 = left the constraint
    std::vector<int32_t> mask_ids;         // constraint_mask_logits scratch
    std::vector<float> mask_saved;
};

// Drafter log-probabilities of one logits row in place (§1.5): x -= max; x[x < kth largest] =
// -50000; x = log_softmax(x). row: (n_vocab); scratch: any vector (resized to top_k).
// Returns the value every masked entry ends at (-50000 - logsumexp), or NaN when none was masked.
float beam_logprobs_row(float * row, int n_vocab, int top_k, std::vector<float> & scratch);

// Runs the search. context: (H) post-norm base hidden state c; g0: the guaranteed token.
// M >= 1, L >= 1 (L == 1 gives M copies of [g0]). pool may be null. want_scores = false lets
// M = 1 skip the log-softmax (the beam is the argmax chain; scores come back NaN).
// cs: the decoding constraint in the state after g0 (docs/redrafter.md §2.12): each beam's drafter
// logits are masked by its own state before §1.5, so a beam proposes only allowed tokens while it
// has allowed candidates left.
void beam_search(const drafter & d, const model & base, const float * context, int32_t g0, int M, int L,
                 beam_search_result & out, beam_search_ws & ws, thread_pool * pool, bool want_scores = true,
                 const constraint_state & cs = {});
