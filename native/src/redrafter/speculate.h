/*
 * speculate.h: one ReDrafter round on a session (docs/redrafter.md §2.1-2.10): draft with beam
 * search from (c, g0), join caller-supplied extra drafts as extra beams, deduplicate and pack the
 * tree, run ONE base forward over it (positions n_ctx + depth, tree mask), accept (greedy or
 * exact tree rejection sampling), commit the accepted path's KV (no re-rotation) and carry the
 * next c and g0. Shares session state with plain AR steps, so a session can alternate modes. A
 * decoding constraint masks the drafter per beam and the target per tree node (§2.12). Without a
 * drafter (M = 0: lookup drafts, docs/engine.md) the same round verifies g0 plus the extra drafts.
 */
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/prefix-constraint.h"

struct session;
struct drafter;

constexpr int SPECULATE_MAX_BEAMS = 64;
constexpr int SPECULATE_MAX_LEN = 16;        // L at most (g0 included)
constexpr int SPECULATE_MAX_EXTRA_LEN = 64;  // tokens of one extra draft kept (g0 included)

struct speculate_params {
    int n_beams = 0;   // M; 0 = the backend default (speculate_default_params)
    int beam_len = 0;  // L, counting g0 (L = 5 drafts 4 tokens); 0 = the backend default
};

// Defaults for a backend ("cpu", "cuda"), chosen from the forward cost curve (docs/redrafter.md §5).
speculate_params speculate_default_params(const std::string & backend);

// One round's figures (docs/redrafter.md §4).
struct speculate_round {
    int tree_size = 0;       // packed tree nodes verified
    int accepted = 0;        // drafted tokens accepted (g0 not counted)
    int extra_accepted = 0;  // of those, the ones only a caller's extra draft proposed (no drafter beam)
    int lookup_accepted = 0; // of those, the ones only a lookup draft proposed (no drafter beam, no caller's draft)
    double draft_ms = 0;     // beam search (0 without a drafter)
    double verify_ms = 0;    // joining extra drafts, tree build, the base forward
    double accept_ms = 0;    // acceptance and the KV commit
};

// One round. Requires s.has_pending (after a prefill or any step). d null: no drafter (params
// unread, no beam search): the tree is g0 plus the extra drafts (g0 alone when none survive).
// Extra drafts: n_extra token sequences, flat in extra_tokens with lengths extra_lens (n_extra);
// each is a candidate continuation starting AT g0 (a draft whose first token is not g0 is
// ignored); the last n_lookup of them are lookup drafts (counted in round.lookup_accepted, the
// others in round.extra_accepted). Drafts join in order while the tree's node budget lasts. max_emit (>= 1)
// caps the tokens this round may emit (the caller's remaining budget). Appends the emitted tokens
// (the accepted drafted tokens, then the new g0) to out and fills round. cs: the decoding
// constraint in the state after g0. out_logprobs (may be null): each emitted token's
// sampler_logprob under the verified row it was chosen from, appended in step with out (the same
// figures a plain AR step computes: the rows are the same). Throws engine_error on bad arguments,
// cancellation or non-finite logits (NUMERIC); the session is unchanged then.
void speculate_step(session & s, const drafter * d, const speculate_params & params, const int32_t * extra_tokens,
                    const int32_t * extra_lens, int n_extra, int max_emit, std::vector<int32_t> & out,
                    speculate_round & round, const constraint_state & cs = {}, std::vector<float> * out_logprobs = nullptr,
                    int n_lookup = 0);

// Re-aligns extra drafts that continue the PROMPT to the current round: generated holds every
// token emitted since the prompt, the pending g0 last. A draft D that starts with generated gives
// D[|generated| - 1 ..] (starting at g0); others are dropped. Flat tokens + lengths, as above.
void speculate_align_extra(const int32_t * generated, int n_generated, const int32_t * extra_tokens,
                           const int32_t * extra_lens, int n_extra, std::vector<int32_t> & out_tokens,
                           std::vector<int32_t> & out_lens);
