/*
 * distill-wrap.cpp: generateHidden as a SessionWorker (session-wrap.h): claims the session for one
 * call, runs engine_session_generate_hidden on a libuv thread and hands the tokens and hidden
 * states (n, n_embd) to JS. Arguments arrive validated by native/lib/distill.ts.
 */
#include "distill-wrap.h"

#include <vector>

#include "engine-distill.h"
#include "float-buffer.h"
#include "session-wrap.h"

namespace {

std::vector<int32_t> int32_vec(const Napi::Value & v) {
    if (!v.IsTypedArray()) return {};
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

class GenerateHiddenWorker : public SessionWorker {
  public:
    GenerateHiddenWorker(Napi::Env env, SessionWrap * w, std::vector<int32_t> prompt, int n_generate,
                         std::vector<int32_t> stop, int n_embd)
        : SessionWorker(env, w), prompt_(std::move(prompt)), stop_(std::move(stop)), n_generate_(n_generate), n_embd_(n_embd) {}

  protected:
    engine_status Run() override {
        tokens_.assign(static_cast<size_t>(n_generate_), 0);
        hidden_.allocate(static_cast<size_t>(n_generate_) * static_cast<size_t>(n_embd_));  // (n_generate, n_embd)
        engine_status st = engine_session_generate_hidden(session(), prompt_.data(), static_cast<int>(prompt_.size()), n_generate_,
                                                          stop_.empty() ? nullptr : stop_.data(), static_cast<int>(stop_.size()),
                                                          tokens_.data(), hidden_.data(), &n_out_);
        if (st != ENGINE_STATUS_OK) message_ = engine_session_last_error(session());
        return st;
    }
    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        Napi::Int32Array t = Napi::Int32Array::New(env, static_cast<size_t>(n_out_));
        for (int i = 0; i < n_out_; ++i) t[static_cast<size_t>(i)] = tokens_[static_cast<size_t>(i)];
        o.Set("tokens", t);
        Napi::Float32Array h = hidden_.to_js(env);  // (n_generate, n_embd); the first n_out rows are filled
        o.Set("hidden", Napi::Float32Array::New(env, static_cast<size_t>(n_out_) * n_embd_, h.ArrayBuffer(), 0));
        return o;
    }

  private:
    std::vector<int32_t> prompt_, stop_, tokens_;
    int n_generate_, n_embd_, n_out_ = 0;
    float_buffer hidden_;
};

Napi::Value rejected(Napi::Env env, Napi::Value reason) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(reason);
    return d.Promise();
}

}  // namespace

Napi::Value js_generate_hidden(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SessionWrap * w = info.Length() > 0 ? SessionWrap::FromValue(info[0]) : nullptr;
    if (!w || info.Length() < 4 || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsTypedArray())
        return rejected(env, engine_js_error(env, "generateHidden(session, prompt: Int32Array, nGenerate: number, stopTokens: Int32Array)",
                                             "ENGINE_INVALID_ARGUMENT").Value());
    Napi::Value err;
    if (!w->BeginCall(env, &err)) return rejected(env, err);
    auto * worker = new GenerateHiddenWorker(env, w, int32_vec(info[1]), info[2].As<Napi::Number>().Int32Value(),
                                             int32_vec(info[3]), engine_session_hidden_size(w->handle()));
    Napi::Promise p = worker->Promise();
    worker->Queue();
    return p;
}
