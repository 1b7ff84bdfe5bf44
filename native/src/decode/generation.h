/*
 * generation.h: THE decode loop (docs/engine.md, "Generations"), stepped one round at a time so a
 * caller (the addon's AsyncWorkers, the CLI, the tests) can stream, abort and time each round.
 * The first step keeps the session's longest common prefix with the prompt and prefills the rest;
 * each later step runs one plain AR step, one ReDrafter round, or (no drafter, but extra or lookup
 * drafts this round) one round verifying drafts without a drafter. One stop rule: a decided stop
 * token ends the generation and is not emitted. Extra drafts are aligned here, lookup drafts are
 * found here (lookup-drafts.h) with their adaptive length, statistics are summed here, the
 * required-prefix constraint is carried here. With branches (branches.h), the
 * same first step feeds B samples of the prompt and each later step is one forward of all live
 * branches. Not the busy guard (api/ holds it).
 */
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/prefix-constraint.h"
#include "core/sampler.h"
#include "branches.h"
#include "lookup-drafts.h"
#include "redrafter/speculate.h"

struct session;
struct drafter;

constexpr int GENERATION_HISTOGRAM = 64;  // accepted-drafts histogram buckets (a round accepts < 64)

struct generation_params {
    std::vector<int32_t> prompt;  // (n >= 1) the whole prompt
    sampling_params sampling;
    int max_tokens = 1;           // >= 1
    std::vector<int32_t> stop;    // stop tokens
    const drafter * d = nullptr;  // non-null: ReDrafter rounds with speculate params sp
    speculate_params sp;
    std::vector<int32_t> extra_tokens, extra_lens;  // drafts continuing the PROMPT (flat, lengths); with or without a drafter
    lookup_params lookup;                           // tokens 0 = off; else lookup drafts each round (docs/engine.md)
    std::shared_ptr<const vocab_bytes> vocab;       // required with a required prefix
    std::string required_prefix;                    // R: the output's bytes start with it
    bool logprobs = false;                          // fill generation::step_logprobs (sampler_logprob of each emitted token)
    // (B) empty: one sequence with `sampling`; B in 1..GENERATION_MAX_BRANCHES: B branches of the
    // prompt, each with its own params and seed (branches.h), max_tokens each; plain decoding only
    // (no drafter, extra drafts, lookup or logprobs), `sampling` unused.
    std::vector<sampling_params> branches;
};

enum generation_done : int { GENERATION_RUNNING = 0, GENERATION_EOS, GENERATION_MAX_TOKENS, GENERATION_CANCELLED };
// STEP_DRAFTS: one round verifying drafts (extra, lookup) without a drafter (speculate_step, M = 0).
enum generation_step_kind : int { STEP_PREFILL = 0, STEP_AR, STEP_REDRAFTER, STEP_DRAFTS };

struct generation_step_stats {
    generation_step_kind kind = STEP_PREFILL;
    int reused_tokens = 0;  // PREFILL: prompt tokens whose KV was kept
    int prompt_tokens = 0;  // PREFILL: prompt tokens computed
    speculate_round round;  // REDRAFTER, DRAFTS (AR: tree_size 1)
    double step_ms = 0;
};

struct generation_totals {
    int prompt_tokens = 0, reused_tokens = 0;
    int emitted = 0;
    int forward_passes = 0;  // the prefill and every later step: one base forward each
    int rounds = 0;          // verification rounds: ReDrafter rounds and drafts rounds
    int64_t tree_nodes = 0, max_tree_nodes = 0, extra_accepted = 0, lookup_accepted = 0;
    int64_t accepted_histogram[GENERATION_HISTOGRAM] = {};
    double prefill_ms = 0, decode_ms = 0, draft_ms = 0, verify_ms = 0, accept_ms = 0;
};

struct generation {
    session * s = nullptr;
    generation_params p;
    std::optional<prefix_constraint> constraint;
    int cpos = 0;                    // constraint state after the emitted tokens
    // (prompt + emitted) the prompt, then every token emitted (the session's pending g0 last): what
    // lookup drafts are looked up in; its tail after the prompt is what extra drafts are aligned to
    std::vector<int32_t> text;
    std::vector<float> step_logprobs;  // with p.logprobs: (tokens the last step emitted) their log-probabilities
    bool started = false;
    bool failed = false;             // a step threw: no further steps
    generation_done done = GENERATION_RUNNING;
    generation_totals totals;
    std::vector<int32_t> ex_tokens, ex_lens, round_out;  // per-step scratch
    lookup_drafts lookup;            // per-step scratch: this round's lookup drafts
    int lookup_len = 0;              // with lookup: this generation's adaptive draft length (1..p.lookup.tokens): x2 / half
    std::vector<float> round_logprobs;                   // per-step scratch: (round_out) with p.logprobs
    branch_set br;                                       // with p.branches: the branches' state
};

// Checks params against the session's model (prompt ids, drafter fit, the required prefix can be
// written; with branches: 1..16 of them, plain decoding, P + B * max_tokens within the session's
// context) and sets up g; touches neither the session's KV nor its tokens. Throws engine_error.
void generation_init(generation & g, session & s, generation_params params);

// One step. Appends the emitted tokens (at most max_out >= 1; a ReDrafter round drafts no deeper)
// to out and returns the done reason (RUNNING: call again). Cancellation (the session's abort
// flag, before or during the step) ends it with CANCELLED and nothing committed by this step.
// Other failures throw engine_error and leave the generation failed.
// With branches: max_out >= B; the step emits at most one token per branch (g.br.step_branch: the
// branch of each) and ends branches (g.br.step_ended, step_ended_why); done (EOS, or MAX_TOKENS
// when every branch reached max_tokens) once every branch has ended. When it is done, cancelled
// or failed, the session is truncated back to the prompt.
generation_done generation_step(generation & g, int max_out, std::vector<int32_t> & out, generation_step_stats & st);

// A generation dropped before its end (engine_generation_free): with branches, the session back to
// the prompt (no-op otherwise, or when already done). Does not throw.
void generation_release(generation & g) noexcept;
