/*
 * engine-redrafter.cpp: the ReDrafter C API (include/engine-redrafter.h): argument checks and
 * exception-to-status conversion; the work is in drafter.cpp and speculate.cpp. Also the one place
 * the backend defaults for (M, L) are resolved (generations use it too).
 */
#include "engine-redrafter.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "api-guard.h"
#include "base/check.h"
#include "base/status.h"
#include "engine-internal.h"
#include "redrafter/drafter.h"
#include "redrafter/speculate.h"

speculate_params redrafter_resolve(const engine_model * em, int n_beams, int beam_len) {
    engine_redrafter_params def = engine_redrafter_default_params(em);
    speculate_params sp;
    sp.n_beams = n_beams > 0 ? n_beams : def.n_beams;
    sp.beam_len = beam_len > 0 ? beam_len : def.beam_len;
    return sp;
}

extern "C" engine_status engine_drafter_init(const char * dir, const engine_model * model, engine_drafter ** out, char * error,
                                             size_t error_len) noexcept {
    if (out) *out = nullptr;
    if (!dir || !model || !out) {
        copy_str(error, error_len, "engine_drafter_init: dir, model and out are required");
        return ENGINE_STATUS_INVALID_ARGUMENT;
    }
    std::string err;
    std::unique_ptr<engine_drafter> ed;
    engine_status st = guarded(err, [&] {
        ed = std::make_unique<engine_drafter>();
        ed->d = drafter_load(dir, *model->m);
    });
    if (st != ENGINE_STATUS_OK) {
        copy_str(error, error_len, err);
        return st;
    }
    *out = ed.release();
    return ENGINE_STATUS_OK;
}

extern "C" void engine_drafter_free(engine_drafter * drafter) noexcept { delete drafter; }

extern "C" void engine_drafter_get_info(const engine_drafter * ed, engine_drafter_info * out) noexcept {
    if (!ed || !out) return;
    std::memset(out, 0, sizeof(*out));
    const drafter & d = *ed->d;
    out->n_vocab = d.config.n_vocab;
    out->n_embd = d.config.n_embd;
    out->exit_dim = d.config.exit_dim;
    out->n_layers = d.config.n_layers;
    out->rnn = d.config.rnn ? 1 : 0;
    copy_str(out->stored_dtype, sizeof(out->stored_dtype), d.stored_dtype);
    out->weight_bytes = d.weights.bytes;
}

extern "C" engine_redrafter_params engine_redrafter_default_params(const engine_model * model) noexcept {
    // the defaults of the backend the model runs on (the CPU's when no model is given)
    speculate_params sp = speculate_default_params(model && model->m->backend ? model->m->backend->name : "cpu");
    engine_redrafter_params p;
    p.n_beams = sp.n_beams;
    p.beam_len = sp.beam_len;
    return p;
}

extern "C" engine_status engine_session_step_redrafter(engine_session * s, const engine_drafter * ed,
                                                       const engine_redrafter_params * params, const int32_t * extra_tokens,
                                                       const int32_t * extra_lens, int n_extra, int32_t * out_tokens,
                                                       int max_out, int * n_out, engine_step_stats * stats) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (held_by_generation(s)) return ENGINE_STATUS_BUSY;
    if (n_out) *n_out = 0;
    return guarded(s->s.last_error, [&] {
        if (!ed) throw engine_error(ERROR_INVALID_ARGUMENT, "redrafter step needs a drafter");
        if (!out_tokens || max_out < 1) throw engine_error(ERROR_INVALID_ARGUMENT, "step needs room for one token");
        if (s->s.abort.load()) throw engine_error(ERROR_CANCELLED, "cancelled");
        std::vector<int32_t> out;
        generation_step_stats st;
        st.kind = STEP_REDRAFTER;
        const auto t0 = std::chrono::steady_clock::now();
        speculate_step(s->s, ed->d.get(), redrafter_resolve(s->model, params ? params->n_beams : 0, params ? params->beam_len : 0),
                       extra_tokens, extra_lens, n_extra, max_out, out, st.round);
        st.step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        ENGINE_ASSERT((int)out.size() <= max_out);
        std::copy(out.begin(), out.end(), out_tokens);
        if (n_out) *n_out = (int)out.size();
        to_step_stats(st, stats);
    });
}
