/*
 * session-wrap.h: the JS class wrapping one engine_session: forward() runs one SessionWorker,
 * generate() starts a NativeGeneration (generation-wrap.h) that holds the session until it is
 * disposed. The busy guard is the C session's (engine_session_acquire / engine_generation_init):
 * a call while another runs or a generation holds the session is refused with ENGINE_BUSY.
 * dispose() while the session is held frees it when the holder lets go.
 */
#pragma once
#include <napi.h>

#include "engine.h"
#include "worker.h"

class ModelWrap;

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
  public:
    static Napi::Function Define(Napi::Env env);
    // Creates a session JS object for model (called by ModelWrap::js_create_session).
    static Napi::Value Create(Napi::Env env, Napi::Object model_obj, engine_session * s);
    // The SessionWrap behind a JS value, or null if it is not one.
    static SessionWrap * FromValue(Napi::Value v);

    explicit SessionWrap(const Napi::CallbackInfo & info);
    ~SessionWrap() override;

    engine_session * handle() const { return session_; }
    // Main thread. Claims the session for one call and clears the abort flag; on failure returns a
    // rejected promise's reason in *error (ENGINE_BUSY, or ENGINE_INVALID_ARGUMENT when disposed).
    bool BeginCall(Napi::Env env, Napi::Value * error);
    // Main thread, when the call settles: releases the session.
    void EndCall();
    // Main thread, after the holder (a call or a generation) released the session: finishes a
    // deferred dispose.
    void Released();

  private:
    Napi::Value js_forward(const Napi::CallbackInfo & info);
    Napi::Value js_generate(const Napi::CallbackInfo & info);
    Napi::Value js_reusable_prefix(const Napi::CallbackInfo & info);
    Napi::Value js_truncate(const Napi::CallbackInfo & info);
    Napi::Value js_abort(const Napi::CallbackInfo & info);
    Napi::Value js_dispose(const Napi::CallbackInfo & info);
    Napi::Value js_length(const Napi::CallbackInfo & info);
    Napi::Value js_shared_length(const Napi::CallbackInfo & info);
    Napi::Value js_tokens(const Napi::CallbackInfo & info);
    Napi::Value js_max_context(const Napi::CallbackInfo & info);
    void free_now();

    engine_session * session_ = nullptr;
    Napi::ObjectReference model_ref_;  // pins the model while the session lives
    ModelWrap * model_ = nullptr;
    bool dispose_pending_ = false;  // dispose() came while the session was held
};

// A worker bound to one session: pins its JS object and calls EndCall before settling.
class SessionWorker : public EngineWorker {
  public:
    SessionWorker(Napi::Env env, SessionWrap * wrap) : EngineWorker(env), wrap_(wrap) {
        wrap_ref_ = Napi::Persistent(wrap->Value());
    }

  protected:
    void Finish() override {
        wrap_->EndCall();
        wrap_ref_.Reset();
    }
    engine_session * session() const { return wrap_->handle(); }
    SessionWrap * wrap_;
    Napi::ObjectReference wrap_ref_;
};
