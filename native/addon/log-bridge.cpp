/*
 * log-bridge.cpp: forwards native log lines to a JS callback through a ThreadSafeFunction, so
 * lines logged on worker threads reach the server's logger. Without a callback (the default, or
 * after setLogger(null)) the engine's own sink writes to stderr, never stdout.
 */
#include <napi.h>

#include <mutex>
#include <string>

#include "engine.h"
#include "log-bridge.h"

namespace {

struct log_line {
    engine_log_level level;
    std::string text;
};

std::mutex g_mutex;
Napi::ThreadSafeFunction g_tsfn;
bool g_active = false;

void call_js(Napi::Env env, Napi::Function fn, log_line * line) {
    if (env != nullptr && fn != nullptr) {
        static const char * names[] = {"debug", "info", "warn", "error"};
        int l = line->level < 0 || line->level > 3 ? 1 : line->level;
        fn.Call({Napi::String::New(env, names[l]), Napi::String::New(env, line->text)});
    }
    delete line;
}

void sink(engine_log_level level, const char * text, void *) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_active) return;
    auto * line = new log_line{level, text};
    if (g_tsfn.NonBlockingCall(line, call_js) != napi_ok) delete line;
}

void release_locked() {
    if (g_active) {
        engine_set_log_sink(nullptr, nullptr);
        g_tsfn.Release();
        g_active = false;
    }
}

Napi::Value js_set_logger(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> lock(g_mutex);
    release_locked();
    if (info.Length() > 0 && info[0].IsFunction()) {
        g_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "slipstream-log", 0, 1);
        g_tsfn.Unref(env);  // logging never keeps the process alive
        g_active = true;
        engine_set_log_sink(sink, nullptr);
    }
    return env.Undefined();
}

Napi::Value js_set_log_level(const Napi::CallbackInfo & info) {
    std::string l = info[0].As<Napi::String>();
    engine_set_log_level(l == "debug" ? ENGINE_LOG_DEBUG : l == "warn" ? ENGINE_LOG_WARN : l == "error" ? ENGINE_LOG_ERROR : ENGINE_LOG_INFO);
    return info.Env().Undefined();
}

}  // namespace

void log_bridge_init(Napi::Env env, Napi::Object exports) {
    exports.Set("setLogger", Napi::Function::New(env, js_set_logger, "setLogger"));
    exports.Set("setLogLevel", Napi::Function::New(env, js_set_log_level, "setLogLevel"));
    env.AddCleanupHook([] {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_active) {
            engine_set_log_sink(nullptr, nullptr);
            g_active = false;  // the environment is going away; the TSFN is finalized with it
        }
    });
}
