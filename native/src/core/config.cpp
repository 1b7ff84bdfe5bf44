/*
 * config.cpp: config.json -> model_config, accepting the transformers 4.x and 5.x spellings, every
 * field checked against its valid range (docs/engine.md, "What config.json may say") and the sizes
 * it implies computed overflow-safe, all before the caller allocates anything; and the RoPE
 * inverse frequencies with scaling (HF modeling_rope_utils: default, linear, llama3).
 */
#include "config.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "base/status.h"
#include "file-read.h"
#include "json.h"

namespace {

// A number for a message: integers as integers, others in %g.
std::string num_str(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    return buf;
}

// An integer field in [lo, hi]; absent or null: def (or an error when required).
int get_int(const std::string & path, const json_value & obj, const char * key, bool required, int def, int64_t lo, int64_t hi) {
    const json_value * v = obj.get(key);
    if (!v || v->is_null()) {
        if (required) bad_model(path, std::string("missing '") + key + "' (an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ")");
        return def;
    }
    if (v->kind != json_value::NUMBER || !v->is_int || v->i < lo || v->i > hi) {
        const std::string got = v->kind == json_value::NUMBER ? "is " + num_str(v->num) : "is not a number";
        bad_model(path, std::string("'") + key + "' " + got + ": it must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return static_cast<int>(v->i);
}

// A finite number in (lo, hi] (lo_open) or [lo, hi]; absent or null: def.
double get_num(const std::string & path, const json_value & obj, const char * key, double def, double lo, double hi, bool lo_open) {
    const json_value * v = obj.get(key);
    if (!v || v->is_null()) return def;
    const std::string range = std::string(lo_open ? "(" : "[") + num_str(lo) + ", " + num_str(hi) + "]";
    if (v->kind != json_value::NUMBER) bad_model(path, std::string("'") + key + "' is not a number: it must be in " + range);
    const double x = v->num;
    if (!std::isfinite(x) || (lo_open ? !(x > lo) : !(x >= lo)) || !(x <= hi))
        bad_model(path, std::string("'") + key + "' is " + num_str(x) + ": it must be in " + range);
    return x;
}

// true / false / absent (def); anything else is an error.
bool get_bool(const std::string & path, const json_value & obj, const char * key, bool def) {
    const json_value * v = obj.get(key);
    if (!v || v->is_null()) return def;
    if (v->kind != json_value::BOOL) bad_model(path, std::string("'") + key + "' must be true or false");
    return v->b;
}

std::string get_str(const json_value & obj, const char * key) {
    const json_value * v = obj.get(key);
    return v && v->kind == json_value::STRING ? v->str : std::string();
}

// A token id (or a list of them, for eos_token_id) in [0, n_vocab); absent or null: none.
void get_token_ids(const std::string & path, const json_value & root, const char * key, int n_vocab, std::vector<int> & out) {
    const json_value * v = root.get(key);
    if (!v || v->is_null()) return;
    const std::string range = "0.." + std::to_string(n_vocab - 1) + " (vocab_size " + std::to_string(n_vocab) + ")";
    auto one = [&](const json_value & e) {
        if (e.kind != json_value::NUMBER || !e.is_int || e.i < 0 || e.i >= n_vocab)
            bad_model(path, std::string("'") + key + "' holds " + (e.kind == json_value::NUMBER ? num_str(e.num) : "a non-number") +
                                ": token ids must be integers in " + range);
        out.push_back(static_cast<int>(e.i));
    };
    if (v->kind == json_value::ARRAY) {
        if (v->arr.size() > 64) bad_model(path, std::string("'") + key + "' lists " + std::to_string(v->arr.size()) + " ids (at most 64)");
        for (const auto & e : v->arr) one(e);
    } else {
        one(*v);
    }
}

void read_rope_params(const std::string & path, const json_value & rp, model_config & c) {
    std::string type = get_str(rp, "rope_type");
    if (type.empty()) type = get_str(rp, "type");
    if (type.empty()) type = "default";
    if (type != "default" && type != "linear" && type != "llama3")
        bad_model(path, "unsupported rope scaling type " + file_value_for_message(type) + " (supported: default, linear, llama3)");
    c.rope_type = type;
    c.rope_theta = static_cast<float>(get_num(path, rp, "rope_theta", c.rope_theta, CONFIG_ROPE_THETA_MIN, CONFIG_ROPE_THETA_MAX, true));
    if (type == "linear" || type == "llama3")
        c.rope_factor = static_cast<float>(get_num(path, rp, "factor", 1.0, CONFIG_ROPE_FACTOR_MIN, CONFIG_ROPE_FACTOR_MAX, false));
    if (type == "llama3") {
        c.rope_low_freq_factor = static_cast<float>(get_num(path, rp, "low_freq_factor", 1.0, CONFIG_ROPE_FACTOR_MIN, CONFIG_ROPE_FACTOR_MAX, false));
        c.rope_high_freq_factor = static_cast<float>(get_num(path, rp, "high_freq_factor", 4.0, CONFIG_ROPE_FACTOR_MIN, CONFIG_ROPE_FACTOR_MAX, false));
        c.rope_original_max_pos = get_int(path, rp, "original_max_position_embeddings", false, 8192, 1, CONFIG_MAX_CONTEXT);
        if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) bad_model(path, "llama3 rope: high_freq_factor must exceed low_freq_factor");
    }
}

// a * b, or an error naming what overflowed (the ranges above keep every product far from it).
uint64_t mul(const std::string & path, uint64_t a, uint64_t b, const char * what) {
    if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b) bad_model(path, std::string(what) + " overflows 64 bits");
    return a * b;
}
uint64_t add(const std::string & path, uint64_t a, uint64_t b, const char * what) {
    if (a > std::numeric_limits<uint64_t>::max() - b) bad_model(path, std::string(what) + " overflows 64 bits");
    return a + b;
}

// The sizes the config implies, overflow-checked, and the KV cache of a full context within reach.
void check_sizes(const std::string & path, const model_config & c) {
    (void)config_weight_elements(path, c);  // throws on overflow
    const uint64_t kv_per_token = config_kv_bytes_per_token(c);
    const uint64_t kv_full = mul(path, kv_per_token, static_cast<uint64_t>(c.n_ctx_train), "the KV cache of max_position_embeddings tokens");
    if (kv_full > CONFIG_MAX_KV_BYTES)
        bad_model(path, "the KV cache of max_position_embeddings (" + std::to_string(c.n_ctx_train) + ") tokens would take " +
                            std::to_string(kv_full) + " bytes (" + std::to_string(kv_per_token) + " per token: 2 x num_hidden_layers x " +
                            "num_key_value_heads x head_dim x 4), more than the " + std::to_string(CONFIG_MAX_KV_BYTES) + "-byte limit");
    for (float f : config_rope_inv_freq(c))
        if (!std::isfinite(f) || !(f > 0.0f)) bad_model(path, "the RoPE parameters (rope_theta, rope scaling) give a non-finite frequency");
}

}  // namespace

