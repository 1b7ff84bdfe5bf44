/*
 * stories-drafters.h: what the C++ ReDrafter and decode-loop tests start from: stories260K (f32,
 * 1 thread, a real small Llama) with one session and two seeded random-weight drafters in a temp
 * folder (d1: f32, E 128, N 2; d2: bf16, E 96, N 1). Random heads test parity and plumbing, never
 * draft quality.
 */
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "drafter-writer.h"
#include "engine-redrafter.h"
#include "test-util.h"

struct stories_drafters {
    engine_model * model = nullptr;
    engine_session * s = nullptr;
    engine_drafter * d1 = nullptr;
    engine_drafter * d2 = nullptr;
    std::string root;  // the drafters' temp folder
};

// Loads everything (max_context 0 = the model's); false (after failed CHECKs) when the model is missing.
inline bool stories_drafters_init(stories_drafters & f, int max_context) {
    const std::string model_dir = fixtures_dir() + "/models/stories260K";
    engine_set_log_level(ENGINE_LOG_WARN);
    engine_model_params mp = engine_model_default_params();
    mp.n_threads = 1;
    char err[512];
    CHECK(engine_model_init(model_dir.c_str(), &mp, &f.model, err, sizeof err) == ENGINE_STATUS_OK);
    if (!f.model) return false;
    CHECK(engine_session_init(f.model, max_context, &f.s, nullptr, 0) == ENGINE_STATUS_OK);
    char tmpl[] = "/tmp/slipstream-drafters-XXXXXX";
    f.root = mkdtemp(tmpl);
    drafter_writer::write_random_drafter(f.root + "/a", 512, 64, 128, 2, "F32", 1);
    drafter_writer::write_random_drafter(f.root + "/b", 512, 64, 96, 1, "BF16", 2);
    CHECK(engine_drafter_init((f.root + "/a").c_str(), f.model, &f.d1, err, sizeof err) == ENGINE_STATUS_OK);
    CHECK(engine_drafter_init((f.root + "/b").c_str(), f.model, &f.d2, err, sizeof err) == ENGINE_STATUS_OK);
    return f.s && f.d1 && f.d2;
}

inline void stories_drafters_free(stories_drafters & f) {
    engine_drafter_free(f.d1);
    engine_drafter_free(f.d2);
    engine_session_free(f.s);
    engine_model_free(f.model);
    if (!f.root.empty()) CHECK(std::system(("rm -rf '" + f.root + "'").c_str()) == 0);
}
