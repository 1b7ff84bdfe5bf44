/*
 * model.h: a loaded Llama-family model (llama, qwen2, mistral) and its batched, masked forward.
 * A model runs on one backend (backends/backend.h), chosen at load: it holds the backend's table and
 * its per-model context, and the forward calls nothing but that table, so the one forward serves
 * every backend. Weights come through weight-loader.h (tiled copies where this CPU's matmul
 * prefers them: TILED32, TILED4X16; else as stored, in the weight arena). model_forward computes n tokens at given positions
 * against the KV cache plus the batch itself, writes their K/V as scratch (kv.length does not move)
 * and returns logits / post-final-norm hidden states for the rows asked for. See docs/engine.md.
 */
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "config.h"
#include "weight-loader.h"

struct kv_cache;

struct layer_weights {
    std::vector<float> attn_norm;  // (H)
    std::vector<float> ffn_norm;   // (H)
    weight_matrix wq;              // (n_head * head_dim, H)
    weight_matrix wk;              // (n_head_kv * head_dim, H)
    weight_matrix wv;              // (n_head_kv * head_dim, H)
    weight_matrix wo;              // (H, n_head * head_dim)
    std::vector<float> bq, bk, bv; // (rows) or empty
    weight_matrix w_gate;          // (n_ff, H)
    weight_matrix w_up;            // (n_ff, H)
    weight_matrix w_down;          // (H, n_ff)
};

struct model {
    std::string dir;
    model_config config;
    std::string stored_dtype;   // "f32" | "bf16" | "f16" (of the matrices)
    std::string compute_dtype;  // "f32" | "bf16" | "q8_0" | "q4_0" (the layers' matrices as kept in memory)
    // What the KV cache and the pool's blocks store: KV_BF16 when the stored matrices are bf16 or
    // f16 (quantized copies of them included), KV_F32 when f32 (docs/engine.md "K/V dtype").
    kv_dtype kv_type = KV_F32;
    weight_matrix tok_embd;     // (n_vocab, H)
    weight_matrix output;       // (n_vocab, H): lm_head, or tok_embd when tied
    std::vector<float> output_norm;  // (H)
    std::vector<layer_weights> layers;
    std::vector<float> rope_inv_freq;  // (head_dim / 2)
    int n_threads = 1;

    weight_store weights;  // what the matrices above point into; weights.bytes: all weights as kept in memory
    const engine_backend_i * backend = nullptr;  // the table every op of the forward goes through
    engine_backend_ctx * bctx = nullptr;         // its per-model context (owned; the CPU: the thread pool)

    model();
    ~model();
    model(const model &) = delete;
    model & operator=(const model &) = delete;
};

struct model_load_params {
    int n_threads = 0;  // 0 = hardware concurrency
    bool tile = true;      // re-lay out matrices in the layout this CPU's kernels prefer (weight_preferred_layout)
    const volatile int * abort = nullptr;  // the C API's flag (another thread sets it): checked before each tensor
    const engine_backend_i * backend = nullptr;  // null = the CPU backend
    // WEIGHT_Q8_0 / WEIGHT_Q4_0: quantize the matrices at load (the layers to this format; the
    // output head, and the embedding, to Q8_0: docs/engine.md "Quantized weights"); else as stored.
    weight_dtype weights = WEIGHT_BF16;
    // The K/V dtype: -1 = from the stored dtype (model::kv_type above); KV_F32 / KV_BF16 to force one
    // (tests comparing the two, engine_model_params.kv).
    int kv_type = -1;
};

// Throws engine_error naming the file and tensor on any inconsistency; nothing leaks. A backend
// whose table lacks a required op, or that needs weights uploaded to device memory (not written
// yet), is refused first with engine_error(ERROR_UNSUPPORTED) naming what it lacks.
std::unique_ptr<model> model_load(const std::string & dir, const model_load_params & params);

// The batched forward.
// tokens: (n); positions: (n) RoPE positions or null for kv.length + i;
// mask: (n, kv.length + n) row-major, 1 = may attend, or null for causal;
// out_rows: (k) row indices in [0, n); logits_out: (k, n_vocab) or null;
// hidden_out: (k, H) post-final-norm hidden states or null.
// Writes K/V of the n tokens to slots [kv.length, kv.length + n) (scratch; in kv.dtype, rounded
// once as written, and attention reads the batch's own rows from there too); requires
// kv.length + n <= kv.slots(). Checks *abort between layers and throws engine_error(CANCELLED).
void model_forward(const model & m, kv_cache & kv, const int32_t * tokens, int64_t n, const int32_t * positions,
                   const uint8_t * mask, const int32_t * out_rows, int64_t k, float * logits_out,
                   float * hidden_out, const std::atomic<bool> * abort);
