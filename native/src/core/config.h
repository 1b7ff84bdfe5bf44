/*
 * config.h: the model hyper-parameters read from a Hugging Face config.json, in both spellings:
 * transformers 4.x (torch_dtype, rope_theta, rope_scaling) and 5.x (dtype, rope_parameters).
 * Supported architectures: llama (Llama 2/3, rope type llama3 and linear), qwen2 (q/k/v biases),
 * mistral. Every field is checked against its valid range (the CONFIG_* limits below, listed in
 * docs/engine.md) and the sizes it implies are computed overflow-safe, before anything is
 * allocated. Errors throw engine_error(BAD_MODEL) naming config.json, the key and the range.
 */
#pragma once
#include <cstdint>
#include <string>
#include <vector>

// Valid ranges (inclusive). The upper limits are far above every released model (the largest:
// vocabularies of 262K, hidden 16K, 126 layers, 128 heads, head_dim 256, contexts of 10M) and keep
// every size product inside 64 bits.
constexpr int64_t CONFIG_MAX_VOCAB = int64_t(1) << 22;     // vocab_size 1..4194304
constexpr int64_t CONFIG_MAX_HIDDEN = int64_t(1) << 16;    // hidden_size 1..65536
constexpr int64_t CONFIG_MAX_FF = int64_t(1) << 18;        // intermediate_size 1..262144
constexpr int64_t CONFIG_MAX_LAYERS = 1024;                // num_hidden_layers 1..1024
constexpr int64_t CONFIG_MAX_HEADS = 1024;                 // num_attention_heads 1..1024
constexpr int64_t CONFIG_MAX_HEAD_DIM = 1024;              // head_dim 2..1024, even
// max_position_embeddings 64..16777216: the server's shortest prompt (8 tokens and the FIM
// markers) plus its default suggestion length (48 tokens) must fit.
constexpr int64_t CONFIG_MIN_CONTEXT = 64;
constexpr int64_t CONFIG_MAX_CONTEXT = int64_t(1) << 24;
constexpr double CONFIG_ROPE_THETA_MIN = 1.0;              // rope_theta in (1, 1e12]
constexpr double CONFIG_ROPE_THETA_MAX = 1e12;
constexpr double CONFIG_RMS_NORM_EPS_MAX = 1.0;            // rms_norm_eps in (0, 1]
constexpr double CONFIG_ROPE_FACTOR_MIN = 1e-3;            // rope scaling factor, low/high_freq_factor in [0.001, 1024]
constexpr double CONFIG_ROPE_FACTOR_MAX = 1024.0;
// The KV cache of a whole max_position_embeddings context (f32): at most 64 TiB of address space.
constexpr uint64_t CONFIG_MAX_KV_BYTES = uint64_t(1) << 46;
// config.json is a few hundred values; its JSON tree is capped well above that.
constexpr size_t CONFIG_MAX_JSON_VALUES = 65536;

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
    std::string saved_weights;    // slipstream_weights: "q8_0" | "q4_0" in a saved quantized folder (`slipstream quantize`), else 
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
// Reads path (a regular file of at most FILE_CAP_CONFIG bytes) and parses it.
model_config config_load(const std::string & path);
// Weight elements the config implies (embedding, head unless tied, norms, every layer's matrices
// and biases); throws engine_error(BAD_MODEL) naming path if a product overflows.
uint64_t config_weight_elements(const std::string & path, const model_config & c);
// Bytes of K and V per token over all layers (f32).
uint64_t config_kv_bytes_per_token(const model_config & c);
// inv_freq: (head_dim / 2), with the rope scaling applied (HF _compute_*_parameters).
std::vector<float> config_rope_inv_freq(const model_config & c);
