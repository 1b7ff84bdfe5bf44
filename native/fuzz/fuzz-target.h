/*
 * fuzz-target.h: what every fuzz target (fuzz-*.cpp) shares: the libFuzzer entry point's
 * signature, and ENGINE_ASSERT, which aborts (a crash libFuzzer reports and keeps) when a parser
 * accepted an input but broke a promise about its result. A parser refusing an input with
 * engine_error is the expected outcome, not a finding; any other exception escapes and aborts.
 */
#pragma once
#include <cstddef>
#include <cstdint>

#include "base/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);
