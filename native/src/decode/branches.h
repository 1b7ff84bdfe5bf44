/*
 * branches.h: B samples of one prompt decoded side by side, a mode of THE decode loop
 * (generation.h; docs/engine.md, "Branches"). The first step prefills the prompt once and each
 * branch picks its first token from that last row with its own sampler (seed, params, required-
 * prefix state); each later step runs ONE forward of the live branches' pending tokens, branch b's
 * row at position P + t_b, appended at the next KV slots, masked to see the prompt, b's own earlier
 * slots and itself only. So branch b emits exactly what a single-sequence generation with its
 * sampling params gives (the kernels are batch-invariant; docs/engine.md). When the generation
 * ends, the session is truncated back to the prompt. Not the loop's first step itself (the prefix
 * reuse and prefill stay in generation.cpp).
 */
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/sampler.h"

struct generation;
struct generation_step_stats;

constexpr int GENERATION_MAX_BRANCHES = 16;

// Why a branch ended (BRANCH_LIVE: it has not). The values are engine_branch_end's (engine.h).
enum branch_end : int { BRANCH_LIVE = 0, BRANCH_EOS = 1, BRANCH_MAX_TOKENS = 2, BRANCH_ENDED = 3 };

struct branch {
    sampling_params sampling;
    sampler_rng rng;                 // reseeded with sampling.seed at the prefill, as a single sequence's
    int cpos = 0;                    // required-prefix state after its emitted tokens
    int32_t pending = -1;            // its last emitted token: decided, KV not yet in the cache
    int emitted = 0;
    branch_end end = BRANCH_LIVE;
    std::vector<int64_t> slots;      // (emitted tokens whose KV is in the cache) their KV slots, in order
};

struct branch_set {
    std::vector<branch> b;                         // (B); empty: a single-sequence generation
    std::unique_ptr<std::atomic<bool>[]> end_asked;  // (B) set by branches_request_end (any thread)
    // the last step's output
    std::vector<int32_t> step_branch;     // (tokens emitted) the branch of each, in emission order
    std::vector<int32_t> step_ended;      // the branches that ended at that step, ascending
    std::vector<int32_t> step_ended_why;  // (step_ended) branch_end of each
    // per-step scratch
    std::vector<int32_t> live, tokens, positions, rows;  // (n) the live branches, their pending tokens, positions, rows
    std::vector<uint8_t> mask;                            // (n, kv.length + n) 1 = may attend
    std::vector<float> logits;                            // (n, n_vocab) the forward's rows

    bool active() const { return !b.empty(); }
};

// Sets up bs for the given branches (1..GENERATION_MAX_BRANCHES, checked by generation_init).
void branches_init(branch_set & bs, const std::vector<sampling_params> & params);

// Thread-safe against a running step: branch b takes no further rows from the next step on.
// Throws engine_error(INVALID_ARGUMENT) when b is out of range.
void branches_request_end(branch_set & bs, int b);

// The first step, after the prefix reuse and the prefill wrote the last prompt row's logits
// (n_vocab) into g.br.logits: every branch picks its first token from a copy of that row.
// Appends the emitted tokens to out.
void branches_first(generation & g, std::vector<int32_t> & out);

// A later step: the live branches' pending tokens in one forward, then each picks its next token.
// Appends the emitted tokens to out; fills st (kind AR, tree_size = the forward's rows; none when
// every branch had ended). Returns whether a forward ran.
bool branches_step(generation & g, std::vector<int32_t> & out, generation_step_stats & st);

// Whether every branch has ended; done reason of the whole generation then: MAX_TOKENS when
// every branch reached max_tokens, else EOS.
bool branches_all_ended(const branch_set & bs);

// The session back to the prompt (its committed tokens == the prompt): at the generation's end,
// cancelled, failed or freed early. No-op before the prefill.
void branches_release(generation & g);
