/*
 * addon.cpp: the Node addon's module object. It exports backends() here; the classes that wrap
 * models and sessions live in their own file pairs and register themselves in Init.
 * No code here prints: logs reach JS through the log bridge or go to stderr.
 */
#include <napi.h>
#include "engine.h"

namespace {

Napi::Value js_backends(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    engine_backend_report reports[8];
    int n = engine_backends(reports, 8);
    Napi::Array out = Napi::Array::New(env, n);
    for (int i = 0; i < n && i < 8; ++i) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", reports[i].name);
        o.Set("available", Napi::Boolean::New(env, reports[i].available != 0));
        o.Set(reports[i].available ? "device" : "reason", reports[i].detail);
        out.Set(i, o);
    }
    return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("backends", Napi::Function::New(env, js_backends, "backends"));
    return exports;
}

}  // namespace

NODE_API_MODULE(engine_addon, Init)