const char * model_arch_name(model_arch a) {
    switch (a) {
        case ARCH_LLAMA: return "llama";
        case ARCH_QWEN2: return "qwen2";
        case ARCH_MISTRAL: return "mistral";
    }
    return "?";
}

uint64_t config_weight_elements(const std::string & path, const model_config & c) {
    const uint64_t H = c.n_embd, V = c.n_vocab, F = c.n_ff;
    const uint64_t q_dim = mul(path, c.n_head, c.head_dim, "num_attention_heads x head_dim");
    const uint64_t kv_dim = mul(path, c.n_head_kv, c.head_dim, "num_key_value_heads x head_dim");
    // per layer: 2 norms (H), q and o (q_dim x H), k and v (kv_dim x H), gate, up, down (F x H), biases
    uint64_t layer = 2 * H;
    layer = add(path, layer, mul(path, 2 * q_dim, H, "q_proj/o_proj sizes"), "a layer's size");
    layer = add(path, layer, mul(path, 2 * kv_dim, H, "k_proj/v_proj sizes"), "a layer's size");
    layer = add(path, layer, mul(path, 3 * F, H, "intermediate_size x hidden_size x 3"), "a layer's size");
    if (c.attention_bias) layer = add(path, layer, q_dim + 2 * kv_dim, "a layer's size");
    uint64_t total = mul(path, layer, static_cast<uint64_t>(c.n_layer), "num_hidden_layers x a layer's size");
    const uint64_t embd = mul(path, V, H, "vocab_size x hidden_size");
    total = add(path, total, mul(path, embd, c.tie_word_embeddings ? 1 : 2, "the embedding and head"), "the weights' size");
    return add(path, total, H, "the weights' size");  // the final norm
}

