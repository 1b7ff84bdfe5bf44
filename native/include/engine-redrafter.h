/*
 * engine-redrafter.h: the ReDrafter part of the C API, built on engine.h's models and sessions (it
 * includes engine.h). A drafter is loaded against a model (its shapes are checked) and handed to a
 * generation (engine_generation_params.mode = ENGINE_DECODE_REDRAFTER). A hand-driven ReDrafter
 * step drafts with beam search, verifies the tree in one base forward and emits 1..L tokens; AR and
 * ReDrafter steps share the session state, so they may alternate. Math: docs/redrafter.md.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

// Loads a drafter folder saved by Apple's train.py (config.json + model.safetensors) and checks it
// against model (hidden size, vocabulary, every tensor shape). On failure *out is NULL and error
// holds one line naming the file and tensor (status BAD_MODEL or IO_ERROR).
engine_status engine_drafter_init(const char * dir, const engine_model * model, engine_drafter ** out, char * error,
                                  size_t error_len) ENGINE_NOEXCEPT;
void engine_drafter_free(engine_drafter * drafter) ENGINE_NOEXCEPT;

typedef struct engine_drafter_info {
    int n_vocab, n_embd, exit_dim, n_layers;
    int rnn;                 // 1: recurrent state update; 0: running sum of embeddings
    char stored_dtype[8];    // "f32" | "bf16" | "f16"
    uint64_t weight_bytes;   // as kept in memory
} engine_drafter_info;
void engine_drafter_get_info(const engine_drafter * drafter, engine_drafter_info * out) ENGINE_NOEXCEPT;

typedef struct engine_redrafter_params {
    int n_beams;    // M, 1..64; 0 = the backend default
    int beam_len;   // L, 2..16, COUNTING the guaranteed token (L = 5 drafts 4 tokens); 0 = the backend default
} engine_redrafter_params;

// The defaults for the backend the model runs on (docs/redrafter.md §5).
engine_redrafter_params engine_redrafter_default_params(const engine_model * model) ENGINE_NOEXCEPT;

// One ReDrafter round by hand (requires a prefill; the decode loop is engine_generation). Extra
// drafts: n_extra candidate continuations that start AT the pending guaranteed token (others are
// ignored), concatenated in extra_tokens with lengths extra_lens. out_tokens (max_out >= 1) receives
// the emitted tokens, *n_out their count (<= max_out; the round drafts no deeper than max_out
// allows). stats (may be NULL) receives the round's figures.
engine_status engine_session_step_redrafter(engine_session * session, const engine_drafter * drafter,
                                            const engine_redrafter_params * params, const int32_t * extra_tokens,
                                            const int32_t * extra_lens, int n_extra, int32_t * out_tokens, int max_out,
                                            int * n_out, engine_step_stats * stats) ENGINE_NOEXCEPT;

#ifdef __cplusplus
}
#endif
