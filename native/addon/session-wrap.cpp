/*
 * session-wrap.cpp: SessionWrap: forward as a SessionWorker (one AsyncWorker per unit of work),
 * generate (a NativeGeneration), the reusable prefix, truncate, abort and disposal. Arguments arrive
 * validated by the TS wrapper (native/lib/session.ts); only cheap type checks happen here.
 */
#include "session-wrap.h"

#include <cstring>
#include <vector>

#include "addon-state.h"
#include "drafter-wrap.h"
#include "float-buffer.h"
#include "generation-wrap.h"
#include "model-wrap.h"

namespace {

std::vector<int32_t> to_vec(const Napi::Value & v) {
    if (!v.IsTypedArray()) return {};
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

class ForwardWorker : public SessionWorker {
  public:
    ForwardWorker(Napi::Env env, SessionWrap * w, std::vector<int32_t> tokens, std::vector<int32_t> positions,
                  std::vector<uint8_t> mask, bool has_mask, std::vector<int32_t> rows, bool want_hidden, bool want_logits,
                  int n_vocab, int n_embd)
        : SessionWorker(env, w), tokens_(std::move(tokens)), positions_(std::move(positions)), mask_(std::move(mask)),
          has_mask_(has_mask), rows_(std::move(rows)), want_hidden_(want_hidden), want_logits_(want_logits),
          n_vocab_(n_vocab), n_embd_(n_embd) {}

  protected:
    engine_status Run() override {
        if (rows_.empty()) rows_.push_back(static_cast<int32_t>(tokens_.size()) - 1);
        if (want_logits_) logits_.allocate(rows_.size() * static_cast<size_t>(n_vocab_));  // logits: (rows, n_vocab)
        if (want_hidden_) hidden_.allocate(rows_.size() * static_cast<size_t>(n_embd_));   // hidden: (rows, n_embd)
        engine_status st = engine_session_forward(session(), tokens_.data(), static_cast<int>(tokens_.size()),
                                                  positions_.empty() ? nullptr : positions_.data(),
                                                  has_mask_ ? mask_.data() : nullptr, rows_.data(),
                                                  static_cast<int>(rows_.size()), want_logits_ ? logits_.data() : nullptr,
                                                  want_hidden_ ? hidden_.data() : nullptr);
        if (st != ENGINE_STATUS_OK) message_ = engine_session_last_error(session());
        return st;
    }
    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        if (want_logits_) o.Set("logits", logits_.to_js(env));
        if (want_hidden_) o.Set("hidden", hidden_.to_js(env));
        return o;
    }

  private:
    std::vector<int32_t> tokens_, positions_;
    std::vector<uint8_t> mask_;
    bool has_mask_;
    std::vector<int32_t> rows_;
    bool want_hidden_, want_logits_;
    int n_vocab_, n_embd_;
    float_buffer logits_, hidden_;
};

}  // namespace

Napi::Function SessionWrap::Define(Napi::Env env) {
    return DefineClass(env, "NativeSession",
                       {InstanceMethod<&SessionWrap::js_forward>("forward"),
                        InstanceMethod<&SessionWrap::js_generate>("generate"),
                        InstanceMethod<&SessionWrap::js_reusable_prefix>("reusablePrefix"),
                        InstanceMethod<&SessionWrap::js_truncate>("truncate"),
                        InstanceMethod<&SessionWrap::js_abort>("abort"),
                        InstanceMethod<&SessionWrap::js_dispose>("dispose"),
                        InstanceMethod<&SessionWrap::js_tokens>("tokens"),
                        InstanceAccessor<&SessionWrap::js_length>("length"),
                        InstanceAccessor<&SessionWrap::js_shared_length>("sharedLength"),
                        InstanceAccessor<&SessionWrap::js_max_context>("maxContext")});
}

Napi::Value SessionWrap::Create(Napi::Env env, Napi::Object model_obj, engine_session * s) {
    return get_addon_state(env).session_ctor.New({model_obj, Napi::External<engine_session>::New(env, s)});
}

SessionWrap * SessionWrap::FromValue(Napi::Value v) {
    if (!v.IsObject()) return nullptr;
    Napi::Object o = v.As<Napi::Object>();
    if (!o.InstanceOf(get_addon_state(v.Env()).session_ctor.Value())) return nullptr;
    return Napi::ObjectWrap<SessionWrap>::Unwrap(o);
}

SessionWrap::SessionWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<SessionWrap>(info) {
    if (info.Length() < 2 || !info[1].IsExternal()) {
        Napi::TypeError::New(info.Env(), "NativeSession cannot be constructed directly; use model.createSession()")
            .ThrowAsJavaScriptException();
        return;
    }
    model_ = ModelWrap::FromValue(info[0]);
    model_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    session_ = info[1].As<Napi::External<engine_session>>().Data();
    if (model_) model_->session_opened();
}

