/*
 * model-wrap.h: the JS class wrapping one engine_model: loadModel() (an AsyncWorker), info(),
 * setTokenBytes(), saveWeights() (a quantized model's weights to a file), setKvPool() / kvPool() (the shared KV block pool), createSession(), dispose(). The model is freed when it is disposed (or collected) and no session
 * still uses it.
 */
#pragma once
#include <napi.h>

#include "engine.h"

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
  public:
    static Napi::Function Define(Napi::Env env);
    // loadModel(dir: string, threads: number, backend: string, abortFlag: Int32Array) => Promise<NativeModel>
    static Napi::Value js_load(const Napi::CallbackInfo & info);
    static ModelWrap * FromValue(Napi::Value v);

    explicit ModelWrap(const Napi::CallbackInfo & info);
    ~ModelWrap() override;

    engine_model * handle() const { return model_; }
    void session_opened() { ++sessions_; }
    void session_closed();

  private:
    Napi::Value js_info(const Napi::CallbackInfo & info);
    Napi::Value js_create_session(const Napi::CallbackInfo & info);
    // setTokenBytes(bytes: Uint8Array, offsets: Uint32Array (V + 1), special: Uint8Array (V))
    Napi::Value js_set_token_bytes(const Napi::CallbackInfo & info);
    // setKvPool(budgetBytes: number): the model's shared KV block pool (0 = off); kvPool(): its figures
    Napi::Value js_set_kv_pool(const Napi::CallbackInfo & info);
    Napi::Value js_kv_pool(const Napi::CallbackInfo & info);
    // saveWeights(path: string) => Promise<void>: engine_model_save_weights off the event loop
    Napi::Value js_save_weights(const Napi::CallbackInfo & info);
    Napi::Value js_dispose(const Napi::CallbackInfo & info);
    void maybe_free();

    engine_model * model_ = nullptr;
    int sessions_ = 0;
    bool disposed_ = false;
};
