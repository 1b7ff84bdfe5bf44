/*
 * log.h: the engine's only way to say anything. Each line goes to the sink the C API installs
 * (api/engine.cpp; the addon forwards lines to JS) or, by default, to stderr. Never stdout.
 */
#pragma once
#include <functional>

enum log_level : int { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_WARN = 2, LOG_LEVEL_ERROR = 3 };

// Receives each complete line (no trailing newline); called under the log's lock.
using log_sink = std::function<void(log_level level, const char * line)>;

// An empty sink restores the default (stderr).
void log_set_sink(log_sink sink);
void log_set_level(log_level min_level);
void log_printf(log_level level, const char * fmt, ...) __attribute__((format(printf, 2, 3)));

#define ENGINE_LOG_DEBUG(...) log_printf(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define ENGINE_LOG_INFO(...)  log_printf(LOG_LEVEL_INFO, __VA_ARGS__)
#define ENGINE_LOG_WARN(...)  log_printf(LOG_LEVEL_WARN, __VA_ARGS__)
#define ENGINE_LOG_ERROR(...) log_printf(LOG_LEVEL_ERROR, __VA_ARGS__)
