/*
 * drafter-wrap.h: the JS class wrapping one engine_drafter (NativeDrafter: info(), dispose()) and
 * the ReDrafter functions of the module: loadDrafter() (an AsyncWorker) and redrafterDefaults().
 * A generation in ReDrafter mode (generation-wrap.h) holds the drafter while it lives.
 * Registered by addon.cpp with the other classes.
 */
#pragma once
#include <napi.h>

#include "engine-redrafter.h"

class DrafterWrap : public Napi::ObjectWrap<DrafterWrap> {
  public:
    static Napi::Function Define(Napi::Env env);
    // loadDrafter(dir: string, model: NativeModel) => Promise<NativeDrafter>
    static Napi::Value js_load(const Napi::CallbackInfo & info);
    // redrafterDefaults(model) => { beams, beamLength }
    static Napi::Value js_redrafter_defaults(const Napi::CallbackInfo & info);
    // The DrafterWrap behind a JS value, or null if it is not one.
    static DrafterWrap * FromValue(Napi::Value v);

    explicit DrafterWrap(const Napi::CallbackInfo & info);
    ~DrafterWrap() override;

    // Null once disposed.
    engine_drafter * handle() const { return disposed_ ? nullptr : drafter_; }
    // A generation holds the drafter: dispose() then frees it when the last one ends.
    void use() { ++in_use_; }
    void unuse();

  private:
    Napi::Value js_info(const Napi::CallbackInfo & info);
    Napi::Value js_dispose(const Napi::CallbackInfo & info);
    void free_now();

    engine_drafter * drafter_ = nullptr;
    int in_use_ = 0;
    bool disposed_ = false;
};
