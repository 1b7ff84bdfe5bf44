/*
 * drafter-wrap.cpp: DrafterWrap (drafter-wrap.h): the load worker (engine_drafter_init off the event
 * loop), the info object, disposal that waits for running steps, and the ReDrafter step worker.
 * Arguments arrive validated by native/lib/drafter.ts and session code; only type checks here.
 */
#include "drafter-wrap.h"

#include <cstring>
#include <string>
#include <vector>

#include "addon-state.h"
#include "model-wrap.h"
#include "session-wrap.h"
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

class RedrafterStepWorker : public SessionWorker {
  public:
    RedrafterStepWorker(Napi::Env env, SessionWrap * s, DrafterWrap * d, Napi::Object drafter_obj, engine_redrafter_params p,
                        std::vector<int32_t> extra_tokens, std::vector<int32_t> extra_lens, int max_out)
        : SessionWorker(env, s), drafter_(d), params_(p), extra_tokens_(std::move(extra_tokens)),
          extra_lens_(std::move(extra_lens)), max_out_(max_out) {
        drafter_ref_ = Napi::Persistent(drafter_obj);
        drafter_->use();
        handle_ = drafter_->handle();
    }

  protected:
    engine_status Run() override {
        out_.resize(max_out_);
        std::memset(&stats_, 0, sizeof stats_);
        engine_status st = engine_session_step_redrafter(session(), handle_, &params_, extra_tokens_.data(), extra_lens_.data(),
                                                         (int)extra_lens_.size(), out_.data(), max_out_, &n_, &stats_);
        if (st != ENGINE_STATUS_OK) message_ = engine_session_last_error(session());
        return st;
    }
    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        Napi::Int32Array ids = Napi::Int32Array::New(env, (size_t)n_);
        std::memcpy(ids.Data(), out_.data(), sizeof(int32_t) * (size_t)n_);
        o.Set("ids", ids);
        int accepted = 0;
        for (int i = 0; i < ENGINE_REDRAFTER_HISTOGRAM; ++i)
            if (stats_.accepted_histogram[i]) accepted = i;
        o.Set("accepted", accepted);
        o.Set("treeSize", Napi::Number::New(env, (double)stats_.tree_nodes));
        o.Set("extraAccepted", Napi::Number::New(env, (double)stats_.extra_accepted));
        o.Set("draftMs", stats_.draft_ms);
        o.Set("verifyMs", stats_.verify_ms);
        return o;
    }
    void Finish() override {
        SessionWorker::Finish();
        drafter_->unuse();
        drafter_ref_.Reset();
    }

  private:
    DrafterWrap * drafter_;
    engine_drafter * handle_;
    Napi::ObjectReference drafter_ref_;
    engine_redrafter_params params_;
    std::vector<int32_t> extra_tokens_, extra_lens_;
    int max_out_;
    std::vector<int32_t> out_;
    int n_ = 0;
    engine_redrafter_stats stats_;
};

Napi::Value rejected(Napi::Env env, Napi::Value reason) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(reason);
    return d.Promise();
}

std::vector<int32_t> to_vec(const Napi::Value & v) {
    if (!v.IsTypedArray()) return {};
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
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

Napi::Value DrafterWrap::js_redrafter_step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SessionWrap * sw = SessionWrap::FromValue(info[0]);
    DrafterWrap * dw = DrafterWrap::FromValue(info[1]);
    if (!sw) throw Napi::TypeError::New(env, "redrafterStep: not a session");
    if (!dw || !dw->handle()) return rejected(env, engine_js_error(env, "redrafterStep: the drafter is disposed", "ENGINE_INVALID_ARGUMENT").Value());
    engine_redrafter_params p{info[2].ToNumber().Int32Value(), info[3].ToNumber().Int32Value()};
    int max_out = info[6].ToNumber().Int32Value();
    if (max_out < 1) max_out = 1;
    Napi::Value err;
    if (!sw->BeginCall(env, &err)) return rejected(env, err);
    auto * w = new RedrafterStepWorker(env, sw, dw, info[1].As<Napi::Object>(), p, to_vec(info[4]), to_vec(info[5]), max_out);
    Napi::Promise pr = w->Promise();
    w->Queue();
    return pr;
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