SessionWrap::~SessionWrap() { free_now(); }

void SessionWrap::free_now() {
    if (!session_) return;
    engine_session_free(session_);
    session_ = nullptr;
    if (model_) model_->session_closed();
    if (!model_ref_.IsEmpty()) model_ref_.Reset();
}

bool SessionWrap::BeginCall(Napi::Env env, Napi::Value * error) {
    if (!session_ || dispose_pending_) {
        *error = engine_js_error(env, "session is disposed", "ENGINE_INVALID_ARGUMENT").Value();
        return false;
    }
    if (engine_session_acquire(session_) != ENGINE_STATUS_OK) {
        *error = engine_js_error(env, "session is busy: another call on it is still running", "ENGINE_BUSY").Value();
        return false;
    }
    engine_session_set_abort(session_, 0);
    return true;
}

void SessionWrap::EndCall() {
    if (session_) engine_session_release(session_);
    Released();
}

void SessionWrap::Released() {
    if (dispose_pending_) free_now();
}

namespace {
Napi::Value rejected(Napi::Env env, Napi::Value reason) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(reason);
    return d.Promise();
}
}  // namespace

Napi::Value SessionWrap::js_forward(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Value err;
    if (!BeginCall(env, &err)) return rejected(env, err);
    // forward(tokens, positions|null, mask|null, outRows|null, wantHidden, wantLogits)
    std::vector<uint8_t> mask;
    bool has_mask = info.Length() > 2 && info[2].IsTypedArray();
    if (has_mask) {
        Napi::Uint8Array m = info[2].As<Napi::Uint8Array>();
        mask.assign(m.Data(), m.Data() + m.ElementLength());
    }
    bool want_hidden = info.Length() > 4 && info[4].ToBoolean();
    bool want_logits = info.Length() <= 5 || info[5].ToBoolean();
    engine_model_info mi;
    engine_model_get_info(model_->handle(), &mi);
    auto * w = new ForwardWorker(env, this, to_vec(info[0]), info.Length() > 1 ? to_vec(info[1]) : std::vector<int32_t>(),
                                 std::move(mask), has_mask, info.Length() > 3 ? to_vec(info[3]) : std::vector<int32_t>(),
                                 want_hidden, want_logits, mi.n_vocab, mi.n_embd);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

namespace {
std::vector<int32_t> int32s(const Napi::Object & o, const char * key) { return to_vec(o.Get(key)); }
double number(const Napi::Object & o, const char * key, double fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}
}  // namespace

Napi::Value SessionWrap::js_generate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!session_ || dispose_pending_) throw engine_js_error(env, "session is disposed", "ENGINE_INVALID_ARGUMENT");
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "generate(params)");
    // generate({ prompt, maxTokens, temperature, topK, topP, seed, stopTokens, drafter, beams,
    //            beamLength, extraTokens, extraLens, lookupTokens, lookupMinNgram, lookupMaxNgram,
    //            lookupMaxDrafts, requiredPrefix, logprobs, runAhead, branches })
    Napi::Object o = info[0].As<Napi::Object>();
    const std::vector<int32_t> prompt = int32s(o, "prompt"), stop = int32s(o, "stopTokens");
    const std::vector<int32_t> extra_tokens = int32s(o, "extraTokens"), extra_lens = int32s(o, "extraLens");
    std::vector<uint8_t> required;
    if (o.Get("requiredPrefix").IsTypedArray()) {
        Napi::Uint8Array r = o.Get("requiredPrefix").As<Napi::Uint8Array>();
        required.assign(r.Data(), r.Data() + r.ElementLength());
    }
    engine_generation_params p = engine_generation_default_params();
    p.prompt = prompt.data();
    p.n_prompt = static_cast<int>(prompt.size());
    p.max_tokens = static_cast<int>(number(o, "maxTokens", 1));
    p.sampling.temperature = static_cast<float>(number(o, "temperature", 0));
    p.sampling.top_k = static_cast<int>(number(o, "topK", 0));
    p.sampling.top_p = static_cast<float>(number(o, "topP", 1));
    p.sampling.seed = static_cast<uint64_t>(number(o, "seed", 0));
    p.stop_tokens = stop.data();
    p.n_stop = static_cast<int>(stop.size());
    Napi::Value drafter_obj = o.Get("drafter");
    DrafterWrap * dw = DrafterWrap::FromValue(drafter_obj);
    if (!drafter_obj.IsNull() && !drafter_obj.IsUndefined() && (!dw || !dw->handle()))
        throw engine_js_error(env, "the drafter is disposed or not a drafter", "ENGINE_INVALID_ARGUMENT");
    if (dw) {
        p.mode = ENGINE_DECODE_REDRAFTER;
        p.drafter = dw->handle();
        p.n_beams = static_cast<int>(number(o, "beams", 0));
        p.beam_len = static_cast<int>(number(o, "beamLength", 0));
    }
    // extra drafts with or without a drafter (without one: verified in drafts rounds)
    p.extra_tokens = extra_tokens.data();
    p.extra_lens = extra_lens.data();
    p.n_extra = static_cast<int>(extra_lens.size());
    // lookup drafts: 0 = off / the engine's defaults
    p.lookup_tokens = static_cast<int>(number(o, "lookupTokens", 0));
    p.lookup_min_ngram = static_cast<int>(number(o, "lookupMinNgram", 0));
    p.lookup_max_ngram = static_cast<int>(number(o, "lookupMaxNgram", 0));
    p.lookup_max_drafts = static_cast<int>(number(o, "lookupMaxDrafts", 0));
    p.required_prefix = required.data();
    p.n_required_prefix = static_cast<int>(required.size());
    p.logprobs = o.Get("logprobs").ToBoolean().Value() ? 1 : 0;
    // branches: a Float64Array (B x 4) of (temperature, topK, topP, seed), or null
    std::vector<engine_sampling> branches;
    if (o.Get("branches").IsTypedArray()) {
        Napi::Float64Array b = o.Get("branches").As<Napi::Float64Array>();
        for (size_t i = 0; i + 4 <= b.ElementLength(); i += 4)
            branches.push_back(engine_sampling{static_cast<float>(b[i]), static_cast<int>(b[i + 1]), static_cast<float>(b[i + 2]),
                                               static_cast<uint64_t>(b[i + 3])});
        p.branches = branches.data();
        p.n_branches = static_cast<int>(branches.size());
    }
    engine_generation * g = nullptr;
    char err[1024] = {0};
    engine_status st = engine_generation_init(session_, &p, &g, err, sizeof err);
    if (st != ENGINE_STATUS_OK) throw engine_js_error(env, err, engine_status_code(st));
    return GenerationWrap::Create(env, Value(), g, dw ? drafter_obj : env.Null(), static_cast<int>(number(o, "runAhead", 0)));
}

