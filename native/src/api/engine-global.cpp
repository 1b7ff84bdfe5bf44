/*
 * engine-global.cpp: the process-wide part of the C API: status codes, the backend list, the log
 * sink and level, the bandwidth probe. Each forwards to the part that does the work (backends/,
 * base/log, backends/cpu/membench) and converts its types to the public ones.
 */
#include <cstring>
#include <exception>
#include <string>

#include "backends/backend.h"
#include "backends/cpu/membench.h"
#include "base/log.h"
#include "engine.h"

extern "C" const char * engine_status_code(engine_status status) noexcept {
    switch (status) {
        case ENGINE_STATUS_OK: return "ENGINE_OK";
        case ENGINE_STATUS_INVALID_ARGUMENT: return "ENGINE_INVALID_ARGUMENT";
        case ENGINE_STATUS_IO_ERROR: return "ENGINE_IO_ERROR";
        case ENGINE_STATUS_BAD_MODEL: return "ENGINE_BAD_MODEL";
        case ENGINE_STATUS_CANCELLED: return "ENGINE_CANCELLED";
        case ENGINE_STATUS_BUSY: return "ENGINE_BUSY";
        case ENGINE_STATUS_OUT_OF_MEMORY: return "ENGINE_OUT_OF_MEMORY";
        case ENGINE_STATUS_UNSUPPORTED: return "ENGINE_UNSUPPORTED";
        case ENGINE_STATUS_INTERNAL: return "ENGINE_INTERNAL";
        case ENGINE_STATUS_NUMERIC: return "ENGINE_NUMERIC";
    }
    return "ENGINE_UNKNOWN";
}

extern "C" int engine_backends(engine_backend_report * reports, int max_reports) noexcept {
    try {
        const auto & list = backend_registry();
        const int n = static_cast<int>(list.size());
        for (int i = 0; i < n && i < max_reports && reports; ++i) {
            engine_backend_report & r = reports[i];
            std::memset(&r, 0, sizeof(r));
            std::strncpy(r.name, list[i].name.c_str(), sizeof(r.name) - 1);
            r.available = list[i].iface != nullptr;
            std::strncpy(r.detail, list[i].detail.c_str(), sizeof(r.detail) - 1);
        }
        return n;
    } catch (...) {
        return 0;
    }
}

static_assert(int(ENGINE_LOG_DEBUG) == int(LOG_LEVEL_DEBUG) && int(ENGINE_LOG_INFO) == int(LOG_LEVEL_INFO) &&
                  int(ENGINE_LOG_WARN) == int(LOG_LEVEL_WARN) && int(ENGINE_LOG_ERROR) == int(LOG_LEVEL_ERROR),
              "engine_log_level and log_level must agree");

extern "C" void engine_set_log_sink(engine_log_sink sink, void * user_data) noexcept {
    try {
        if (!sink) log_set_sink(nullptr);
        else log_set_sink([sink, user_data](log_level level, const char * line) { sink(static_cast<engine_log_level>(level), line, user_data); });
    } catch (...) {
        // std::function could not allocate: the previous sink stays
    }
}

extern "C" void engine_set_log_level(engine_log_level min_level) noexcept { log_set_level(static_cast<log_level>(min_level)); }

extern "C" double engine_bench_read_bandwidth(size_t bytes, int n_threads, int repeats) noexcept {
    return bench_read_bandwidth(bytes, n_threads, repeats);
}
