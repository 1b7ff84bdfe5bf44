/*
 * run-generation.h: runs one generation through the C API's decode loop (engine_generation) to its
 * end, as the CLI and the addon do step by step, for the C++ tests: the emitted ids (and, with
 * params.logprobs, their log-probabilities), why it ended, the totals and each step's figures.
 */
#pragma once
#include <vector>

#include "engine-redrafter.h"

struct generation_run {
    engine_status status = ENGINE_STATUS_OK;  // of the first failing call, else OK
    std::vector<int32_t> ids;
    std::vector<float> logprobs;  // (ids) with params.logprobs; each step's engine_generation_step_logprobs
    engine_done done = ENGINE_DONE_NOT;
    engine_generation_stats stats{};
    std::vector<engine_step_stats> steps;
};

inline generation_run run_generation(engine_session * s, const engine_generation_params & params, int max_out = 64) {
    generation_run r;
    engine_generation * g = nullptr;
    char err[512];
    r.status = engine_generation_init(s, &params, &g, err, sizeof err);
    if (r.status != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine_generation_init: %s\n", err);
        return r;
    }
    std::vector<int32_t> buf(static_cast<size_t>(max_out));
    while (r.done == ENGINE_DONE_NOT) {
        int n = 0;
        engine_step_stats st;
        r.status = engine_generation_step(g, buf.data(), max_out, &n, &r.done, &st);
        if (r.status != ENGINE_STATUS_OK) break;
        r.ids.insert(r.ids.end(), buf.begin(), buf.begin() + n);
        std::vector<float> lp(static_cast<size_t>(max_out));
        const int l = engine_generation_step_logprobs(g, lp.data(), max_out);
        r.logprobs.insert(r.logprobs.end(), lp.begin(), lp.begin() + l);
        r.steps.push_back(st);
    }
    engine_generation_get_stats(g, &r.stats);
    engine_generation_free(g);
    return r;
}

// Greedy generation params for a prompt (AR; stop tokens none).
inline engine_generation_params greedy_params(const std::vector<int32_t> & prompt, int max_tokens) {
    engine_generation_params p = engine_generation_default_params();
    p.prompt = prompt.data();
    p.n_prompt = static_cast<int>(prompt.size());
    p.max_tokens = max_tokens;
    return p;
}
