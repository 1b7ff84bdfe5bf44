/*
 * backend.h: the backend interface (a table of function pointers, as in ggml). The CPU backend is
 * linked in; the CUDA backend lives in a separately built module (engine-cuda.so) that exports
 * ENGINE_BACKEND_ENTRY and is loaded with dlopen, so the engine always starts without CUDA.
 * Bump ENGINE_BACKEND_API_VERSION whenever this struct changes: the registry refuses a module
 * built against another version instead of calling through a mismatched table.
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#define ENGINE_BACKEND_API_VERSION 1
#define ENGINE_BACKEND_ENTRY "engine_backend_entry"

struct engine_backend_i {
    uint32_t api_version;      // == ENGINE_BACKEND_API_VERSION of the module's build
    const char * name;         // "cpu", "cuda"
    // Probes the hardware. Returns a score > 0 when usable (higher is preferred) and writes a device
    // description to detail; returns 0 and writes the reason to detail when not usable.
    int (*probe)(char * detail, size_t detail_len);
    // Ops are added here as the engine grows; members that a backend may leave null are marked (optional).
};

// Signature of the module entry point named ENGINE_BACKEND_ENTRY.
typedef const engine_backend_i * (*engine_backend_entry_fn)(void);

// The CPU backend's table (always present).
const engine_backend_i * engine_backend_cpu(void);

// One backend as the registry found it (backend-registry.cpp).
struct backend_entry {
    std::string name;                          // "cpu", "cuda"
    const engine_backend_i * iface = nullptr;  // null when unavailable
    int score = 0;                             // the probe's score when available (higher is preferred)
    std::string detail;                        // the device when available; why not when unavailable
};

// Every backend this process knows, cpu first. Discovered (the CUDA module looked up, loaded and
// probed) once, on the first call; later calls return the same list.
const std::vector<backend_entry> & backend_registry();
