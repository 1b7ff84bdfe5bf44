/*
 * generation-wrap.h: the JS class wrapping one engine_generation (NativeGeneration): step() runs
 * one step of the engine's decode loop as an AsyncWorker and resolves with its step record (below);
 * stats() reads the totals; dispose() ends it and releases the session. Created by
 * NativeSession.generate(). Pins its session (and drafter) while it lives. The busy guard is the C
 * session's: this class only counts running steps to free its handle safely.
 */
#pragma once
#include <napi.h>

#include "engine-redrafter.h"

// The step record: a Float64Array (STEP_RECORD_IDS + n) holding engine_done, then the
// engine_step_stats fields in declaration order (kind, reused_tokens, prompt_tokens, tree_size,
// accepted, extra_accepted, draft_ms, verify_ms, accept_ms, step_ms), then the n emitted ids.
// One typed array instead of an object per step: building a 10-property object cost ~4 us a step
// (native/lib/session.ts turns the record into the chunk's object).
constexpr size_t STEP_RECORD_IDS = 11;

class SessionWrap;
class DrafterWrap;

class GenerationWrap : public Napi::ObjectWrap<GenerationWrap> {
  public:
    static Napi::Function Define(Napi::Env env);
    // A NativeGeneration for g on session (and drafter, may be null: then drafter_obj is ignored).
    static Napi::Value Create(Napi::Env env, Napi::Object session_obj, engine_generation * g, Napi::Value drafter_obj);

    explicit GenerationWrap(const Napi::CallbackInfo & info);
    ~GenerationWrap() override;

    engine_generation * handle() const { return generation_; }
    // Main thread, when a step worker settles: frees the generation if dispose() came meanwhile.
    void StepDone();

  private:
    Napi::Value js_step(const Napi::CallbackInfo & info);
    Napi::Value js_stats(const Napi::CallbackInfo & info);
    Napi::Value js_dispose(const Napi::CallbackInfo & info);
    void free_now();

    engine_generation * generation_ = nullptr;
    SessionWrap * session_ = nullptr;
    DrafterWrap * drafter_ = nullptr;
    Napi::ObjectReference session_ref_, drafter_ref_;
    int running_ = 0;       // step workers holding the handle
    bool disposed_ = false;
};
