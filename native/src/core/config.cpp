/*
 * config.cpp: config.json -> model_config, accepting the transformers 4.x and 5.x spellings, and the
 * RoPE inverse frequencies with scaling (HF modeling_rope_utils: default, linear, llama3).
 */
#include "config.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/status.h"
#include "json.h"

namespace {

int get_int(const std::string & path, const json_value & root, const char * key, bool required, int def) {
    const json_value * v = root.get(key);
    if (!v || v->is_null()) {
        if (required) bad_model(path, std::string("missing '") + key + "'");
        return def;
    }
    if (v->kind != json_value::NUMBER || !v->is_int || v->i < 0 || v->i > 0x7fffffff)
        bad_model(path, std::string("'") + key + "' must be a non-negative integer");
    return static_cast<int>(v->i);
}

double get_num(const std::string & path, const json_value & obj, const char * key, double def) {
    const json_value * v = obj.get(key);
    if (!v || v->is_null()) return def;
    if (v->kind != json_value::NUMBER) bad_model(path, std::string("'") + key + "' must be a number");
    return v->num;
}

std::string get_str(const json_value & obj, const char * key) {
    const json_value * v = obj.get(key);
    return v && v->kind == json_value::STRING ? v->str : std::string();
}

void read_rope_params(const std::string & path, const json_value & rp, model_config & c) {
    std::string type = get_str(rp, "rope_type");
    if (type.empty()) type = get_str(rp, "type");
    if (type.empty()) type = "default";
    if (type != "default" && type != "linear" && type != "llama3")
        bad_model(path, "unsupported rope scaling type '" + type + "' (supported: default, linear, llama3)");
    c.rope_type = type;
    if (rp.get("rope_theta")) c.rope_theta = static_cast<float>(get_num(path, rp, "rope_theta", c.rope_theta));
    if (type == "linear" || type == "llama3") {
        c.rope_factor = static_cast<float>(get_num(path, rp, "factor", 1.0));
        if (!(c.rope_factor > 0)) bad_model(path, "rope scaling 'factor' must be > 0");
    }
    if (type == "llama3") {
        c.rope_low_freq_factor = static_cast<float>(get_num(path, rp, "low_freq_factor", 1.0));
        c.rope_high_freq_factor = static_cast<float>(get_num(path, rp, "high_freq_factor", 4.0));
        c.rope_original_max_pos = static_cast<int>(get_num(path, rp, "original_max_position_embeddings", 8192));
        if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) bad_model(path, "llama3 rope: high_freq_factor must exceed low_freq_factor");
    }
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

model_config config_parse(const std::string & path, const char * text, size_t len) {
    json_value root;
    try {
        root = json_parse(text, len);
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
    else bad_model(path, "unknown architecture '" + mt + "' (supported: llama, qwen2, mistral)");

    c.n_vocab = get_int(path, root, "vocab_size", true, 0);
    c.n_embd = get_int(path, root, "hidden_size", true, 0);
    c.n_ff = get_int(path, root, "intermediate_size", true, 0);
    c.n_layer = get_int(path, root, "num_hidden_layers", true, 0);
    c.n_head = get_int(path, root, "num_attention_heads", true, 0);
    c.n_head_kv = get_int(path, root, "num_key_value_heads", false, c.n_head);
    if (c.n_vocab <= 0 || c.n_embd <= 0 || c.n_ff <= 0 || c.n_layer <= 0 || c.n_head <= 0 || c.n_head_kv <= 0)
        bad_model(path, "vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and num_key_value_heads must be > 0");
    c.head_dim = get_int(path, root, "head_dim", false, c.n_embd / c.n_head);
    if (c.head_dim <= 0 || c.head_dim % 2 != 0) bad_model(path, "head_dim must be a positive even number");
    if (!root.get("head_dim") && c.n_embd % c.n_head != 0) bad_model(path, "hidden_size is not a multiple of num_attention_heads");
    if (c.n_head % c.n_head_kv != 0) bad_model(path, "num_attention_heads is not a multiple of num_key_value_heads");
    c.n_ctx_train = get_int(path, root, "max_position_embeddings", false, 2048);
    if (c.n_ctx_train <= 0) bad_model(path, "max_position_embeddings must be > 0");
    c.rms_norm_eps = static_cast<float>(get_num(path, root, "rms_norm_eps", 1e-6));
    c.rope_theta = static_cast<float>(get_num(path, root, "rope_theta", 10000.0));
    const json_value * tie = root.get("tie_word_embeddings");
    c.tie_word_embeddings = tie && tie->kind == json_value::BOOL ? tie->b : false;
    const json_value * ab = root.get("attention_bias");
    c.attention_bias = c.arch == ARCH_QWEN2 || (ab && ab->kind == json_value::BOOL && ab->b);
    c.dtype = get_str(root, "torch_dtype");
    if (c.dtype.empty()) c.dtype = get_str(root, "dtype");
    const json_value * hidden_act = root.get("hidden_act");
    if (hidden_act && hidden_act->kind == json_value::STRING && hidden_act->str != "silu")
        bad_model(path, "unsupported hidden_act '" + hidden_act->str + "' (supported: silu)");
    // transformers 4.x: rope_scaling; 5.x: rope_parameters (holds rope_theta too)
    const json_value * rs = root.get("rope_scaling");
    if (rs && rs->kind == json_value::OBJECT) read_rope_params(path, *rs, c);
    const json_value * rp = root.get("rope_parameters");
    if (rp && rp->kind == json_value::OBJECT) read_rope_params(path, *rp, c);
    const json_value * sw = root.get("sliding_window");
    if (sw && sw->kind == json_value::NUMBER && sw->is_int) c.sliding_window = static_cast<int>(sw->i);
    const json_value * bos = root.get("bos_token_id");
    if (bos && bos->kind == json_value::NUMBER && bos->is_int) c.bos_token_id = static_cast<int>(bos->i);
    const json_value * eos = root.get("eos_token_id");
    if (eos && eos->kind == json_value::NUMBER && eos->is_int) c.eos_token_ids.push_back(static_cast<int>(eos->i));
    if (eos && eos->kind == json_value::ARRAY)
        for (const auto & e : eos->arr)
            if (e.kind == json_value::NUMBER && e.is_int) c.eos_token_ids.push_back(static_cast<int>(e.i));
    return c;
}

model_config config_load(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw engine_error(ERROR_BAD_MODEL, path + ": cannot open: " + std::strerror(errno));
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
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
