/*
 * engine-distill.cpp: engine_session_generate_hidden (include/engine-distill.h): greedy plain
 * decoding through the session's own prefill / AR step, copying the session's pending hidden state
 * c (the drafter's context vector) after every decision. Argument checks and the busy guard only;
 * the forward is core/session.cpp's.
 */
#include "engine-distill.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "api-guard.h"
#include "base/status.h"
#include "core/model.h"
#include "core/session.h"
#include "engine-internal.h"

extern "C" engine_status engine_session_generate_hidden(engine_session * s, const int32_t * prompt, int n_prompt,
                                                        int n_generate, const int32_t * stop_tokens, int n_stop,
                                                        int32_t * out_tokens, float * hidden, int * n_out) noexcept {
    if (n_out) *n_out = 0;
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (held_by_generation(s)) return ENGINE_STATUS_BUSY;
    return guarded(s->s.last_error, [&] {
        if (!prompt || n_prompt < 1) throw engine_error(ERROR_INVALID_ARGUMENT, "generate_hidden needs a prompt of at least one token");
        if (n_generate < 1 || !out_tokens) throw engine_error(ERROR_INVALID_ARGUMENT, "generate_hidden needs room for n_generate >= 1 tokens");
        if (n_stop < 0 || (n_stop > 0 && !stop_tokens)) throw engine_error(ERROR_INVALID_ARGUMENT, "stop_tokens: n_stop tokens are required");
        session & ss = s->s;
        const int64_t V = ss.m->config.n_vocab, H = ss.m->config.n_embd;
        for (int i = 0; i < n_prompt; ++i)
            if (prompt[i] < 0 || prompt[i] >= V)
                throw engine_error(ERROR_INVALID_ARGUMENT, "prompt token " + std::to_string(prompt[i]) + " at " +
                                                               std::to_string(i) + " is outside the vocabulary 0.." +
                                                               std::to_string(V - 1));
        if (static_cast<int64_t>(n_prompt) + n_generate - 1 > ss.kv.capacity)
            throw engine_error(ERROR_INVALID_ARGUMENT, "prompt (" + std::to_string(n_prompt) + ") + " + std::to_string(n_generate) +
                                                           " tokens exceed the session's max context " + std::to_string(ss.kv.capacity));
        if (ss.abort.load()) throw engine_error(ERROR_CANCELLED, "cancelled");
        const int64_t keep = session_reusable_prefix(ss, prompt, n_prompt);
        session_truncate(ss, keep);
        sampling_params greedy;  // temperature 0: argmax, ties -> lowest id (the plain decoding's rule)
        int32_t tok = session_prefill(ss, prompt + keep, n_prompt - keep, greedy);
        for (int j = 0;; ++j) {
            out_tokens[j] = tok;  // decided from c = pending_hidden: (H)
            if (hidden) std::memcpy(hidden + static_cast<size_t>(j) * H, ss.pending_hidden.data(), sizeof(float) * H);
            if (n_out) *n_out = j + 1;
            if (j + 1 >= n_generate || std::find(stop_tokens, stop_tokens + n_stop, tok) != stop_tokens + n_stop) break;
            if (ss.abort.load()) throw engine_error(ERROR_CANCELLED, "cancelled");
            tok = session_step_ar(ss);
        }
    });
}

extern "C" int engine_session_hidden_size(const engine_session * s) noexcept {
    return s ? static_cast<int>(s->s.m->config.n_embd) : 0;
}
