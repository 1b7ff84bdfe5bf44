/*
 * log.h: the engine's only way to say anything. Lines go to the sink set through the C API
 * (the addon forwards them to JS); the default sink is stderr. Never stdout.
 */
#pragma once
#include "engine.h"

void engine_log(engine_log_level level, const char * fmt, ...) __attribute__((format(printf, 2, 3)));

#define ENGINE_LOG_DEBUG(...) engine_log(ENGINE_LOG_DEBUG, __VA_ARGS__)
#define ENGINE_LOG_INFO(...)  engine_log(ENGINE_LOG_INFO, __VA_ARGS__)
#define ENGINE_LOG_WARN(...)  engine_log(ENGINE_LOG_WARN, __VA_ARGS__)
#define ENGINE_LOG_ERROR(...) engine_log(ENGINE_LOG_ERROR, __VA_ARGS__)
