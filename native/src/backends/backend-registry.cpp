/*
 * backend-registry.cpp: discovers backends once per process. CPU is always registered. The CUDA
 * module is looked for next to the binary that holds this code (the addon or the CLI), or at
 * $SLIPSTREAM_CUDA_MODULE; a missing module, a dlopen failure, an API version mismatch and
 * "no device" are states the registry reports (the C API's engine_backends()), never errors.
 */
#include "backend.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/status.h"

namespace {

std::once_flag g_once;
std::vector<backend_entry> g_backends;

std::string own_directory() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&own_directory), &info) == 0 || info.dli_fname == nullptr) return ".";
    std::string path = info.dli_fname;
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

backend_entry probe(const char * name, const engine_backend_i * iface) {
    backend_entry b;
    b.name = name;
    char detail[256] = {0};
    int score = iface->probe(detail, sizeof(detail));
    b.detail = detail;
    if (score > 0) {
        b.iface = iface;
        b.score = score;
    }
    return b;
}

backend_entry load_cuda() {
    backend_entry b;
    b.name = "cuda";
    const char * env = std::getenv("SLIPSTREAM_CUDA_MODULE");
    std::string path = env && *env ? std::string(env) : own_directory() + "/engine-cuda.so";
    if (!env) {
        FILE * f = std::fopen(path.c_str(), "rb");
        if (!f) {
            b.detail = "not built";
            return b;
        }
        std::fclose(f);
    }
    // RTLD_LOCAL keeps the module's statically linked cudart out of the global namespace.
    void * handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char * err = dlerror();
        b.detail = std::string("module failed to load: ") + (err ? err : "unknown dlopen error");
        return b;
    }
    auto entry = reinterpret_cast<engine_backend_entry_fn>(dlsym(handle, ENGINE_BACKEND_ENTRY));
    if (!entry) {
        b.detail = "module failed to load: no symbol " ENGINE_BACKEND_ENTRY " in " + path;
        return b;
    }
    const engine_backend_i * iface = entry();
    if (!iface || iface->api_version != ENGINE_BACKEND_API_VERSION) {
        b.detail = "API version mismatch: module " + std::to_string(iface ? iface->api_version : 0) +
                   ", engine " + std::to_string(ENGINE_BACKEND_API_VERSION);
        return b;
    }
    // The handle stays open for the life of the process: the table points into it.
    return probe("cuda", iface);
}

void discover() {
    g_backends.push_back(probe("cpu", engine_backend_cpu()));
    g_backends.push_back(load_cuda());
    for (const auto & b : g_backends) {
        ENGINE_LOG_INFO("backend %s: %s (%s)", b.name.c_str(), b.iface ? "available" : "unavailable", b.detail.c_str());
    }
}

}  // namespace

const std::vector<backend_entry> & backend_registry() {
    std::call_once(g_once, discover);
    return g_backends;
}

std::string backend_missing_ops(const engine_backend_i & b) {
    std::string missing;
#define ENGINE_BACKEND_CHECK_OP(op)          \
    if (!b.op) {                             \
        if (!missing.empty()) missing += ", "; \
        missing += #op;                      \
    }
    ENGINE_BACKEND_REQUIRED_OPS(ENGINE_BACKEND_CHECK_OP)
#undef ENGINE_BACKEND_CHECK_OP
    return missing;
}

const engine_backend_i * backend_select(const char * name) {
    const std::string want = name && *name ? name : "auto";
    const auto & list = backend_registry();
    if (want == "auto") {
        const engine_backend_i * best = nullptr;
        int best_score = 0;
        for (const auto & b : list)
            if (b.iface && b.score > best_score && backend_missing_ops(*b.iface).empty()) {
                best = b.iface;
                best_score = b.score;
            }
        if (!best) throw engine_error(ERROR_UNSUPPORTED, "no available backend can run models");
        return best;
    }
    for (const auto & b : list) {
        if (b.name != want) continue;
        if (!b.iface) throw engine_error(ERROR_UNSUPPORTED, "backend '" + want + "' is unavailable: " + b.detail);
        const std::string missing = backend_missing_ops(*b.iface);
        if (!missing.empty())
            throw engine_error(ERROR_UNSUPPORTED, "backend '" + want + "' cannot run models in this build yet: it lacks " + missing +
                                                      "; use 'cpu' or 'auto'");
        return b.iface;
    }
    throw engine_error(ERROR_INVALID_ARGUMENT, "unknown backend '" + want + "' (auto, cpu or cuda)");
}
