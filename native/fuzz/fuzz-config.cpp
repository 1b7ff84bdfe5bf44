/*
 * fuzz-config.cpp: config_parse on arbitrary text as a model's config.json. An accepted config
 * has every field inside its documented range, a finite weight count and finite, positive RoPE
 * frequencies (the rope math runs on it, so UBSan sees any float-to-int overflow there).
 */
#include <cmath>
#include <string>

#include "base/status.h"
#include "core/config.h"
#include "fuzz-target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    model_config c;
    try {
        c = config_parse("fuzz/config.json", reinterpret_cast<const char *>(data), size);
    } catch (const engine_error & e) {
        ENGINE_ASSERT(std::string(e.what()).rfind("fuzz/config.json: ", 0) == 0);
        return 0;
    }
    ENGINE_ASSERT(c.n_vocab >= 1 && c.n_vocab <= CONFIG_MAX_VOCAB);
    ENGINE_ASSERT(c.n_embd >= 1 && c.n_embd <= CONFIG_MAX_HIDDEN && c.n_ff >= 1 && c.n_ff <= CONFIG_MAX_FF);
    ENGINE_ASSERT(c.n_layer >= 1 && c.n_layer <= CONFIG_MAX_LAYERS);
    ENGINE_ASSERT(c.n_head >= 1 && c.n_head_kv >= 1 && c.n_head % c.n_head_kv == 0);
    ENGINE_ASSERT(c.head_dim >= 2 && c.head_dim % 2 == 0 && c.head_dim <= CONFIG_MAX_HEAD_DIM);
    ENGINE_ASSERT(c.n_ctx_train >= CONFIG_MIN_CONTEXT && c.n_ctx_train <= CONFIG_MAX_CONTEXT);
    ENGINE_ASSERT(c.rms_norm_eps > 0.0f && std::isfinite(c.rms_norm_eps) && c.rope_theta > 1.0f && std::isfinite(c.rope_theta));
    ENGINE_ASSERT(c.bos_token_id >= -1 && c.bos_token_id < c.n_vocab);
    for (int e : c.eos_token_ids) ENGINE_ASSERT(e >= 0 && e < c.n_vocab);
    ENGINE_ASSERT(config_weight_elements("fuzz/config.json", c) > 0);
    for (float f : config_rope_inv_freq(c)) ENGINE_ASSERT(std::isfinite(f) && f > 0.0f);
    return 0;
}
