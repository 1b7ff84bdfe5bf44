/*
 * generation-wrap.cpp: GenerationWrap (generation-wrap.h). The run-ahead loop: one worker thread
 * calls engine_generation_step back to back and sends each step's record to the main thread, until
 * the generation is done, dispose() stops it, a step fails, or it is run_ahead records ahead of
 * step() (it ends; the next step() starts it again). With run_ahead > 0 the engine does not wait
 * for JS between steps, and JS finds the step it asks for done, without waiting for a thread to
 * wake (docs/engine.md, "Steps run ahead"); with 0 each step() runs one step. Arguments arrive
 * validated by native/lib/session.ts.
 */
#include "generation-wrap.h"

#include <algorithm>
#include <chrono>

#include "addon-state.h"
#include "drafter-wrap.h"
#include "session-wrap.h"
#include "worker.h"

double step_clock_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Napi::Value js_clock_ms(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), step_clock_ms()); }

namespace {

class RunAheadWorker : public Napi::AsyncProgressQueueWorker<double> {
  public:
    RunAheadWorker(Napi::Env env, GenerationWrap * w, Napi::Object obj)
        : Napi::AsyncProgressQueueWorker<double>(env), wrap_(w) {
        ref_ = Napi::Persistent(obj);
    }

  protected:
    // Worker thread: no Napi here but progress.Send.
    void Execute(const ExecutionProgress & progress) override {
        status_ = run_catching(message_, [&] { return run(progress); });
    }
    void OnProgress(const double * data, size_t count) override { wrap_->Delivered(GenerationWrap::Record(data, data + count)); }
    // Both run after every OnProgress (node-addon-api settles a progress worker once its queue drained).
    void OnOK() override { end(); }
    void OnError(const Napi::Error & e) override {
        status_ = ENGINE_STATUS_INTERNAL;
        message_ = e.Message();
        end();
    }

  private:
    // Steps while the wrap allows; OK when done, stopped or far enough ahead, else the failure.
    engine_status run(const ExecutionProgress & progress) {
        engine_generation * g = wrap_->handle();
        engine_session * s = wrap_->session_handle();
        int32_t out[ENGINE_STEP_MAX_TOKENS];
        float logprobs[ENGINE_STEP_MAX_TOKENS];
        int32_t branch_of[ENGINE_STEP_MAX_TOKENS], ended[ENGINE_MAX_BRANCHES];
        engine_branch_end why[ENGINE_MAX_BRANCHES];
        double rec[STEP_RECORD_IDS + 3 * ENGINE_STEP_MAX_TOKENS + 2 * ENGINE_MAX_BRANCHES];
        while (wrap_->may_step()) {
            int n = 0;
            engine_done done = ENGINE_DONE_NOT;
            engine_step_stats st{};
            const engine_status status = engine_generation_step(g, out, ENGINE_STEP_MAX_TOKENS, &n, &done, &st);
            if (status != ENGINE_STATUS_OK) {
                message_ = status == ENGINE_STATUS_BUSY ? "generation is busy: another step of it is still running"
                                                        : engine_session_last_error(s);
                return status;
            }
            rec[0] = done;
            rec[1] = st.kind;
            rec[2] = st.reused_tokens;
            rec[3] = st.prompt_tokens;
            rec[4] = st.tree_size;
            rec[5] = st.accepted;
            rec[6] = st.extra_accepted;
            rec[7] = st.lookup_accepted;
            rec[8] = st.draft_ms;
            rec[9] = st.verify_ms;
            rec[10] = st.accept_ms;
            rec[11] = st.step_ms;
            rec[STEP_RECORD_ENDED] = step_clock_ms();
            // 0, or n when the generation keeps logprobs
            const int l = std::min(engine_generation_step_logprobs(g, logprobs, ENGINE_STEP_MAX_TOKENS), n);
            // branches: n (the branch of each id), else 0; the branches that ended
            const int b = std::min(engine_generation_step_branches(g, branch_of, ENGINE_STEP_MAX_TOKENS), n);
            const int m = std::min(engine_generation_step_ended(g, ended, why, ENGINE_MAX_BRANCHES), ENGINE_MAX_BRANCHES);
            rec[STEP_RECORD_LOGPROBS] = l;
            rec[STEP_RECORD_BRANCHES_ENDED] = m;
            double * r = rec + STEP_RECORD_IDS;
            for (int i = 0; i < n; ++i) *r++ = out[i];
            for (int i = 0; i < l; ++i) *r++ = logprobs[i];
            for (int i = 0; i < b; ++i) *r++ = branch_of[i];
            for (int i = 0; i < m; ++i) *r++ = ended[i];
            for (int i = 0; i < m; ++i) *r++ = why[i];
            wrap_->sent();
            progress.Send(rec, static_cast<size_t>(r - rec));
            if (done != ENGINE_DONE_NOT) break;
        }
        return ENGINE_STATUS_OK;
    }
    void end() {
        wrap_->LoopEnded(status_, message_);
        ref_.Reset();
    }

