/*
 * generation-wrap.cpp: GenerationWrap (generation-wrap.h): the step worker (engine_generation_step
 * off the event loop; the step's tokens, done reason and engine_step_stats go back as one step
 * record), the totals, and disposal that waits for a running step. Arguments arrive validated by
 * native/lib/session.ts.
 */
#include "generation-wrap.h"

#include <cstring>

#include "addon-state.h"
#include "drafter-wrap.h"
#include "session-wrap.h"
#include "worker.h"

namespace {

class StepWorker : public EngineWorker {
  public:
    StepWorker(Napi::Env env, GenerationWrap * w, Napi::Object obj, engine_session * s)
        : EngineWorker(env), wrap_(w), session_(s) {
        ref_ = Napi::Persistent(obj);
    }

  protected:
    engine_status Run() override {
        engine_status st = engine_generation_step(wrap_->handle(), out_, ENGINE_STEP_MAX_TOKENS, &n_, &done_, &stats_);
        if (st == ENGINE_STATUS_BUSY) message_ = "generation is busy: another step of it is still running";
        else if (st != ENGINE_STATUS_OK) message_ = engine_session_last_error(session_);
        return st;
    }
    // The step record (generation-wrap.h): one typed array, no per-step property sets.
    Napi::Value Result(Napi::Env env) override {
        Napi::Float64Array r = Napi::Float64Array::New(env, STEP_RECORD_IDS + static_cast<size_t>(n_));
        double * f = r.Data();
        f[0] = done_;
        f[1] = stats_.kind;
        f[2] = stats_.reused_tokens;
        f[3] = stats_.prompt_tokens;
        f[4] = stats_.tree_size;
        f[5] = stats_.accepted;
        f[6] = stats_.extra_accepted;
        f[7] = stats_.draft_ms;
        f[8] = stats_.verify_ms;
        f[9] = stats_.accept_ms;
        f[10] = stats_.step_ms;
        for (int i = 0; i < n_; ++i) f[STEP_RECORD_IDS + static_cast<size_t>(i)] = out_[i];
        return r;
    }
    void Finish() override {
        wrap_->StepDone();
        ref_.Reset();
    }

  private:
    GenerationWrap * wrap_;
    engine_session * session_;
    Napi::ObjectReference ref_;
    int32_t out_[ENGINE_STEP_MAX_TOKENS];
    int n_ = 0;
    engine_done done_ = ENGINE_DONE_NOT;
    engine_step_stats stats_{};
};

}  // namespace

Napi::Function GenerationWrap::Define(Napi::Env env) {
    return DefineClass(env, "NativeGeneration",
                       {InstanceMethod<&GenerationWrap::js_step>("step"), InstanceMethod<&GenerationWrap::js_stats>("stats"),
                        InstanceMethod<&GenerationWrap::js_dispose>("dispose")});
}

Napi::Value GenerationWrap::Create(Napi::Env env, Napi::Object session_obj, engine_generation * g, Napi::Value drafter_obj) {
    return get_addon_state(env).generation_ctor.New({session_obj, Napi::External<engine_generation>::New(env, g), drafter_obj});
}

GenerationWrap::GenerationWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<GenerationWrap>(info) {
    if (info.Length() < 2 || !info[1].IsExternal()) {
        Napi::TypeError::New(info.Env(), "NativeGeneration cannot be constructed directly; use session.generate()")
            .ThrowAsJavaScriptException();
        return;
    }
    session_ = SessionWrap::FromValue(info[0]);
    session_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    generation_ = info[1].As<Napi::External<engine_generation>>().Data();
    drafter_ = info.Length() > 2 ? DrafterWrap::FromValue(info[2]) : nullptr;
    if (drafter_) {
        drafter_ref_ = Napi::Persistent(info[2].As<Napi::Object>());
        drafter_->use();
    }
}

GenerationWrap::~GenerationWrap() {
    // Collected: the session and drafter wraps may be collected in the same pass (in any order),
    // so touch only the engine (which defers a session freed under a generation, engine.h).
    if (generation_) engine_generation_free(generation_);
}

void GenerationWrap::free_now() {
    if (!generation_) return;
    engine_generation_free(generation_);
    generation_ = nullptr;
    if (session_) session_->Released();
    if (drafter_) drafter_->unuse();
    if (!drafter_ref_.IsEmpty()) drafter_ref_.Reset();
    if (!session_ref_.IsEmpty()) session_ref_.Reset();
}

void GenerationWrap::StepDone() {
    if (--running_ == 0 && disposed_) free_now();
}

Napi::Value GenerationWrap::js_step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto d = Napi::Promise::Deferred::New(env);
    if (!generation_ || disposed_) {
        d.Reject(engine_js_error(env, "generation is disposed", "ENGINE_INVALID_ARGUMENT").Value());
        return d.Promise();
    }
    ++running_;
    auto * w = new StepWorker(env, this, Value(), session_ ? session_->handle() : nullptr);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

Napi::Value GenerationWrap::js_stats(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!generation_) throw engine_js_error(env, "generation is disposed", "ENGINE_INVALID_ARGUMENT");
    engine_generation_stats st;
    engine_generation_get_stats(generation_, &st);
    Napi::Object o = Napi::Object::New(env);
    o.Set("promptTokens", st.prompt_tokens);
    o.Set("reusedTokens", st.reused_tokens);
    o.Set("emitted", st.emitted);
    o.Set("forwardPasses", st.forward_passes);
    o.Set("rounds", st.rounds);
    o.Set("treeNodes", Napi::Number::New(env, static_cast<double>(st.tree_nodes)));
    o.Set("maxTreeNodes", Napi::Number::New(env, static_cast<double>(st.max_tree_nodes)));
    o.Set("extraAccepted", Napi::Number::New(env, static_cast<double>(st.extra_accepted)));
    int last = -1;  // the histogram up to its last non-zero bucket
    for (int i = 0; i < ENGINE_ACCEPTED_HISTOGRAM; ++i)
        if (st.accepted_histogram[i]) last = i;
    Napi::Array hist = Napi::Array::New(env, static_cast<size_t>(last + 1));
    for (int i = 0; i <= last; ++i) hist.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(st.accepted_histogram[i])));
    o.Set("acceptedHistogram", hist);
    o.Set("prefillMs", st.prefill_ms);
    o.Set("decodeMs", st.decode_ms);
    o.Set("draftMs", st.draft_ms);
    o.Set("verifyMs", st.verify_ms);
    o.Set("acceptMs", st.accept_ms);
    return o;
}

Napi::Value GenerationWrap::js_dispose(const Napi::CallbackInfo & info) {
    disposed_ = true;
    if (running_ == 0) {
        free_now();
    } else if (session_ && session_->handle()) {
        engine_session_set_abort(session_->handle(), 1);  // end the running step soon; freed when it settles
    }
    return info.Env().Undefined();
}
