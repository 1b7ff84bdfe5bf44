/*
 * backend.h: the backend interface (a C-style table of function pointers, as in ggml): the buffers a
 * model's weights, KV cache and activations live in, and the ops the forward passes (base model in
 * core/model.cpp, drafter in redrafter/beam-search.cpp) are written against, once, for every backend.
 * The CPU backend is linked in (backends/cpu); the CUDA backend lives in a separately built module
 * (engine-cuda.so) that exports ENGINE_BACKEND_ENTRY and is loaded with dlopen, so the engine always
 * starts without CUDA. A backend may leave ops null while it is being written: backend_missing_ops
 * names them and model_load refuses such a backend (ERROR_UNSUPPORTED) before any weight is read.
 * Bump ENGINE_BACKEND_API_VERSION whenever this struct changes: the registry refuses a module
 * built against another version instead of calling through a mismatched table.
 *
 * Memory: "backend memory" is what buffer_alloc returns (for the CPU, host_memory = 1: ordinary host
 * memory, so weights are used in place where the weight loader put them). Every float* / weight
 * argument of an op is backend memory; the int32 / uint8 index arguments (tokens, positions, rows,
 * mask) are HOST memory, copied by the backend when it needs them elsewhere. Shapes are row-major,
 * (rows, cols). Ops run in call order on the caller's thread (the CPU may fan out to its pool).
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"  // weight_matrix (dtype, layout: WEIGHT_ROWS / WEIGHT_TILED32), matmul_job, kv_dtype

#define ENGINE_BACKEND_API_VERSION 3
#define ENGINE_BACKEND_ENTRY "engine_backend_entry"

// A backend's per-model state (the CPU: its thread pool and kernel path), made by ctx_create.
struct engine_backend_ctx;

struct engine_backend_i {
    uint32_t api_version;      // == ENGINE_BACKEND_API_VERSION of the module's build
    const char * name;         // "cpu", "cuda"
    // Probes the hardware. Returns a score > 0 when usable (higher is preferred) and writes a device
    // description to detail; returns 0 and writes the reason to detail when not usable.
    int (*probe)(char * detail, size_t detail_len);
    // 1: backend memory is host memory (weights from the loader and host arrays are used in place,
    // upload / download are copies between host buffers).
    int host_memory;

    // ---- context ---------------------------------------------------------------------------------
    // One per model. n_threads >= 1 (the CPU's pool size, the caller included). Null on failure.
    engine_backend_ctx * (*ctx_create)(int n_threads);
    void (*ctx_free)(engine_backend_ctx * ctx);

    // ---- buffers (weights, KV cache) -------------------------------------------------------------
    // bytes of backend memory, zero-filled (the CPU reserves address space lazily: untouched pages
    // cost nothing); null when it cannot be had.
    void * (*buffer_alloc)(engine_backend_ctx * ctx, size_t bytes);
    void (*buffer_free)(engine_backend_ctx * ctx, void * buf, size_t bytes);
    // dst (backend) := src (host), bytes; dst (host) := src (backend), bytes. Same pointer: nothing.
    void (*buffer_upload)(engine_backend_ctx * ctx, void * dst, const void * src, size_t bytes);
    void (*buffer_download)(engine_backend_ctx * ctx, void * dst, const void * src, size_t bytes);
    // A per-thread activation buffer of at least `bytes`, numbered `slot` (0..BACKEND_SCRATCH_SLOTS-1):
    // valid until the same thread asks for the same slot again. Contents are undefined.
    float * (*scratch)(engine_backend_ctx * ctx, int slot, size_t bytes);

    // ---- ops: the base forward ---------------------------------------------------------------------
    // out: (n, table.cols) f32 rows of the table (tok_embd: (n_vocab, H), any dtype and layout);
    // tokens: (n) host, each in [0, table.rows).
    void (*embed_rows)(engine_backend_ctx * ctx, const weight_matrix * table, const int32_t * tokens, int64_t n, float * out);
    // For each job j: y_j: (n, w_j.rows) with row stride ldy_j := x W_j^T + bias_j; x: (n, w_j.cols)
    // shared by the jobs (q/k/v, gate/up run as one dispatch); bias_j: (w_j.rows) or null. The
    // weight layout (ROWS, TILED32, TILED4X16) is the backend's choice at load time (weight_preferred_layout).
    void (*matmul)(engine_backend_ctx * ctx, const matmul_job * jobs, int n_jobs, const float * x, int64_t n);
    // out, x: (n, dim); weight: (dim). out = x / sqrt(mean(x^2) + eps) * weight. out may alias x.
    void (*rmsnorm)(engine_backend_ctx * ctx, float * out, const float * x, const float * weight, int64_t n, int64_t dim, float eps);
    // RoPE tables for n positions (host, (n)); inv_freq: (head_dim / 2); cos_out, sin_out: (n, head_dim / 2).
    void (*rope_tables)(engine_backend_ctx * ctx, int64_t n, int head_dim, const int32_t * positions, const float * inv_freq,
                        float * cos_out, float * sin_out);
    // Rotates x: (n, n_heads * head_dim), row stride ld, in place (HF rotate_half: pairs i, i + head_dim / 2)
    // with cos_t, sin_t: (n, head_dim / 2).
    void (*rope)(engine_backend_ctx * ctx, float * x, int64_t ld, int64_t n, int n_heads, int head_dim, const float * cos_t,
                 const float * sin_t);
    // Masked attention of n query rows against the KV cache of one layer, the batch's own K/V already
    // at slots [kv_len, kv_len + n). One op for prefill (mask null: causal, row i sees slots <= kv_len + i),
    // decode (n = 1) and tree verification (mask (n, kv_len + n) host, 1 = may attend).
    // q, out: (n, n_head * head_dim); k_cache, v_cache: (slots, n_head_kv * head_dim) of kv_type (f32,
    // or bf16 widened to f32 as read; f32 accumulation). Scale 1/sqrt(head_dim); a row that may
    // attend to nothing gets zeros. shared > 0 (a multiple of 16): slots [0, shared) are read from
    // k_blocks / v_blocks instead ((shared / 16) pointers to 16 rows each: pool blocks a session
    // holds in place, kernels.h kv_view), the rest from k_cache / v_cache.
    void (*attention)(engine_backend_ctx * ctx, float * out, const float * q, const void * k_cache, const void * v_cache,
                      kv_dtype kv_type, const void * const * k_blocks, const void * const * v_blocks, int64_t shared,
                      int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask);
    // gate: (n, ff) row stride ld_gate := silu(gate) * up; up: (n, ff) row stride ld_up.
    void (*silu_glu)(engine_backend_ctx * ctx, float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff);
    // y: (count) += x: (count) (the residual stream).
    void (*add)(engine_backend_ctx * ctx, float * y, const float * x, int64_t count);
    // dst: (k, width), row stride ld_dst: row r := src row rows[r] (src row stride ld_src); rows: (k)
    // host, or null for 0..k-1 (a strided copy, e.g. into one half of a concatenation).
    void (*gather_rows)(engine_backend_ctx * ctx, float * dst, int64_t ld_dst, const float * src, int64_t ld_src,
                        const int32_t * rows, int64_t k, int64_t width);

    // ---- ops: the drafter step (docs/redrafter.md §1.3-1.4) ---------------------------------------
    // The recurrent state update, elementwise over state: (count): rnn: state := SiLU(wx + us)
    // (wx = W e, us = U s + b_U, each (count)); !rnn: state += wx (the embedding itself).
    void (*drafter_state)(engine_backend_ctx * ctx, float * state, const float * wx, const float * us, int64_t count, int rnn);
    // A residual block of the drafter head: h: (count) += SiLU(h2: (count)).
    void (*silu_residual)(engine_backend_ctx * ctx, float * h, const float * h2, int64_t count);
    // ---- ops: beam search (§1.5): top-k masking + log-softmax of each row, in place -------------
    // logits: (rows, n_vocab): x -= max; x[x < k-th largest] := -50000; x := log_softmax(x).
    // masked_out: (rows) host: the value every masked entry of the row ends at, NaN when none was.
    void (*topk_logprobs)(engine_backend_ctx * ctx, float * logits, int64_t rows, int n_vocab, int top_k, float * masked_out);

    // ---- ops: the KV cache -----------------------------------------------------------------------
    // Writes K or V rows into the cache: dst: (count) elements of kv_type := src: (count) f32
    // (bf16: rounded to nearest even, once; f32: copied).
    void (*kv_write)(engine_backend_ctx * ctx, void * dst, kv_dtype kv_type, const float * src, int64_t count);
    // Accepted-path compaction (docs/redrafter.md §2.9). kv: (n_layer, 2 (k, v), slots, kv_dim) of
    // kv_type; rows: (k) host, increasing, rows[i] >= i: slot length + i := slot length + rows[i] in
    // every layer's K and V, in order (no RoPE re-rotation).
    void (*kv_compact)(engine_backend_ctx * ctx, void * kv, kv_dtype kv_type, int n_layer, int64_t slots, int64_t kv_dim,
                       int64_t length, const int32_t * rows, int64_t k);
};

// Activation buffers a thread may hold at once (engine_backend_i::scratch): the base forward uses
// slots [BACKEND_SCRATCH_FORWARD, +18), the drafter step [BACKEND_SCRATCH_DRAFTER, +8).
constexpr int BACKEND_SCRATCH_SLOTS = 26;
constexpr int BACKEND_SCRATCH_FORWARD = 0;
constexpr int BACKEND_SCRATCH_DRAFTER = 18;

// Every member a backend must set for a model to load on it, in table order.
#define ENGINE_BACKEND_REQUIRED_OPS(X)                                                                    \
    X(ctx_create) X(ctx_free) X(buffer_alloc) X(buffer_free) X(buffer_upload) X(buffer_download) X(scratch) \
    X(embed_rows) X(matmul) X(rmsnorm) X(rope_tables) X(rope) X(attention) X(silu_glu) X(add) X(gather_rows) \
    X(drafter_state) X(silu_residual) X(topk_logprobs) X(kv_write) X(kv_compact)

// The names of the required members the table leaves null ("" when it is complete), comma-separated.
std::string backend_missing_ops(const engine_backend_i & b);

// Signature of the module entry point named ENGINE_BACKEND_ENTRY.
typedef const engine_backend_i * (*engine_backend_entry_fn)(void);

// The CPU backend's table (always present).
const engine_backend_i * engine_backend_cpu(void);

// One backend as the registry found it (backend-registry.cpp).
struct backend_entry {
    std::string name;                          // "cpu", "cuda"
    const engine_backend_i * iface = nullptr;  // null when unavailable
    int score = 0;                             // the probe's score when available (higher is preferred)
    std::string detail;                        // the device when available; why not when unavailable
};

// Every backend this process knows, cpu first. Discovered (the CUDA module looked up, loaded and
// probed) once, on the first call; later calls return the same list.
const std::vector<backend_entry> & backend_registry();

// The backend a model runs on for a request ("auto", "cpu", "cuda"; null = "auto"). auto: the
// highest-scoring available backend whose table is complete (so the CPU until CUDA has its ops).
// A named backend that is unavailable or incomplete throws engine_error(ERROR_UNSUPPORTED) saying
// why (the probe's detail, or the null ops); an unknown name throws ERROR_INVALID_ARGUMENT.
const engine_backend_i * backend_select(const char * name);