    GenerationWrap * wrap_;
    Napi::ObjectReference ref_;  // keeps the wrap (and so the generation) alive while the loop runs
    engine_status status_ = ENGINE_STATUS_OK;
    std::string message_;
};

}  // namespace

Napi::Function GenerationWrap::Define(Napi::Env env) {
    return DefineClass(env, "NativeGeneration",
                       {InstanceMethod<&GenerationWrap::js_step>("step"), InstanceMethod<&GenerationWrap::js_stats>("stats"),
                        InstanceMethod<&GenerationWrap::js_stop>("stop"), InstanceMethod<&GenerationWrap::js_dispose>("dispose"),
                        InstanceMethod<&GenerationWrap::js_end_branch>("endBranch")});
}

Napi::Value GenerationWrap::Create(Napi::Env env, Napi::Object session_obj, engine_generation * g, Napi::Value drafter_obj, int run_ahead) {
    return get_addon_state(env).generation_ctor.New(
        {session_obj, Napi::External<engine_generation>::New(env, g), drafter_obj, Napi::Number::New(env, run_ahead)});
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
    if (info.Length() > 3 && info[3].IsNumber()) run_ahead_ = std::clamp(info[3].As<Napi::Number>().Int32Value(), 0, MAX_RUN_AHEAD);
    drafter_ = info.Length() > 2 ? DrafterWrap::FromValue(info[2]) : nullptr;
    if (drafter_) {
        drafter_ref_ = Napi::Persistent(info[2].As<Napi::Object>());
        drafter_->use();
    }
}

GenerationWrap::~GenerationWrap() {
    // Collected (never while the loop runs: it holds a reference): the session and drafter wraps
    // may be collected in the same pass (in any order), so touch only the engine (which defers a
    // session freed under a generation, engine.h).
    if (generation_) engine_generation_free(generation_);
}

engine_session * GenerationWrap::session_handle() const { return session_ ? session_->handle() : nullptr; }

void GenerationWrap::free_now() {
    if (!generation_) return;
    engine_generation_free(generation_);
    generation_ = nullptr;
    if (session_) session_->Released();
    if (drafter_) drafter_->unuse();
    if (!drafter_ref_.IsEmpty()) drafter_ref_.Reset();
    if (!session_ref_.IsEmpty()) session_ref_.Reset();
}

void GenerationWrap::start_loop() {
    loop_running_ = true;
    auto * w = new RunAheadWorker(Env(), this, Value());
    w->Queue();
}

Napi::Float64Array GenerationWrap::hand_out(Napi::Env env, const Record & r) {
    Napi::Float64Array a = Napi::Float64Array::New(env, r.size());
    std::copy(r.begin(), r.end(), a.Data());
    return a;
}

void GenerationWrap::Delivered(Record && r) {
    if (r[0] != ENGINE_DONE_NOT) finished_ = true;
    if (waiting_) {
        Napi::Env env = Env();
        Napi::HandleScope scope(env);
        Napi::Promise::Deferred d = *waiting_;
        waiting_.reset();
        d.Resolve(hand_out(env, r));
    } else {
        ready_.push_back(std::move(r));
    }
}

void GenerationWrap::LoopEnded(engine_status status, const std::string & message) {
    loop_running_ = false;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status != ENGINE_STATUS_OK) {
        finished_ = true;  // a failed step ends the generation (engine.h)
        failed_ = status;
        failure_ = message.empty() ? engine_status_code(status) : message;
    }
    for (auto & d : stops_) d.Resolve(env.Undefined());
    stops_.clear();
    if (disposed_) {
        settle_disposal();
        return;
    }
    if (!waiting_) return;
    if (failed_) {
        Napi::Promise::Deferred d = *waiting_;
        waiting_.reset();
        d.Reject(failure(env).Value());
    } else if (!finished_) {
        start_loop();  // it stopped run_ahead_ ahead just before step() took those records
    }
}

