/*
 * engine-redrafter.cpp: the ReDrafter C API (include/engine-redrafter.h): argument checks and
 * exception-to-status conversion; the work is in drafter.cpp and speculate.cpp.
 */
#include "engine-redrafter.h"

#include <algorithm>
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

struct engine_drafter {
    std::unique_ptr<drafter> d;
};

namespace {

speculate_params resolve(const engine_model * em, const engine_redrafter_params * p) {
    engine_redrafter_params def = engine_redrafter_default_params(em);
    speculate_params sp;
    sp.n_beams = p && p->n_beams > 0 ? p->n_beams : def.n_beams;
    sp.beam_len = p && p->beam_len > 0 ? p->beam_len : def.beam_len;
    return sp;
}

void add_stats(engine_redrafter_stats * out, const speculate_stats & st) {
    if (!out) return;
    out->rounds += st.rounds;
    out->emitted += st.emitted;
    out->tree_nodes += st.tree_nodes;
    out->max_tree_nodes = std::max<int64_t>(out->max_tree_nodes, st.max_tree_nodes);
    out->extra_accepted += st.extra_accepted;
    for (size_t i = 0; i < st.accepted_histogram.size() && i < ENGINE_REDRAFTER_HISTOGRAM; ++i)
        out->accepted_histogram[i] += st.accepted_histogram[i];
    out->draft_ms += st.draft_ms;
    out->verify_ms += st.verify_ms;
}

}  // namespace

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
    // Models run on the CPU backend in this build (engine_model_init refuses cuda).
    speculate_params sp = speculate_default_params("cpu");
    (void)model;
    engine_redrafter_params p;
    p.n_beams = sp.n_beams;
    p.beam_len = sp.beam_len;
    return p;
}

extern "C" engine_status engine_session_step_redrafter(engine_session * s, const engine_drafter * ed,
                                                       const engine_redrafter_params * params, const int32_t * extra_tokens,
                                                       const int32_t * extra_lens, int n_extra, int32_t * out_tokens,
                                                       int max_out, int * n_out, engine_redrafter_stats * stats) noexcept {
    if (!s) return ENGINE_STATUS_INVALID_ARGUMENT;
    if (n_out) *n_out = 0;
    return guarded(s->s.last_error, [&] {
        if (!ed) throw engine_error(ERROR_INVALID_ARGUMENT, "redrafter step needs a drafter");
        if (!out_tokens || max_out < 1) throw engine_error(ERROR_INVALID_ARGUMENT, "step needs room for one token");
        if (s->s.abort.load()) throw engine_error(ERROR_CANCELLED, "cancelled");
        std::vector<int32_t> out;
        speculate_stats st;
        speculate_step(s->s, *ed->d, resolve(s->model, params), extra_tokens, extra_lens, n_extra, max_out, out, st);
        ENGINE_ASSERT((int)out.size() <= max_out);
        std::copy(out.begin(), out.end(), out_tokens);
        if (n_out) *n_out = (int)out.size();
        add_stats(stats, st);
    });
}

extern "C" engine_status engine_session_generate_redrafter(engine_session * s, const engine_drafter * ed,
                                                           const engine_redrafter_params * params, const int32_t * prompt,
                                                           int n_prompt, const engine_sampling * sampling, int max_tokens,
                                                           const int32_t * stop_tokens, int n_stop,
                                                           const int32_t * extra_tokens, const int32_t * extra_lens,
                                                           int n_extra, int32_t * out_tokens, int * n_out,
                                                           engine_redrafter_stats * stats) noexcept {
    if (!s || !out_tokens || !n_out || max_tokens < 1) return ENGINE_STATUS_INVALID_ARGUMENT;
    *n_out = 0;
    return guarded(s->s.last_error, [&] {
        if (!ed) throw engine_error(ERROR_INVALID_ARGUMENT, "redrafter generate needs a drafter");
        if (!prompt || n_prompt <= 0) throw engine_error(ERROR_INVALID_ARGUMENT, "generate needs a prompt");
        auto is_stop = [&](int32_t t) { return stop_tokens && std::find(stop_tokens, stop_tokens + n_stop, t) != stop_tokens + n_stop; };
        const speculate_params sp = resolve(s->model, params);
        int32_t t = session_prefill(s->s, prompt, n_prompt, to_params(sampling));
        out_tokens[(*n_out)++] = t;
        bool stopped = is_stop(t);
        std::vector<int32_t> out, ex_tokens, ex_lens;
        speculate_stats st;
        while (*n_out < max_tokens && !stopped) {
            if (s->s.abort.load()) throw engine_error(ERROR_CANCELLED, "cancelled");
            speculate_align_extra(out_tokens, *n_out, extra_tokens, extra_lens, n_extra, ex_tokens, ex_lens);
            out.clear();
            speculate_step(s->s, *ed->d, sp, ex_tokens.data(), ex_lens.data(), (int)ex_lens.size(), max_tokens - *n_out, out, st);
            for (int32_t tok : out) {  // §2.10: truncate after the first stop token
                out_tokens[(*n_out)++] = tok;
                if (is_stop(tok)) {
                    stopped = true;
                    break;
                }
            }
        }
        add_stats(stats, st);
    });
}
