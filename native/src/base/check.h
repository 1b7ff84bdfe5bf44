/*
 * check.h: ENGINE_ASSERT for programmer errors (broken invariants, impossible shapes). It aborts with
 * file:line, as ggml's GGML_ASSERT does. Runtime errors (bad files, bad arguments) are not asserts:
 * they throw engine_error (status.h), which the C API turns into an engine_status.
 */
#pragma once
#include <cstdio>
#include <cstdlib>

#define ENGINE_ASSERT(cond)                                                                   \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: ENGINE_ASSERT(%s) failed\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)
