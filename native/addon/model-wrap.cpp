/*
 * model-wrap.cpp: ModelWrap: the load worker (engine_model_init off the event loop), the info
 * object, the token bytes, session creation and disposal with reference counting against open sessions.
 */
#include "model-wrap.h"

#include <string>

#include "addon-state.h"
#include "session-wrap.h"
#include "worker.h"

namespace {

class LoadWorker : public EngineWorker {
  public:
    LoadWorker(Napi::Env env, std::string dir, int threads, std::string backend, Napi::Int32Array abort_flag, std::string weights,
               std::string kv)
        : EngineWorker(env), dir_(std::move(dir)), threads_(threads), backend_(std::move(backend)), weights_(std::move(weights)),
          kv_(std::move(kv)) {
        if (!abort_flag.IsEmpty() && abort_flag.ElementLength() >= 1) {
            abort_ref_ = Napi::Persistent(abort_flag);
            abort_ptr_ = abort_flag.Data();
        }
    }

  protected:
    engine_status Run() override {
        engine_model_params p = engine_model_default_params();
        p.n_threads = threads_;
        p.backend = backend_.c_str();
        p.abort = abort_ptr_;
        p.weights = weights_.c_str();
        p.kv = kv_.c_str();
        char err[1024] = {0};
        engine_status st = engine_model_init(dir_.c_str(), &p, &model_, err, sizeof(err));
        if (st != ENGINE_STATUS_OK) message_ = err;
        return st;
    }
    Napi::Value Result(Napi::Env env) override {
        Napi::Object obj = get_addon_state(env).model_ctor.New({Napi::External<engine_model>::New(env, model_)});
        model_ = nullptr;  // owned by the wrap now
        return obj;
    }
    void Finish() override { abort_ref_.Reset(); }
    ~LoadWorker() override {
        if (model_) engine_model_free(model_);  // loaded but never handed to JS
    }

  private:
    std::string dir_;
    int threads_;
    std::string backend_;
    std::string weights_;  // "bf16" | "q8_0" | "q4_0"
    std::string kv_;       // "auto" | "f32" | "bf16"
    Napi::Reference<Napi::Int32Array> abort_ref_;
    const volatile int * abort_ptr_ = nullptr;
    engine_model * model_ = nullptr;
};

// Saves the weights; the model is pinned like an open session until the promise settles.
class SaveWorker : public EngineWorker {
  public:
    SaveWorker(Napi::Env env, Napi::Object model_obj, ModelWrap * wrap, std::string path)
        : EngineWorker(env), wrap_(wrap), model_(wrap->handle()), path_(std::move(path)) {
        model_ref_ = Napi::Persistent(model_obj);
        wrap_->session_opened();
    }

  protected:
    engine_status Run() override {
        char err[1024] = {0};
        engine_status st = engine_model_save_weights(model_, path_.c_str(), err, sizeof(err));
        if (st != ENGINE_STATUS_OK) message_ = err;
        return st;
    }
    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
    void Finish() override {
        wrap_->session_closed();
        model_ref_.Reset();
    }

  private:
    ModelWrap * wrap_;
    engine_model * model_;
    std::string path_;
    Napi::ObjectReference model_ref_;
};

}  // namespace

Napi::Function ModelWrap::Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod<&ModelWrap::js_info>("info"),
                        InstanceMethod<&ModelWrap::js_create_session>("createSession"),
                        InstanceMethod<&ModelWrap::js_set_token_bytes>("setTokenBytes"),
                        InstanceMethod<&ModelWrap::js_set_kv_pool>("setKvPool"),
                        InstanceMethod<&ModelWrap::js_kv_pool>("kvPool"),
                        InstanceMethod<&ModelWrap::js_save_weights>("saveWeights"),
                        InstanceMethod<&ModelWrap::js_dispose>("dispose")});
}

ModelWrap * ModelWrap::FromValue(Napi::Value v) {
    if (!v.IsObject()) return nullptr;
    Napi::Object o = v.As<Napi::Object>();
    if (!o.InstanceOf(get_addon_state(v.Env()).model_ctor.Value())) return nullptr;
    return Napi::ObjectWrap<ModelWrap>::Unwrap(o);
}

ModelWrap::ModelWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<ModelWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        Napi::TypeError::New(info.Env(), "NativeModel cannot be constructed directly; use loadModel()").ThrowAsJavaScriptException();
        return;
    }
    model_ = info[0].As<Napi::External<engine_model>>().Data();
}

ModelWrap::~ModelWrap() {
    // Sessions pin this object, so none is open when it is collected.
    if (model_) engine_model_free(model_);
}

Napi::Value ModelWrap::js_load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::string dir = info[0].As<Napi::String>();
    int threads = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
    std::string backend = info.Length() > 2 && info[2].IsString() ? std::string(info[2].As<Napi::String>()) : "auto";
    Napi::Int32Array flag;
    if (info.Length() > 3 && info[3].IsTypedArray()) flag = info[3].As<Napi::Int32Array>();
    std::string weights = info.Length() > 4 && info[4].IsString() ? std::string(info[4].As<Napi::String>()) : "bf16";
    std::string kv = info.Length() > 5 && info[5].IsString() ? std::string(info[5].As<Napi::String>()) : "auto";
    auto * w = new LoadWorker(env, dir, threads, backend, flag, weights, kv);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

