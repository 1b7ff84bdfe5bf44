/*
 * tiny-engine.h: a seeded tiny model (tiny-model.h) loaded through the C API with one session, for
 * the decode-loop tests that check exactness on other attention / matmul paths than stories260K's.
 * The session, the model and the model's temp folder go at the end of the scope.
 */
#pragma once
#include <string>

#include "engine-redrafter.h"
#include "test-util.h"
#include "tiny-model.h"

struct tiny_engine {
    std::string dir;  // the model's folder (read again by tests that load it in-process too)
    engine_model * m = nullptr;
    engine_session * s = nullptr;

    // ok() is false (after failed CHECKs) when the model or the session could not be made.
    tiny_engine(const tiny_spec & spec, uint32_t seed, int n_threads, int max_context) : dir(write_tiny_model(spec, seed)) {
        engine_model_params mp = engine_model_default_params();
        mp.n_threads = n_threads;
        char err[512];
        CHECK(engine_model_init(dir.c_str(), &mp, &m, err, sizeof err) == ENGINE_STATUS_OK);
        if (m) CHECK(engine_session_init(m, max_context, &s, nullptr, 0) == ENGINE_STATUS_OK);
    }
    ~tiny_engine() {
        if (s) engine_session_free(s);
        if (m) engine_model_free(m);
        remove_dir(dir);
    }
    tiny_engine(const tiny_engine &) = delete;
    tiny_engine & operator=(const tiny_engine &) = delete;
    bool ok() const { return s != nullptr; }
};
