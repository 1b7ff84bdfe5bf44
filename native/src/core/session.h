/*
 * session.h: one sequence being decoded: its KV cache, committed tokens, and the state carried
 * between steps (docs/redrafter.md §2.1): the next guaranteed token g0 (decided, emitted, its KV
 * not yet in the cache) and the post-norm hidden state c at the position that produced it.
 * Plain AR steps (here) and ReDrafter steps (speculate.cpp) share this state, so a session can
 * alternate modes. A session is used by one thread at a time: `busy` is the one guard (the C API
 * claims it for each call, a generation holds it from start to end).
 */
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "kv-cache.h"
#include "prefix-constraint.h"
#include "sampler.h"

struct model;
class kv_pool;

// Scratch slots past max_context: room for one ReDrafter tree (1 + M*C) or a plain batch.
constexpr int64_t SESSION_SCRATCH_SLOTS = 1024;

// Who holds a session (session::busy). Calls claim FREE -> CALL; a generation FREE -> GENERATION
// for its life and GENERATION -> GENERATION_STEP for each of its steps.
enum session_busy : int { SESSION_FREE = 0, SESSION_CALL = 1, SESSION_GENERATION = 2, SESSION_GENERATION_STEP = 3 };

struct session {
    const model * m = nullptr;
    kv_cache kv;
    kv_pool * pool = nullptr;  // the model's shared block pool (kv-share.h), or none; outlives the session
    // The pool blocks the session reads in place (kv.shared / 16 of them, slots [0, kv.shared)):
    // held (the pool's reference count) until truncated away or the session goes.
    std::vector<int32_t> shared_ids;
    // Committed positions from here on may hold K/V a plain causal prefill would not compute (a
    // hand-driven forward with a mask or explicit positions committed them): never published to
    // the pool. INT64_MAX: every committed position is exact.
    int64_t exact_len = INT64_MAX;
    std::vector<int32_t> tokens;  // (kv.length) committed tokens
    // carried between steps (docs/redrafter.md §2.1)
    bool has_pending = false;
    int32_t pending_token = -1;       // g0
    std::vector<float> pending_hidden;  // c: (H)
    sampling_params sampling;
    sampler_rng rng;
    // Set by the caller (a generation asking for logprobs): each chosen token's sampler_logprob under
    // the row it was chosen from (after the decoding constraint's mask), the pending g0's here.
    bool want_logprobs = false;
    float pending_logprob = 0.0f;
    std::atomic<bool> abort{false};
    std::atomic<int> busy{SESSION_FREE};  // session_busy
    std::string last_error;
    // scratch for steps: logits (n_vocab), hidden (H)
    std::vector<float> logits;
    std::vector<int32_t> mask_ids;  // constraint_mask_logits scratch
    std::vector<float> mask_saved;

    session() = default;
    session(const session &) = delete;
    session & operator=(const session &) = delete;
    ~session();  // releases shared_ids
};

void session_init(session & s, const model & m, int64_t max_context);
// Forward of n tokens appended after kv.length, then commit all of them; clears the pending state.
// Same shapes as model_forward (mask (n, length + n) or null, out_rows (k), logits (k, V), hidden (k, H)).
void session_forward(session & s, const int32_t * tokens, int64_t n, const int32_t * positions,
                     const uint8_t * mask, const int32_t * out_rows, int64_t k, float * logits_out,
                     float * hidden_out);
void session_truncate(session & s, int64_t length);
// How many tokens of prompt (n >= 1) a generation keeps from the committed ones: their longest
// common prefix, less one when it covers the whole prompt (the last prompt position is recomputed
// for its logits).
int64_t session_reusable_prefix(const session & s, const int32_t * prompt, int64_t n);
// Prefill: forward + commit n >= 1 prompt tokens (after truncating to the committed prefix the caller
// chose), reseed the sampler, sample g0 from the last row's logits under the constraint state cs
// (none by default), keep c. Returns g0. Throws engine_error(NUMERIC) on non-finite logits.
int32_t session_prefill(session & s, const int32_t * tokens, int64_t n, const sampling_params & params,
                        const constraint_state & cs = {});
// One plain autoregressive step: forward g0 at position length, commit it, sample the new g0 under
// cs (the state after g0). Returns the new g0 (the one token emitted by this step). Requires has_pending.
int32_t session_step_ar(session & s, const constraint_state & cs = {});
