/*
 * engine-distill.h: the C API entry point that records training data for a ReDrafter head
 * (docs/training.md, "Train a drafter for your model"): plain greedy decoding of a prompt that
 * returns, with every emitted token, the base model's post-final-norm hidden state c at the
 * position whose logits decided that token: exactly the vector a ReDrafter round hands the
 * drafter (docs/redrafter.md §1.2, session pending_hidden). Built on engine.h's sessions.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

// Greedy plain decoding of prompt (n_prompt >= 1) for up to n_generate >= 1 tokens, recording c.
// The session keeps its longest common prefix with the prompt (engine_session_reusable_prefix),
// prefills the rest, then steps one token at a time (engine_session_prefill / engine_session_step
// with temperature 0). Row j of hidden is c at position n_prompt - 1 + j, the position whose
// argmax is out_tokens[j]. A decided stop token (stop_tokens, n_stop) IS emitted (a drafter must
// learn to predict it) and ends the run. out_tokens: (n_generate); hidden: (n_generate, n_embd) or
// NULL; *n_out: tokens emitted. On return the session holds prompt + out_tokens[0 .. n_out - 1)
// (the last emitted token is decided, not committed). The abort flag stops it with CANCELLED.
// Refused (BUSY) while a generation holds the session; errors in engine_session_last_error.
engine_status engine_session_generate_hidden(engine_session * session, const int32_t * prompt, int n_prompt,
                                             int n_generate, const int32_t * stop_tokens, int n_stop,
                                             int32_t * out_tokens, float * hidden, int * n_out) ENGINE_NOEXCEPT;
// The width of a hidden row for this session's model (n_embd); 0 for NULL.
int engine_session_hidden_size(const engine_session * session) ENGINE_NOEXCEPT;

#ifdef __cplusplus
}
#endif