Napi::Value SessionWrap::js_reusable_prefix(const Napi::CallbackInfo & info) {
    const std::vector<int32_t> prompt = to_vec(info[0]);
    const int n = session_ && !prompt.empty() ? engine_session_reusable_prefix(session_, prompt.data(), static_cast<int>(prompt.size())) : 0;
    return Napi::Number::New(info.Env(), n);
}

Napi::Value SessionWrap::js_truncate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!session_ || dispose_pending_) throw engine_js_error(env, "session is disposed", "ENGINE_INVALID_ARGUMENT");
    if (engine_session_acquire(session_) != ENGINE_STATUS_OK)
        throw engine_js_error(env, "session is busy: another call on it is still running", "ENGINE_BUSY");
    engine_status st = engine_session_truncate(session_, info[0].As<Napi::Number>().Int32Value());
    engine_session_release(session_);
    if (st != ENGINE_STATUS_OK) throw engine_js_error(env, engine_session_last_error(session_), engine_status_code(st));
    return env.Undefined();
}

Napi::Value SessionWrap::js_abort(const Napi::CallbackInfo & info) {
    // Harmless when idle: every call and generation clears the flag when it starts.
    if (session_) engine_session_set_abort(session_, 1);
    return info.Env().Undefined();
}

Napi::Value SessionWrap::js_dispose(const Napi::CallbackInfo & info) {
    if (!session_ || dispose_pending_) return info.Env().Undefined();
    if (engine_session_acquire(session_) == ENGINE_STATUS_OK) {
        engine_session_release(session_);
        free_now();
    } else {  // a call or a generation holds it: end that soon, free when it lets go
        dispose_pending_ = true;
        engine_session_set_abort(session_, 1);
    }
    return info.Env().Undefined();
}

Napi::Value SessionWrap::js_length(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), session_ ? engine_session_length(session_) : 0);
}

Napi::Value SessionWrap::js_shared_length(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), session_ ? engine_session_shared_length(session_) : 0);
}

Napi::Value SessionWrap::js_max_context(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), session_ ? engine_session_max_context(session_) : 0);
}

Napi::Value SessionWrap::js_tokens(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    int n = session_ ? engine_session_length(session_) : 0;
    Napi::Int32Array a = Napi::Int32Array::New(env, static_cast<size_t>(n));
    if (n > 0) std::memcpy(a.Data(), engine_session_tokens(session_), static_cast<size_t>(n) * sizeof(int32_t));
    return a;
}
