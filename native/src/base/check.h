/*
 * check.h: ENGINE_ASSERT for programmer errors (broken invariants, impossible shapes). It aborts with
 * file:line, as ggml's GGML_ASSERT does. Runtime errors (bad files, bad arguments) are not asserts:
 * they throw engine_error, which the C API turns into an engine_status.
 */
#pragma once
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include "engine.h"

#define ENGINE_ASSERT(cond)                                                                   \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: ENGINE_ASSERT(%s) failed\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

// A recoverable failure with the status the C API should return.
struct engine_error : std::runtime_error {
    engine_status status;
    engine_error(engine_status s, const std::string & msg) : std::runtime_error(msg), status(s) {}
};

// A malformed or inconsistent model/drafter folder: "<file>: <what is wrong>".
[[noreturn]] inline void bad_model(const std::string & where, const std::string & msg) {
    throw engine_error(ENGINE_STATUS_BAD_MODEL, where + ": " + msg);
}
