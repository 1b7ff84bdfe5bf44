/*
 * config.h: the model hyper-parameters read from a Hugging Face config.json, in both spellings:
 * transformers 4.x (torch_dtype, rope_theta, rope_scaling) and 5.x (dtype, rope_parameters).
 * Supported architectures: llama (Llama 2/3, rope type llama3 and linear), qwen2 (q/k/v biases),
 * mistral. Errors throw engine_error(BAD_MODEL) naming config.json and the key.
 */
#pragma once
#include <cstdint>
#include <string>
#include <vector>

enum model_arch : int { ARCH_LLAMA = 0, ARCH_QWEN2 = 1, ARCH_MISTRAL = 2 };
const char * model_arch_name(model_arch a);

struct model_config {
    model_arch arch = ARCH_LLAMA;
    int n_vocab = 0;
    int n_embd = 0;       // H, hidden_size
    int n_ff = 0;         // intermediate_size
    int n_layer = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;     // head_dim key or hidden_size / num_attention_heads
    int n_ctx_train = 0;  // max_position_embeddings
    float rope_theta = 10000.0f;
    float rms_norm_eps = 1e-6f;
    bool tie_word_embeddings = false;
    bool attention_bias = false;  // q/k/v biases (qwen2 always; llama when attention_bias = true)
    std::string dtype;            // "float32", "bfloat16", "float16" or "" when absent
    // rope scaling
    std::string rope_type = "default";  // default | linear | llama3
    float rope_factor = 1.0f;
    float rope_low_freq_factor = 1.0f;
    float rope_high_freq_factor = 4.0f;
    int rope_original_max_pos = 8192;
    int sliding_window = 0;  // mistral; 0 = none (recorded, not applied: see docs/engine.md)
    int bos_token_id = -1;   // -1 = none
    std::vector<int> eos_token_ids;
};

// path: the config.json file (used in messages). Throws engine_error.
model_config config_parse(const std::string & path, const char * text, size_t len);
model_config config_load(const std::string & path);
// inv_freq: (head_dim / 2), with the rope scaling applied (HF _compute_*_parameters).
std::vector<float> config_rope_inv_freq(const model_config & c);
