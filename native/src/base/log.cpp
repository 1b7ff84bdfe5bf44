/*
 * log.cpp: the log sink. One global sink and level behind a mutex; the default writes to stderr.
 */
#include "log.h"
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace {
std::mutex g_log_mutex;
engine_log_sink g_sink = nullptr;
void * g_sink_user = nullptr;
engine_log_level g_min_level = ENGINE_LOG_INFO;
const char * level_name(engine_log_level l) {
    switch (l) {
        case ENGINE_LOG_DEBUG: return "debug";
        case ENGINE_LOG_INFO: return "info";
        case ENGINE_LOG_WARN: return "warn";
        default: return "error";
    }
}
}  // namespace

void engine_log(engine_log_level level, const char * fmt, ...) {
    char line[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    std::lock_guard<std::mutex> lock(g_log_mutex);
    if (level < g_min_level) return;
    if (g_sink) {
        g_sink(level, line, g_sink_user);
    } else {
        std::fprintf(stderr, "[engine %s] %s\n", level_name(level), line);
    }
}

extern "C" void engine_set_log_sink(engine_log_sink sink, void * user_data) noexcept {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_sink = sink;
    g_sink_user = user_data;
}

extern "C" void engine_set_log_level(engine_log_level min_level) noexcept {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_min_level = min_level;
}