uint64_t config_kv_bytes_per_token(const model_config & c) {
    // the ranges bound this by 2 x 1024 x 1024 x 1024 x 4 bytes
    return uint64_t(2) * static_cast<uint64_t>(c.n_layer) * static_cast<uint64_t>(c.n_head_kv) * static_cast<uint64_t>(c.head_dim) * sizeof(float);
}

model_config config_parse(const std::string & path, const char * text, size_t len) {
    json_value root;
    try {
        json_options opt;
        opt.max_values = CONFIG_MAX_JSON_VALUES;
        root = json_parse(text, len, opt);
    } catch (const json_error & e) {
        bad_model(path, std::string("not valid JSON: ") + e.what());
    }
    if (root.kind != json_value::OBJECT) bad_model(path, "not a JSON object");
    model_config c;
    std::string mt = get_str(root, "model_type");
    if (mt.empty()) {
        const json_value * archs = root.get("architectures");
        std::string a0 = archs && archs->kind == json_value::ARRAY && !archs->arr.empty() ? archs->arr[0].str : "";
        if (a0 == "LlamaForCausalLM") mt = "llama";
        else if (a0 == "Qwen2ForCausalLM") mt = "qwen2";
        else if (a0 == "MistralForCausalLM") mt = "mistral";
        else mt = a0;
    }
    if (mt == "llama") c.arch = ARCH_LLAMA;
    else if (mt == "qwen2") c.arch = ARCH_QWEN2;
    else if (mt == "mistral") c.arch = ARCH_MISTRAL;
    else if (mt.empty()) bad_model(path, "no model_type or architectures: not a model's config.json (supported: llama, qwen2, mistral)");
    else bad_model(path, "unknown architecture " + file_value_for_message(mt) + " (supported: llama, qwen2, mistral)");

    c.n_vocab = get_int(path, root, "vocab_size", true, 0, 1, CONFIG_MAX_VOCAB);
    c.n_embd = get_int(path, root, "hidden_size", true, 0, 1, CONFIG_MAX_HIDDEN);
    c.n_ff = get_int(path, root, "intermediate_size", true, 0, 1, CONFIG_MAX_FF);
    c.n_layer = get_int(path, root, "num_hidden_layers", true, 0, 1, CONFIG_MAX_LAYERS);
    c.n_head = get_int(path, root, "num_attention_heads", true, 0, 1, CONFIG_MAX_HEADS);
    c.n_head_kv = get_int(path, root, "num_key_value_heads", false, c.n_head, 1, c.n_head);
    if (c.n_head % c.n_head_kv != 0)
        bad_model(path, "num_attention_heads (" + std::to_string(c.n_head) + ") is not a multiple of num_key_value_heads (" +
                            std::to_string(c.n_head_kv) + ")");
    if (!root.get("head_dim") || root.get("head_dim")->is_null()) {
        if (c.n_embd % c.n_head != 0)
            bad_model(path, "hidden_size (" + std::to_string(c.n_embd) + ") is not a multiple of num_attention_heads (" +
                                std::to_string(c.n_head) + ") and there is no head_dim");
        c.head_dim = c.n_embd / c.n_head;
        if (c.head_dim % 2 != 0 || c.head_dim > CONFIG_MAX_HEAD_DIM)
            bad_model(path, "hidden_size / num_attention_heads is " + std::to_string(c.head_dim) + ": the head dimension must be even and in 2.." +
                                std::to_string(CONFIG_MAX_HEAD_DIM));
    } else {
        c.head_dim = get_int(path, root, "head_dim", false, 0, 2, CONFIG_MAX_HEAD_DIM);
        if (c.head_dim % 2 != 0) bad_model(path, "'head_dim' is " + std::to_string(c.head_dim) + ": it must be even (RoPE rotates pairs)");
    }
    c.n_ctx_train = get_int(path, root, "max_position_embeddings", false, 2048, CONFIG_MIN_CONTEXT, CONFIG_MAX_CONTEXT);
    c.rms_norm_eps = static_cast<float>(get_num(path, root, "rms_norm_eps", 1e-6, 0.0, CONFIG_RMS_NORM_EPS_MAX, true));
    if (!(c.rms_norm_eps > 0.0f)) bad_model(path, "'rms_norm_eps' is too small for a float (it must be at least about 1e-38)");
    c.rope_theta = static_cast<float>(get_num(path, root, "rope_theta", 10000.0, CONFIG_ROPE_THETA_MIN, CONFIG_ROPE_THETA_MAX, true));
    c.tie_word_embeddings = get_bool(path, root, "tie_word_embeddings", false);
    c.attention_bias = c.arch == ARCH_QWEN2 || get_bool(path, root, "attention_bias", false);
    c.dtype = get_str(root, "torch_dtype");
    if (c.dtype.empty()) c.dtype = get_str(root, "dtype");
    if (const json_value * sw = root.get("slipstream_weights"); sw && !sw->is_null()) {  // a saved quantized folder (docs/engine.md)
        if (sw->kind != json_value::STRING || (sw->str != "q8_0" && sw->str != "q4_0"))
            bad_model(path, "'slipstream_weights' is " + (sw->kind == json_value::STRING ? file_value_for_message(sw->str) : std::string("not a string")) +
                                ": unknown format of a saved quantized folder (known: q8_0, q4_0)");
        c.saved_weights = sw->str;
    }
    const json_value * hidden_act = root.get("hidden_act");
    if (hidden_act && !hidden_act->is_null() && (hidden_act->kind != json_value::STRING || hidden_act->str != "silu"))
        bad_model(path, "unsupported hidden_act " + (hidden_act->kind == json_value::STRING ? file_value_for_message(hidden_act->str) : "(not a string)") +
                            " (supported: silu)");
    // transformers 4.x: rope_scaling; 5.x: rope_parameters (holds rope_theta too)
    for (const char * key : {"rope_scaling", "rope_parameters"}) {
        const json_value * rs = root.get(key);
        if (!rs || rs->is_null()) continue;
        if (rs->kind != json_value::OBJECT) bad_model(path, std::string("'") + key + "' must be an object or null");
        read_rope_params(path, *rs, c);
    }
    c.sliding_window = get_int(path, root, "sliding_window", false, 0, 0, 0x7fffffff);
    std::vector<int> bos;
    get_token_ids(path, root, "bos_token_id", c.n_vocab, bos);
    if (bos.size() > 1) bad_model(path, "'bos_token_id' must be one integer");
    c.bos_token_id = bos.empty() ? -1 : bos[0];
    get_token_ids(path, root, "eos_token_id", c.n_vocab, c.eos_token_ids);
    check_sizes(path, c);
    return c;
}