Napi::Value ModelWrap::js_info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model_) throw engine_js_error(env, "model is disposed", "ENGINE_INVALID_ARGUMENT");
    engine_model_info mi;
    engine_model_get_info(model_, &mi);
    Napi::Object o = Napi::Object::New(env);
    o.Set("architecture", mi.architecture);
    o.Set("storedDtype", mi.stored_dtype);
    o.Set("computeDtype", mi.compute_dtype);
    o.Set("vocabSize", mi.n_vocab);
    o.Set("hiddenSize", mi.n_embd);
    o.Set("intermediateSize", mi.n_ff);
    o.Set("numLayers", mi.n_layer);
    o.Set("numHeads", mi.n_head);
    o.Set("numKvHeads", mi.n_head_kv);
    o.Set("headDim", mi.head_dim);
    o.Set("maxPositionEmbeddings", mi.n_ctx_train);
    o.Set("ropeTheta", mi.rope_theta);
    o.Set("rmsNormEps", mi.rms_norm_eps);
    o.Set("tieWordEmbeddings", Napi::Boolean::New(env, mi.tie_word_embeddings != 0));
    o.Set("bosTokenId", mi.bos_token_id >= 0 ? Napi::Value(Napi::Number::New(env, mi.bos_token_id)) : env.Null());
    Napi::Array eos = Napi::Array::New(env, mi.n_eos);
    for (int i = 0; i < mi.n_eos; ++i) eos.Set(i, mi.eos_token_ids[i]);
    o.Set("eosTokenIds", eos);
    o.Set("weightBytes", static_cast<double>(mi.weight_bytes));
    o.Set("threads", mi.n_threads);
    o.Set("kernelPath", mi.kernel_path);
    o.Set("savedWeights", mi.saved_weights[0] ? Napi::Value(Napi::String::New(env, mi.saved_weights)) : env.Null());
    o.Set("kvDtype", mi.kv_dtype);
    o.Set("kvBytesPerToken", static_cast<double>(mi.kv_bytes_per_token));
    return o;
}

Napi::Value ModelWrap::js_create_session(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model_ || disposed_) throw engine_js_error(env, "model is disposed", "ENGINE_INVALID_ARGUMENT");
    int max_context = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    engine_session * s = nullptr;
    char err[512] = {0};
    engine_status st = engine_session_init(model_, max_context, &s, err, sizeof err);
    if (st != ENGINE_STATUS_OK) throw engine_js_error(env, std::string("cannot create a session: ") + err, engine_status_code(st));
    return SessionWrap::Create(env, Value(), s);
}

Napi::Value ModelWrap::js_set_token_bytes(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model_ || disposed_) throw engine_js_error(env, "model is disposed", "ENGINE_INVALID_ARGUMENT");
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray())
        throw Napi::TypeError::New(env, "setTokenBytes(bytes: Uint8Array, offsets: Uint32Array, special: Uint8Array)");
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array offsets = info[1].As<Napi::Uint32Array>();
    Napi::Uint8Array special = info[2].As<Napi::Uint8Array>();
    const int n = static_cast<int>(special.ElementLength());
    if (offsets.ElementLength() != special.ElementLength() + 1)
        throw engine_js_error(env, "setTokenBytes: offsets must have one entry more than special", "ENGINE_INVALID_ARGUMENT");
    if (n > 0 && offsets[static_cast<size_t>(n)] > bytes.ElementLength())
        throw engine_js_error(env, "setTokenBytes: offsets run past the bytes", "ENGINE_INVALID_ARGUMENT");
    char err[512] = {0};
    engine_status st = engine_model_set_token_bytes(model_, bytes.Data(), offsets.Data(), special.Data(), n, err, sizeof err);
    if (st != ENGINE_STATUS_OK) throw engine_js_error(env, err, engine_status_code(st));
    return env.Undefined();
}

Napi::Value ModelWrap::js_set_kv_pool(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model_ || disposed_) throw engine_js_error(env, "model is disposed", "ENGINE_INVALID_ARGUMENT");
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setKvPool(budgetBytes: number)");
    const double b = info[0].As<Napi::Number>().DoubleValue();
    if (!(b >= 0) || b > 9007199254740991.0)
        throw engine_js_error(env, "setKvPool: budgetBytes must be a number >= 0", "ENGINE_INVALID_ARGUMENT");
    engine_status st = engine_model_set_kv_pool(model_, static_cast<uint64_t>(b));
    if (st != ENGINE_STATUS_OK) throw engine_js_error(env, "setKvPool failed", engine_status_code(st));
    return env.Undefined();
}

Napi::Value ModelWrap::js_kv_pool(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model_) throw engine_js_error(env, "model is disposed", "ENGINE_INVALID_ARGUMENT");
    engine_kv_pool_stats st;
    engine_model_get_kv_pool_stats(model_, &st);
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytes", static_cast<double>(st.bytes));
    o.Set("budgetBytes", static_cast<double>(st.budget_bytes));
    o.Set("blockBytes", static_cast<double>(st.block_bytes));
    o.Set("blocks", static_cast<double>(st.blocks));
    o.Set("held", static_cast<double>(st.held));
    o.Set("hits", static_cast<double>(st.hits));
    o.Set("misses", static_cast<double>(st.misses));
    o.Set("inserted", static_cast<double>(st.inserted));
    o.Set("evictions", static_cast<double>(st.evictions));
    o.Set("refused", static_cast<double>(st.refused));
    return o;
}

Napi::Value ModelWrap::js_save_weights(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!model_ || disposed_) throw engine_js_error(env, "model is disposed", "ENGINE_INVALID_ARGUMENT");
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "saveWeights(path: string)");
    auto * w = new SaveWorker(env, info.This().As<Napi::Object>(), this, info[0].As<Napi::String>());
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

Napi::Value ModelWrap::js_dispose(const Napi::CallbackInfo & info) {
    disposed_ = true;
    maybe_free();
    return info.Env().Undefined();
}

void ModelWrap::session_closed() {
    --sessions_;
    maybe_free();
}

void ModelWrap::maybe_free() {
    if (disposed_ && sessions_ == 0 && model_) {
        engine_model_free(model_);
        model_ = nullptr;
    }
}
