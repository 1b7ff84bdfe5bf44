/*
 * addon.cpp: the Node addon's module object: backends(), readBandwidth(), clockMs(), the NativeModel /
 * NativeSession / NativeGeneration / NativeDrafter classes with their module functions
 * (loadModel(), loadDrafter(), redrafterDefaults(); own file pairs) and the log bridge. Typed in
 * native/lib/binding-types.ts. No code here prints: logs reach JS through the log bridge or stderr.
 */
#include <napi.h>

#include "addon-state.h"
#include "distill-wrap.h"
#include "drafter-wrap.h"
#include "generation-wrap.h"
#include "engine.h"
#include "log-bridge.h"
#include "model-wrap.h"
#include "session-wrap.h"

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

// readBandwidth(bytes, threads, repeats) => GB/s (synchronous: a benchmark helper).
Napi::Value js_read_bandwidth(const Napi::CallbackInfo & info) {
    double bytes = info[0].As<Napi::Number>().DoubleValue();
    int threads = info[1].As<Napi::Number>().Int32Value();
    int repeats = info.Length() > 2 ? info[2].As<Napi::Number>().Int32Value() : 3;
    return Napi::Number::New(info.Env(), engine_bench_read_bandwidth(static_cast<size_t>(bytes), threads, repeats));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("backends", Napi::Function::New(env, js_backends, "backends"));
    auto * state = new addon_state();
    env.SetInstanceData(state);
    state->model_ctor = Napi::Persistent(ModelWrap::Define(env));
    state->session_ctor = Napi::Persistent(SessionWrap::Define(env));
    state->drafter_ctor = Napi::Persistent(DrafterWrap::Define(env));
    state->generation_ctor = Napi::Persistent(GenerationWrap::Define(env));
    exports.Set("NativeModel", state->model_ctor.Value());
    exports.Set("NativeSession", state->session_ctor.Value());
    exports.Set("NativeDrafter", state->drafter_ctor.Value());
    exports.Set("NativeGeneration", state->generation_ctor.Value());
    exports.Set("loadModel", Napi::Function::New(env, ModelWrap::js_load, "loadModel"));
    exports.Set("loadDrafter", Napi::Function::New(env, DrafterWrap::js_load, "loadDrafter"));
    exports.Set("redrafterDefaults", Napi::Function::New(env, DrafterWrap::js_redrafter_defaults, "redrafterDefaults"));
    exports.Set("generateHidden", Napi::Function::New(env, js_generate_hidden, "generateHidden"));
    exports.Set("readBandwidth", Napi::Function::New(env, js_read_bandwidth, "readBandwidth"));
    exports.Set("clockMs", Napi::Function::New(env, js_clock_ms, "clockMs"));
    log_bridge_init(env, exports);
    return exports;
}

}  // namespace

NODE_API_MODULE(engine_addon, Init)
