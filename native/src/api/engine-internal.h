/*
 * engine-internal.h: what the opaque C API handles hold, for the api/ files (models and
 * sessions, drafters, generations) and the C++ tests that reach inside them; and the conversions
 * between the public structs and the parts' own.
 */
#pragma once
#include <memory>

#include "core/kv-pool.h"
#include "core/model.h"
#include "core/sampler.h"
#include "core/session.h"
#include "core/vocab-bytes.h"
#include "decode/generation.h"
#include "engine.h"
#include "redrafter/drafter.h"

struct engine_model {
    std::unique_ptr<model> m;
    std::shared_ptr<const vocab_bytes> vocab;  // token bytes, once set (engine_model_set_token_bytes)
    std::unique_ptr<kv_pool> pool;             // the KV block pool its sessions share (off: budget 0)
};

struct engine_drafter {
    std::unique_ptr<drafter> d;
};

struct engine_generation {
    engine_session * session = nullptr;  // not owned; held busy from init to free
    generation g;
    std::vector<int32_t> out;  // step scratch
};

struct engine_session {
    engine_model * model = nullptr;  // not owned; must outlive the session
    session s;
    bool free_pending = false;  // engine_session_free came while a generation held it
};

// The C API's sampling options as the sampler's (null: greedy defaults).
inline sampling_params to_params(const engine_sampling * sp) {
    sampling_params p;
    if (sp) {
        p.temperature = sp->temperature;
        p.top_k = sp->top_k;
        p.top_p = sp->top_p;
        p.seed = sp->seed;
    }
    return p;
}

// True while a generation holds the session: the single-step calls refuse to run then (BUSY), so a
// caller cannot move the session under a generation's feet.
inline bool held_by_generation(const engine_session * s) {
    const int b = s->s.busy.load();
    return b == SESSION_GENERATION || b == SESSION_GENERATION_STEP;
}

// The speculate params for a generation or a hand-driven round: n_beams / beam_len, 0 = the
// backend default (engine-redrafter.cpp).
speculate_params redrafter_resolve(const engine_model * em, int n_beams, int beam_len);

// A step's figures in the public struct.
inline void to_step_stats(const generation_step_stats & st, engine_step_stats * out) {
    if (!out) return;
    *out = engine_step_stats{};
    out->kind = static_cast<engine_step_kind>(st.kind);
    out->reused_tokens = st.reused_tokens;
    out->prompt_tokens = st.prompt_tokens;
    out->tree_size = st.round.tree_size;
    out->accepted = st.round.accepted;
    out->extra_accepted = st.round.extra_accepted;
    out->lookup_accepted = st.round.lookup_accepted;
    out->draft_ms = st.round.draft_ms;
    out->verify_ms = st.round.verify_ms;
    out->accept_ms = st.round.accept_ms;
    out->step_ms = st.step_ms;
}
