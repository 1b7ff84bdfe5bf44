/*
 * fuzz-target.h: what every fuzz target (fuzz-*.cpp) shares: the libFuzzer entry point's
 * signature and FUZZ_CHECK, which aborts (a crash libFuzzer reports and keeps) when a parser
 * accepted an input but broke a promise about its result. A parser refusing an input with
 * engine_error is the expected outcome, not a finding; any other exception escapes and aborts.
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                               \
        }                                                                               \
    } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);
