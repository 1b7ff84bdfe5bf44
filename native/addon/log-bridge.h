/*
 * log-bridge.h: registers setLogger(fn | null) and setLogLevel(level) on the addon's exports; the
 * engine's log lines then reach the JS function (on the event loop) instead of stderr.
 */
#pragma once
#include <napi.h>

void log_bridge_init(Napi::Env env, Napi::Object exports);