Napi::Error GenerationWrap::failure(Napi::Env env) const { return engine_js_error(env, failure_, engine_status_code(*failed_)); }

void GenerationWrap::settle_disposal() {
    free_now();
    for (auto & d : disposals_) d.Resolve(Env().Undefined());
    disposals_.clear();
}

Napi::Value GenerationWrap::js_step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto d = Napi::Promise::Deferred::New(env);
    if (!generation_ || disposed_) {
        d.Reject(engine_js_error(env, "generation is disposed", "ENGINE_INVALID_ARGUMENT").Value());
    } else if (waiting_) {
        d.Reject(engine_js_error(env, "generation is busy: another step of it is still running", "ENGINE_BUSY").Value());
    } else if (stop_.load(std::memory_order_relaxed)) {
        d.Reject(engine_js_error(env, "generation is stopped", "ENGINE_INVALID_ARGUMENT").Value());
    } else if (!ready_.empty()) {
        ahead_.fetch_sub(1, std::memory_order_acq_rel);
        Record r = std::move(ready_.front());
        ready_.pop_front();
        d.Resolve(hand_out(env, r));
        if (!loop_running_ && !finished_ && ahead_.load() < run_ahead_) start_loop();  // it had stopped run_ahead_ ahead
    } else if (failed_) {
        d.Reject(failure(env).Value());
    } else {
        // Nothing ready: wait for the loop (after the done record, a step asks the engine again,
        // which answers as it does for any step of a finished generation).
        ahead_.fetch_sub(1, std::memory_order_acq_rel);
        waiting_ = d;
        if (!loop_running_) start_loop();
    }
    return d.Promise();
}

Napi::Value GenerationWrap::js_stats(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!generation_) throw engine_js_error(env, "generation is disposed", "ENGINE_INVALID_ARGUMENT");
    // the loop's steps update the totals: read them only once it runs no more (done, failed or idle)
    if (loop_running_ && !finished_)
        throw engine_js_error(env, "generation is busy: its steps are still running (read stats after the last one)", "ENGINE_BUSY");
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
    o.Set("lookupAccepted", Napi::Number::New(env, static_cast<double>(st.lookup_accepted)));
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

// stop() => Promise<void>: the loop runs no further step (the running one finishes, or ends early
// when the session's abort flag is set); resolves once none runs, so stats() reads the totals.
// Later step() calls are refused.
Napi::Value GenerationWrap::js_stop(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto d = Napi::Promise::Deferred::New(env);
    stop_.store(true, std::memory_order_release);
    if (loop_running_ && !finished_) stops_.push_back(d);  // after the done record the loop calls the engine no more
    else d.Resolve(env.Undefined());
    return d.Promise();
}

// dispose() => Promise<void>: resolves once the generation is freed and its session released
// (at once when the loop is idle; else when the running step, aborted between layers, returns).
Napi::Value GenerationWrap::js_dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto d = Napi::Promise::Deferred::New(env);
    disposed_ = true;
    stop_.store(true, std::memory_order_release);
    ready_.clear();
    if (waiting_) {
        Napi::Promise::Deferred w = *waiting_;
        waiting_.reset();
        w.Reject(engine_js_error(env, "generation is disposed", "ENGINE_INVALID_ARGUMENT").Value());
    }
    disposals_.push_back(d);
    if (!loop_running_) {
        settle_disposal();
    } else if (engine_session * s = session_handle()) {
        engine_session_set_abort(s, 1);  // end the running step soon
    }
    return d.Promise();
}

// endBranch(b): branch b takes no further rows from the next step the engine starts (the loop may
// have run steps ahead: their tokens stay). A no-op once the generation is freed or the branch ended.
Napi::Value GenerationWrap::js_end_branch(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "endBranch(b)");
    if (!generation_ || finished_) return env.Undefined();
    const engine_status st = engine_generation_end_branch(generation_, info[0].As<Napi::Number>().Int32Value());
    if (st != ENGINE_STATUS_OK) throw engine_js_error(env, "endBranch: the generation has no such branch", engine_status_code(st));
    return env.Undefined();
}
