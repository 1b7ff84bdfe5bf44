/*
 * addon-state.h: all module state in one struct, stored as the env's instance data (one per
 * Node environment / worker thread): the class constructors.
 */
#pragma once
#include <napi.h>

struct addon_state {
    Napi::FunctionReference model_ctor;
    Napi::FunctionReference session_ctor;
    Napi::FunctionReference drafter_ctor;
    Napi::FunctionReference generation_ctor;
};

inline addon_state & get_addon_state(Napi::Env env) { return *env.GetInstanceData<addon_state>(); }
