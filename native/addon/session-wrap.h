/*
 * session-wrap.h: the JS class wrapping one engine_session. Every async method runs one
 * SessionWorker; a call while another is running rejects with ENGINE_BUSY (the busy flag lives
 * in the C session, so code outside this class, e.g. drafter-wrap.cpp, shares the guard through
 * BeginCall/EndCall). dispose() during a call frees the session when the call settles.
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
    // Main thread. Acquires the busy flag and clears the abort flag; on failure returns a rejected
    // promise's reason in *error (ENGINE_BUSY, or ENGINE_INVALID_ARGUMENT when disposed).
    bool BeginCall(Napi::Env env, Napi::Value * error);
    // Main thread, when the call settles: releases the busy flag, finishes a deferred dispose.
    void EndCall();

  private:
    Napi::Value js_forward(const Napi::CallbackInfo & info);
    Napi::Value js_prefill(const Napi::CallbackInfo & info);
    Napi::Value js_step(const Napi::CallbackInfo & info);
    Napi::Value js_truncate(const Napi::CallbackInfo & info);
    Napi::Value js_abort(const Napi::CallbackInfo & info);
    Napi::Value js_dispose(const Napi::CallbackInfo & info);
    Napi::Value js_length(const Napi::CallbackInfo & info);
    Napi::Value js_tokens(const Napi::CallbackInfo & info);
    Napi::Value js_max_context(const Napi::CallbackInfo & info);
    Napi::Value js_busy(const Napi::CallbackInfo & info);
    void free_now();

    engine_session * session_ = nullptr;
    Napi::ObjectReference model_ref_;  // pins the model while the session lives
    ModelWrap * model_ = nullptr;
    bool busy_ = false;
    bool dispose_pending_ = false;
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