model_config config_load(const std::string & path) {
    if (!path_exists(path)) bad_model(path, "not found (a model folder holds a config.json)");
    const std::string text = read_capped_file(path, FILE_CAP_CONFIG);
    return config_parse(path, text.data(), text.size());
}

std::vector<float> config_rope_inv_freq(const model_config & c) {
    const int half = c.head_dim / 2;
    std::vector<float> inv(half);
    for (int i = 0; i < half; ++i) {
        // HF: 1 / base ** (arange(0, dim, 2).float() / dim), in float32
        float expo = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
        float f = 1.0f / std::pow(c.rope_theta, expo);
        if (c.rope_type == "linear") {
            f = f / c.rope_factor;
        } else if (c.rope_type == "llama3") {
            const double old_ctx = c.rope_original_max_pos;
            const double low_wavelen = old_ctx / c.rope_low_freq_factor;
            const double high_wavelen = old_ctx / c.rope_high_freq_factor;
            const double wavelen = 2.0 * M_PI / f;
            if (wavelen > low_wavelen) {
                f = f / c.rope_factor;
            } else if (wavelen >= high_wavelen) {
                double smooth = (old_ctx / wavelen - c.rope_low_freq_factor) / (c.rope_high_freq_factor - c.rope_low_freq_factor);
                f = static_cast<float>((1.0 - smooth) * f / c.rope_factor + smooth * f);
            }
        }
        inv[i] = f;
    }
    return inv;
}
