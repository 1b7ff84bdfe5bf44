/*
 * worker.h: the base of every addon AsyncWorker (one per unit of engine work) and run_catching(),
 * which every worker thread's work goes through. Execute() runs Run() on a libuv thread and never
 * lets an exception escape; OnOK resolves the promise with
 * Result(), OnError rejects with an Error carrying `code` (engine_status_code) that the TS wrapper
 * turns into EngineError. SessionWorker (session-wrap.h) also pins its session's JS object and
 * releases the session's busy guard before settling. Code in Run() must not touch Napi.
 */
#pragma once
#include <napi.h>

#include <string>

#include "engine.h"

// Creates an Error with .code, e.g. ("context full ...", "ENGINE_INVALID_ARGUMENT").
inline Napi::Error engine_js_error(Napi::Env env, const std::string & message, const char * code) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Value().Set("code", Napi::String::New(env, code));
    return e;
}

// Worker thread: f() (returning an engine_status) with no exception escaping: one becomes
// ENGINE_STATUS_INTERNAL, its text in message.
template <class F>
engine_status run_catching(std::string & message, F && f) noexcept {
    try {
        return f();
    } catch (const std::exception & e) {
        message = std::string("internal error: ") + e.what();
    } catch (...) {
        message = "internal error: unknown exception";
    }
    return ENGINE_STATUS_INTERNAL;
}

class EngineWorker : public Napi::AsyncWorker {
  public:
    explicit EngineWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise Promise() { return deferred_.Promise(); }

  protected:
    // Worker thread. Return a status; on failure set message_.
    virtual engine_status Run() = 0;
    // Main thread, after Run() returned OK.
    virtual Napi::Value Result(Napi::Env env) = 0;
    // Main thread, before the promise settles (both outcomes).
    virtual void Finish() {}

    std::string message_;

  private:
    void Execute() override { status_ = run_catching(message_, [this] { return Run(); }); }
    void OnOK() override {
        Napi::Env env = Env();
        Napi::HandleScope scope(env);
        Finish();
        if (status_ == ENGINE_STATUS_OK) {
            Napi::Value v;
            try {
                v = Result(env);
            } catch (const Napi::Error & e) {
                deferred_.Reject(e.Value());
                return;
            }
            deferred_.Resolve(v);
        } else {
            deferred_.Reject(engine_js_error(env, message_.empty() ? engine_status_code(status_) : message_,
                                             engine_status_code(status_)).Value());
        }
    }
    void OnError(const Napi::Error & e) override {
        Finish();
        deferred_.Reject(e.Value());
    }

    Napi::Promise::Deferred deferred_;
    engine_status status_ = ENGINE_STATUS_INTERNAL;
};
