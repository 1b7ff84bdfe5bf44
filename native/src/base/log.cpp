/*
 * log.cpp: the log sink. One global sink and level behind a mutex; lines are formatted before the
 * lock and cut at 1023 bytes; the default sink writes to stderr.
 */
#include "log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <utility>

namespace {
std::mutex g_log_mutex;
log_sink g_sink;
log_level g_min_level = LOG_LEVEL_INFO;
const char * level_name(log_level l) {
    switch (l) {
        case LOG_LEVEL_DEBUG: return "debug";
        case LOG_LEVEL_INFO: return "info";
        case LOG_LEVEL_WARN: return "warn";
        default: return "error";
    }
}
}  // namespace

void log_printf(log_level level, const char * fmt, ...) {
    char line[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    std::lock_guard<std::mutex> lock(g_log_mutex);
    if (level < g_min_level) return;
    if (g_sink) {
        g_sink(level, line);
    } else {
        std::fprintf(stderr, "[engine %s] %s\n", level_name(level), line);
    }
}

void log_set_sink(log_sink sink) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_sink = std::move(sink);
}

void log_set_level(log_level min_level) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_min_level = min_level;
}
