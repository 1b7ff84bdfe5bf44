/*
 * drafter-wrap.cpp: DrafterWrap (drafter-wrap.h): the load worker (engine_drafter_init off the event
 * loop), the info object, the backend defaults, and disposal that waits for the generations using
 * it. Arguments arrive validated by native/lib/drafter.ts; only type checks here.
 */
#include "drafter-wrap.h"

#include <cstring>
#include <string>

#include "addon-state.h"
#include "model-wrap.h"
#include "worker.h"

namespace {

class LoadDrafterWorker : public EngineWorker {
  public:
    LoadDrafterWorker(Napi::Env env, std::string dir, Napi::Object model_obj, engine_model * model)
        : EngineWorker(env), dir_(std::move(dir)), model_(model) {
        model_ref_ = Napi::Persistent(model_obj);  // the model must outlive the load
    }
    ~LoadDrafterWorker() override {
        if (drafter_) engine_drafter_free(drafter_);
    }

  protected:
    engine_status Run() override {
        char err[1024] = {0};
        engine_status st = engine_drafter_init(dir_.c_str(), model_, &drafter_, err, sizeof err);
        if (st != ENGINE_STATUS_OK) message_ = err;
        return st;
    }
    Napi::Value Result(Napi::Env env) override {
        Napi::Object obj = get_addon_state(env).drafter_ctor.New({Napi::External<engine_drafter>::New(env, drafter_)});
        drafter_ = nullptr;
        return obj;
    }
    void Finish() override { model_ref_.Reset(); }

  private:
    std::string dir_;
    engine_model * model_;
    Napi::ObjectReference model_ref_;
    engine_drafter * drafter_ = nullptr;
};

Napi::Value rejected(Napi::Env env, Napi::Value reason) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(reason);
    return d.Promise();
}

}  // namespace

Napi::Function DrafterWrap::Define(Napi::Env env) {
    return DefineClass(env, "NativeDrafter",
                       {InstanceMethod<&DrafterWrap::js_info>("info"), InstanceMethod<&DrafterWrap::js_dispose>("dispose")});
}

DrafterWrap * DrafterWrap::FromValue(Napi::Value v) {
    if (!v.IsObject()) return nullptr;
    Napi::Object o = v.As<Napi::Object>();
    if (!o.InstanceOf(get_addon_state(v.Env()).drafter_ctor.Value())) return nullptr;
    return Napi::ObjectWrap<DrafterWrap>::Unwrap(o);
}

DrafterWrap::DrafterWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<DrafterWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        Napi::TypeError::New(info.Env(), "NativeDrafter cannot be constructed directly; use loadDrafter()").ThrowAsJavaScriptException();
        return;
    }
    drafter_ = info[0].As<Napi::External<engine_drafter>>().Data();
}

DrafterWrap::~DrafterWrap() { free_now(); }

void DrafterWrap::unuse() {
    if (--in_use_ == 0 && disposed_) free_now();
}

Napi::Value DrafterWrap::js_info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!handle()) throw Napi::Error::New(env, "drafter is disposed");
    engine_drafter_info di;
    engine_drafter_get_info(drafter_, &di);
    Napi::Object o = Napi::Object::New(env);
    o.Set("vocabSize", di.n_vocab);
    o.Set("hiddenSize", di.n_embd);
    o.Set("exitDim", di.exit_dim);
    o.Set("numDraftLayers", di.n_layers);
    o.Set("rnn", Napi::Boolean::New(env, di.rnn != 0));
    o.Set("storedDtype", di.stored_dtype);
    o.Set("weightBytes", Napi::Number::New(env, (double)di.weight_bytes));
    return o;
}

Napi::Value DrafterWrap::js_dispose(const Napi::CallbackInfo & info) {
    disposed_ = true;
    if (in_use_ == 0) free_now();
    return info.Env().Undefined();
}

void DrafterWrap::free_now() {
    if (drafter_) engine_drafter_free(drafter_);
    drafter_ = nullptr;
}

Napi::Value DrafterWrap::js_load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadDrafter(dir, model)");
    ModelWrap * mw = ModelWrap::FromValue(info[1]);
    if (!mw || !mw->handle()) return rejected(env, engine_js_error(env, "loadDrafter: the model is disposed or not a model", "ENGINE_INVALID_ARGUMENT").Value());
    auto * w = new LoadDrafterWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Object>(), mw->handle());
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

Napi::Value DrafterWrap::js_redrafter_defaults(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * mw = ModelWrap::FromValue(info[0]);
    engine_redrafter_params p = engine_redrafter_default_params(mw ? mw->handle() : nullptr);
    Napi::Object o = Napi::Object::New(env);
    o.Set("beams", p.n_beams);
    o.Set("beamLength", p.beam_len);
    return o;
}
