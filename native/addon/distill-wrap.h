/*
 * distill-wrap.h: the addon's generateHidden(session, prompt, nGenerate, stopTokens) module
 * function (engine_session_generate_hidden, include/engine-distill.h): greedy tokens and the
 * drafter's context vector per token, for recording ReDrafter training data.
 */
#pragma once
#include <napi.h>

// generateHidden(session: NativeSession, prompt: Int32Array, nGenerate: number, stopTokens: Int32Array)
//   => Promise<{ tokens: Int32Array (n), hidden: Float32Array (n, hiddenSize) }>
Napi::Value js_generate_hidden(const Napi::CallbackInfo & info);
