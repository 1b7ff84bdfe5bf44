/*
 * engine-internal.h: what the opaque C API handles hold, for C++ code beside engine.cpp (the
 * ReDrafter C API in speculate/drafter code reaches the session and model through these).
 */
#pragma once
#include <memory>

#include "core/model.h"
#include "core/sampler.h"
#include "core/session.h"
#include "engine.h"

struct engine_model {
    std::unique_ptr<model> m;
};

struct engine_session {
    engine_model * model = nullptr;  // not owned; must outlive the session
    session s;
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
