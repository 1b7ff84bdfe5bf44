/*
 * fault-inject.h: a test hook that makes one of the engine's failure paths happen on purpose: an
 * allocation fails, a decode step fails half-way, so the tests can show what the engine does then
 * (docs/reliability.md, "Faults"). Compiled in always and inert unless armed: by the environment
 * variable ENGINE_FAULT, read once when the library loads, or by fault_arm (C++ tests). A disarmed
 * check is one relaxed atomic load. Not a way to configure anything.
 *
 * ENGINE_FAULT is a comma-separated list of site or site@N (only the Nth hit of that site fails,
 * counting from 1; without @N every hit fails). Sites:
 *   alloc:kv       a session's KV cache reservation (kv-cache.cpp)         -> OUT_OF_MEMORY
 *   alloc:arena    a chunk of the weight arena (weight-arena.cpp)          -> OUT_OF_MEMORY
 *   alloc:weights  a weight matrix's memory (weight-loader.cpp, bad_alloc) -> OUT_OF_MEMORY
 *   step           a forward, after its first layer (model.cpp)            -> INTERNAL
 */
#pragma once

// True when this hit of site is armed to fail (each call counts as a hit). Logs the fault.
bool fault_hit(const char * site);

// Replaces the armed list (null or "" disarms) and resets the hit counts.
void fault_arm(const char * spec);
