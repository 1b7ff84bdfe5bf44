/*
 * engine.cpp: the models-and-sessions part of the C API (include/engine.h): argument checks,
 * the session's busy guard and exception-to-status conversion only. The work lives in core/
 * (model, session); the process-wide functions are in engine-global.cpp, generations in
 * engine-generation.cpp, the ReDrafter ones in engine-redrafter.cpp.
 */
#include "engine.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "api-guard.h"
#include "backends/backend.h"
#include "base/status.h"
#include "core/kv-share.h"
#include "core/model.h"
#include "core/quant-save.h"
#include "core/session.h"
#include "engine-internal.h"
#include "kernels/kernels.h"

extern "C" engine_model_params engine_model_default_params(void) noexcept {
    engine_model_params p;
    p.n_threads = 0;
    p.backend = "auto";
    p.abort = nullptr;
    p.weights = nullptr;
    p.kv = nullptr;
    return p;
}

extern "C" engine_status engine_model_init(const char * dir, const engine_model_params * params, engine_model ** out,
                                           char * error, size_t error_len) noexcept {
    std::string err;
    if (out) *out = nullptr;
    if (!dir || !out) {
        copy_str(error, error_len, "engine_model_init: dir and out are required");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    engine_model_params p = params ? *params : engine_model_default_params();
    weight_dtype weights = WEIGHT_BF16;
    if (!weight_format_parse(p.weights, &weights)) {
        copy_str(error, error_len, std::string("unknown weights format '") + p.weights + "' (expected bf16, q8_0 or q4_0)");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    int kv_type = -1;  // auto
    if (p.kv && std::strcmp(p.kv, "auto") != 0) {
        kv_dtype d;
        if (!kv_dtype_parse(p.kv, &d)) {
            copy_str(error, error_len, std::string("unknown K/V dtype '") + p.kv + "' (expected auto, f32 or bf16)");
            return ENGINE_STATUS_INVALID_ARGUMENT;
        }
        kv_type = d;
    }
    std::unique_ptr<model> m;
    engine_status st = guarded(err, [&] {
        model_load_params lp;
        lp.backend = backend_select(p.backend);  // a backend lacking ops is refused here (UNSUPPORTED)
        lp.n_threads = p.n_threads;
        lp.abort = p.abort;  // polled by the loader before each tensor
        lp.weights = weights;
        lp.kv_type = kv_type;
        m = model_load(dir, lp);
    });
    if (st != ENGINE_STATUS_OK) {
        copy_str(error, error_len, err);
        return st;
    }
    try {
        const model_config & c = m->config;
        auto pool = std::make_unique<kv_pool>(c.n_layer, int64_t(c.n_head_kv) * c.head_dim, kv_dtype_bytes(m->kv_type), 0);
        *out = new engine_model{std::move(m), nullptr, std::move(pool)};
    } catch (...) {
        copy_str(error, error_len, "out of memory");
        return ENGINE_STATUS_OUT_OF_MEMORY;
    }
    return ENGINE_STATUS_OK;
}

extern "C" void engine_model_free(engine_model * model) noexcept { delete model; }

extern "C" void engine_model_get_info(const engine_model * em, engine_model_info * out) noexcept {
    if (!em || !out) return;
    const model & m = *em->m;
    const model_config & c = m.config;
    std::memset(out, 0, sizeof(*out));
    copy_str(out->architecture, sizeof(out->architecture), model_arch_name(c.arch));
    copy_str(out->stored_dtype, sizeof(out->stored_dtype), m.stored_dtype);
    copy_str(out->compute_dtype, sizeof(out->compute_dtype), m.compute_dtype);
    out->n_vocab = c.n_vocab;
    out->n_embd = c.n_embd;
    out->n_ff = c.n_ff;
    out->n_layer = c.n_layer;
    out->n_head = c.n_head;
    out->n_head_kv = c.n_head_kv;
    out->head_dim = c.head_dim;
    out->n_ctx_train = c.n_ctx_train;
    out->rope_theta = c.rope_theta;
    out->rms_norm_eps = c.rms_norm_eps;
    out->tie_word_embeddings = c.tie_word_embeddings ? 1 : 0;
    out->bos_token_id = c.bos_token_id;
    out->n_eos = static_cast<int>(std::min<size_t>(c.eos_token_ids.size(), 8));
    for (int i = 0; i < out->n_eos; ++i) out->eos_token_ids[i] = c.eos_token_ids[static_cast<size_t>(i)];
    out->weight_bytes = m.weights.bytes;
    out->n_threads = m.n_threads;
    // the kernels of the layers' matrices as kept in memory
    const weight_dtype layers_dtype = m.layers.empty() ? m.output.dtype : m.layers.front().w_up.dtype;
    copy_str(out->kernel_path, sizeof(out->kernel_path), kernel_path_name(layers_dtype));
    copy_str(out->saved_weights, sizeof(out->saved_weights), c.saved_weights);
    copy_str(out->kv_dtype, sizeof(out->kv_dtype), kv_dtype_name(m.kv_type));
    out->kv_bytes_per_token = uint64_t(2) * uint64_t(c.n_layer) * uint64_t(c.n_head_kv) * uint64_t(c.head_dim) * kv_dtype_bytes(m.kv_type);
}

extern "C" engine_status engine_model_save_weights(const engine_model * em, const char * path, char * error, size_t error_len) noexcept {
    if (!em || !path) {
        copy_str(error, error_len, "engine_model_save_weights: model and path are required");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    std::string err;
    engine_status st = guarded(err, [&] {
        const model & m = *em->m;
        weight_dtype folder = WEIGHT_BF16;
        weight_format_parse(m.compute_dtype.c_str(), &folder);
        quant_save_weights(m.dir, m.weights, folder, path);
    });
    if (st != ENGINE_STATUS_OK) copy_str(error, error_len, err);
    return st;
}

extern "C" engine_status engine_model_set_token_bytes(engine_model * em, const uint8_t * bytes, const uint32_t * offsets,
                                                      const uint8_t * special, int n_vocab, char * error, size_t error_len) noexcept {
    if (!em) {
        copy_str(error, error_len, "engine_model_set_token_bytes: model is required");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    std::string err;
    engine_status st = guarded(err, [&] {
        if (n_vocab != em->m->config.n_vocab)
            throw engine_error(ERROR_INVALID_ARGUMENT, "token bytes: " + std::to_string(n_vocab) + " tokens given, the model has " +
                                                           std::to_string(em->m->config.n_vocab));
        em->vocab = vocab_bytes_make(bytes, offsets, special, n_vocab);
    });
    if (st != ENGINE_STATUS_OK) copy_str(error, error_len, err);
    return st;
}

extern "C" engine_status engine_session_init(engine_model * em, int max_context, engine_session ** out, char * error,
                                             size_t error_len) noexcept {
    if (out) *out = nullptr;
    if (!em || !out) {
        copy_str(error, error_len, "engine_session_init: model and out are required");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    std::string err;
    std::unique_ptr<engine_session> s;
    engine_status st = guarded(err, [&] {
        s = std::make_unique<engine_session>();
        s->model = em;
        int64_t ctx = max_context > 0 ? max_context : em->m->config.n_ctx_train;
        session_init(s->s, *em->m, ctx);
        s->s.pool = em->pool.get();
    });
    if (st == ENGINE_STATUS_OK) *out = s.release();
    else copy_str(error, error_len, err);
    return st;
}

extern "C" void engine_session_free(engine_session * s) noexcept {
    if (!s) return;
    if (held_by_generation(s)) {  // the generation still points at it: it frees the session when freed
        s->free_pending = true;
        return;
    }
    // its KV outlives it in the model's block pool (a document the server dropped, coming back)
    try {
        session_publish_to_pool(s->s, true);
    } catch (...) {
        // out of memory for a block: the pool simply does not get it
    }
    delete s;
}

extern "C" const char * engine_session_last_error(const engine_session * s) noexcept {
    return s ? s->s.last_error.c_str() : "";
}

extern "C" int engine_session_length(const engine_session * s) noexcept { return s ? static_cast<int>(s->s.kv.length) : 0; }
extern "C" int engine_session_shared_length(const engine_session * s) noexcept { return s ? static_cast<int>(s->s.kv.shared) : 0; }
extern "C" int engine_session_max_context(const engine_session * s) noexcept {
    return s ? static_cast<int>(s->s.kv.capacity) : 0;
}
extern "C" const int32_t * engine_session_tokens(const engine_session * s) noexcept {
    return s ? s->s.tokens.data() : nullptr;
}

extern "C" void engine_session_set_abort(engine_session * s, int abort) noexcept {
    if (s) s->s.abort.store(abort != 0);
}

extern "C" engine_status engine_session_acquire(engine_session * s) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    int expected = SESSION_FREE;
    if (!s->s.busy.compare_exchange_strong(expected, SESSION_CALL)) return ENGINE_STATUS_BUSY;
    return ENGINE_STATUS_OK;
}

extern "C" void engine_session_release(engine_session * s) noexcept {
    if (!s) return;
    int expected = SESSION_CALL;  // a generation's claim is released by engine_generation_free only
    s->s.busy.compare_exchange_strong(expected, SESSION_FREE);
}

extern "C" int engine_session_reusable_prefix(const engine_session * s, const int32_t * prompt, int n) noexcept {
    if (!s || !prompt || n < 1) return 0;
    return static_cast<int>(session_reusable_prefix(s->s, prompt, n));
}

extern "C" engine_status engine_session_forward(engine_session * s, const int32_t * tokens, int n, const int32_t * positions,
                                                const uint8_t * mask, const int32_t * out_rows, int n_out, float * logits,
                                                float * hidden) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (held_by_generation(s)) return ENGINE_STATUS_BUSY;
    return guarded(s->s.last_error, [&] {
        if (!tokens || n <= 0) throw engine_error(ERROR_INVALID_ARGUMENT, "forward needs at least one token");
        int32_t last = n - 1;
        if (!out_rows) {
            if (n_out != 1) throw engine_error(ERROR_INVALID_ARGUMENT, "out_rows is NULL but n_out != 1");
            out_rows = &last;
        }
        for (int i = 0; i < n_out; ++i)
            if (out_rows[i] < 0 || out_rows[i] >= n)
                throw engine_error(ERROR_INVALID_ARGUMENT, "out_rows[" + std::to_string(i) + "] = " +
                                                                       std::to_string(out_rows[i]) + " is outside 0.." +
                                                                       std::to_string(n - 1));
        session_forward(s->s, tokens, n, positions, mask, out_rows, n_out, logits, hidden);
    });
}

extern "C" engine_status engine_session_truncate(engine_session * s, int length) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (held_by_generation(s)) return ENGINE_STATUS_BUSY;
    return guarded(s->s.last_error, [&] { session_truncate(s->s, length); });
}

extern "C" engine_status engine_session_prefill(engine_session * s, const int32_t * tokens, int n,
                                                const engine_sampling * sampling, int32_t * token) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (held_by_generation(s)) return ENGINE_STATUS_BUSY;
    return guarded(s->s.last_error, [&] {
        if (!tokens || n <= 0) throw engine_error(ERROR_INVALID_ARGUMENT, "prefill needs at least one token");
        int32_t t = session_prefill(s->s, tokens, n, to_params(sampling));
        if (token) *token = t;
    });
}

extern "C" engine_status engine_session_step(engine_session * s, int32_t * out_tokens, int max_out, int * n_out) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (held_by_generation(s)) return ENGINE_STATUS_BUSY;
    if (n_out) *n_out = 0;
    return guarded(s->s.last_error, [&] {
        if (!out_tokens || max_out < 1) throw engine_error(ERROR_INVALID_ARGUMENT, "step needs room for one token");
        if (s->s.abort.load()) throw engine_error(ERROR_CANCELLED, "cancelled");
        out_tokens[0] = session_step_ar(s->s);
        if (n_out) *n_out = 1;
    });
}
