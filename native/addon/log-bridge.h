/*
 * log-bridge.h: registers setLogger(fn | null) and setLogLevel(level) on the addon's exports.
 */
#pragma once
#include <napi.h>

void log_bridge_init(Napi::Env env, Napi::Object exports);
