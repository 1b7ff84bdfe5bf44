/*
 * beam-search.h: ReDrafter's deterministic beam search over the drafter (docs/redrafter.md §1.3-2.3):
 * the recurrent state update, the prediction head on concat(context, state), max-subtraction,
 * top-50 masking to -50000, log-softmax, and top-M over all M*V joint scores (fp32), with only
 * beam 0 alive at step 1. L counts the guaranteed token g0 (L = 5 drafts 4 tokens). The drafter
 * step is written once against the base model's backend table (backends/backend.h); the top-M
 * selection and the decoding constraint run on the host.
 */
#pragma once
#include <cstdint>
#include <vector>

#include "core/prefix-constraint.h"

struct drafter;
struct model;

constexpr int BEAM_TOP_K = 50;           // drafter logits kept per row (§1.5)
constexpr float BEAM_LOG_0 = -50000.0f;  // masked logit and dead-beam score (Apple's LOG_0; = TOPK_LOG_0 of the op)

struct beam_search_result {
    int n_beams = 0;              // M
    int beam_len = 0;             // L (g0 included)
    std::vector<int32_t> beams;   // beams: (M, L) row-major; column 0 = g0; rows by descending score
    std::vector<float> scores;    // scores: (M) joint draft log-probability of each beam
};

// Host buffers reused across calls; not shared between threads (speculate.cpp keeps one per thread).
// The activations (state, embeddings, head, logits) are the backend's scratch slots.
struct beam_search_ws {
    std::vector<float> zeros;              // (M, H) the initial state, uploaded
    std::vector<float> logits;             // (M, V) host copy of the drafter logits (backends whose memory is not the host's)
    std::vector<float> masked;             // (M) the value masked entries of each row end at
    std::vector<int32_t> last;             // (M) each beam's last token (the embedding lookup's input)
    std::vector<int32_t> parent;           // (M) the row each new beam's state comes from
    std::vector<int32_t> beams_next;       // (M, L)
    std::vector<int> cpos, cpos_next;      // (M) constraint state of each beam; -1 = left the constraint
    std::vector<int32_t> mask_ids;         // constraint_mask_logits scratch
    std::vector<float> mask_saved;
};

// Runs the search. context: (H) post-norm base hidden state c; g0: the guaranteed token.
// M >= 1, L >= 1 (L == 1 gives M copies of [g0]). Runs on base's backend. want_scores = false lets
// M = 1 skip the log-softmax (the beam is the argmax chain; scores come back NaN).
// cs: the decoding constraint in the state after g0 (docs/redrafter.md §2.12): each beam's drafter
// logits are masked by its own state before §1.5, so a beam proposes only allowed tokens while it
// has allowed candidates left.
void beam_search(const drafter & d, const model & base, const float * context, int32_t g0, int M, int L,
                 beam_search_result & out, beam_search_ws & ws, bool want_scores = true,
                 const constraint_state & cs = {});
