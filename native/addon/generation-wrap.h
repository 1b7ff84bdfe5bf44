/*
 * generation-wrap.h: the JS class wrapping one engine_generation (NativeGeneration). step()
 * resolves with the next step record (below); the steps themselves run ahead of it on a worker
 * thread (the run-ahead loop, generation-wrap.cpp), so while JS handles one step's tokens the
 * engine already runs the next ones (up to its run_ahead: 0 runs one step per step() call), and a
 * step JS asks for is usually waiting. stats() reads the
 * totals (once no step runs); stop() ends the loop and resolves once no step runs; dispose() stops
 * it, aborting the running step, and resolves once the session is released; endBranch(b) ends a
 * branch from the next step the engine starts (steps run ahead keep the tokens they emitted).
 * Created by NativeSession.generate(). Pins its session (and drafter) while it lives. The busy
 * guard is the C session's: this class only tracks its own loop to free its handle safely.
 */
#pragma once
#include <napi.h>

#include <atomic>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "engine-redrafter.h"

// The step record: a Float64Array (STEP_RECORD_IDS + n + l + b + 2m) holding engine_done, then the
// engine_step_stats fields in declaration order (kind, reused_tokens, prompt_tokens, tree_size,
// accepted, extra_accepted, lookup_accepted, draft_ms, verify_ms, accept_ms, step_ms), then when the engine
// finished the step (step_clock_ms(): JS maps it to its own clock with clockMs()), then l (0, or n
// when the generation keeps logprobs), then m (the branches that ended at this step; 0 without
// branches), then the n emitted ids, then their l log-probabilities, then b (n for a generation
// with branches, else 0) branch indices, the branch of each id, then the m ended branches, then
// why each ended (engine_branch_end: 1 eos, 2 max_tokens, 3 ended by the caller).
// One typed array instead of an object per step: building a 10-property object cost ~4 us a step
// (native/lib/session.ts turns the record into the chunk's object).
constexpr size_t STEP_RECORD_ENDED = 12;
constexpr size_t STEP_RECORD_LOGPROBS = 13;
constexpr size_t STEP_RECORD_BRANCHES_ENDED = 14;
constexpr size_t STEP_RECORD_IDS = 15;

// The most steps a generation may run ahead of step() (its runAhead, native/lib/session.ts).
constexpr int MAX_RUN_AHEAD = 16;

// The clock of a record's end: steady, in ms (clockMs() in JS).
double step_clock_ms();
Napi::Value js_clock_ms(const Napi::CallbackInfo & info);

class SessionWrap;
class DrafterWrap;

class GenerationWrap : public Napi::ObjectWrap<GenerationWrap> {
  public:
    static Napi::Function Define(Napi::Env env);
    // A NativeGeneration for g on session (and drafter, may be null: then drafter_obj is ignored).
    static Napi::Value Create(Napi::Env env, Napi::Object session_obj, engine_generation * g, Napi::Value drafter_obj, int run_ahead);

    explicit GenerationWrap(const Napi::CallbackInfo & info);
    ~GenerationWrap() override;

    engine_generation * handle() const { return generation_; }
    engine_session * session_handle() const;

    using Record = std::vector<double>;  // a step record

    // Read by the loop (worker thread) before each step: whether it may run one more.
    bool may_step() const {
        return !stop_.load(std::memory_order_acquire) && ahead_.load(std::memory_order_acquire) < run_ahead_;
    }
    void sent() { ahead_.fetch_add(1, std::memory_order_acq_rel); }

    // Main thread, from the loop: a step's record arrived; the loop ended (status OK: done, stopped
    // or run_ahead steps ahead; otherwise the step's error).
    void Delivered(Record && r);
    void LoopEnded(engine_status status, const std::string & message);

  private:
    Napi::Value js_step(const Napi::CallbackInfo & info);
    Napi::Value js_stats(const Napi::CallbackInfo & info);
    Napi::Value js_stop(const Napi::CallbackInfo & info);
    Napi::Value js_dispose(const Napi::CallbackInfo & info);
    Napi::Value js_end_branch(const Napi::CallbackInfo & info);
    void start_loop();
    static Napi::Float64Array hand_out(Napi::Env env, const Record & r);
    void settle_disposal();
    Napi::Error failure(Napi::Env env) const;  // the loop's error (failed_ set), for a step()
    void free_now();

    engine_generation * generation_ = nullptr;
    SessionWrap * session_ = nullptr;
    DrafterWrap * drafter_ = nullptr;
    Napi::ObjectReference session_ref_, drafter_ref_;

    // Main thread only, except the two atomics the loop reads.
    std::deque<Record> ready_;                     // records not yet handed out, oldest first
    std::optional<Napi::Promise::Deferred> waiting_;  // a step() waiting for the next record
    std::optional<engine_status> failed_;          // the loop's error, for the next step()
    std::string failure_;
    std::vector<Napi::Promise::Deferred> stops_;      // stop() calls waiting for the loop to end
    std::vector<Napi::Promise::Deferred> disposals_;  // dispose() calls waiting for the loop to end
    // Records sent by the loop less step() calls so far (-1 while one waits); the loop runs while
    // it is below run_ahead_.
    std::atomic<int> ahead_{0};
    std::atomic<bool> stop_{false};
    int run_ahead_ = 0;
    bool loop_running_ = false;
    bool finished_ = false;  // a record with a done reason arrived: the loop runs no more steps
    bool disposed_ = false;
};
