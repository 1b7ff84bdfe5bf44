/*
 * engine.h: THE C API of the Slipstream engine: models, sessions, backends, logging. With
 * engine-redrafter.h (the ReDrafter functions, built on this header) it is all the Node addon, the
 * CLI and the tests use. Every function is noexcept and reports failure through engine_status plus
 * a message; objects come in *_init / *_free pairs. Nothing here writes to stdout.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define ENGINE_NOEXCEPT noexcept
#else
#define ENGINE_NOEXCEPT
#endif

typedef enum engine_status {
    ENGINE_STATUS_OK = 0,
    ENGINE_STATUS_INVALID_ARGUMENT = 1,  // a caller passed something out of range
    ENGINE_STATUS_IO_ERROR = 2,          // a file could not be opened, mapped or read
    ENGINE_STATUS_BAD_MODEL = 3,         // a model/drafter folder is malformed or inconsistent
    ENGINE_STATUS_CANCELLED = 4,         // the abort flag was set
    ENGINE_STATUS_BUSY = 5,              // the object is already running a step
    ENGINE_STATUS_OUT_OF_MEMORY = 6,
    ENGINE_STATUS_UNSUPPORTED = 7,       // valid request this build or backend cannot serve
    ENGINE_STATUS_INTERNAL = 8,          // a bug: an exception escaped the core
} engine_status;

// Stable string for a status ("ENGINE_OK", "ENGINE_BAD_MODEL", ...): the code EngineError carries in JS.
const char * engine_status_code(engine_status status) ENGINE_NOEXCEPT;

// ---- backends ------------------------------------------------------------------------------

typedef struct engine_backend_report {
    char name[16];      // "cpu", "cuda"
    int  available;     // 1 when usable in this process
    char detail[256];   // device description when available; the reason when not
                        // ("not built", "module failed to load: ...", "no device: ...", "API version mismatch: ...")
} engine_backend_report;

// Fills up to max_reports entries, returns how many backends exist (cpu is always first).
// The CUDA module is looked up and loaded once, on the first call.
int engine_backends(engine_backend_report * reports, int max_reports) ENGINE_NOEXCEPT;

// ---- logging -------------------------------------------------------------------------------

typedef enum engine_log_level {
    ENGINE_LOG_DEBUG = 0,
    ENGINE_LOG_INFO = 1,
    ENGINE_LOG_WARN = 2,
    ENGINE_LOG_ERROR = 3,
} engine_log_level;

// A sink receives each complete line (no trailing newline). The default sink writes to stderr,
// never stdout: stdout carries the JSON-RPC stream. Pass NULL to restore the default.
typedef void (*engine_log_sink)(engine_log_level level, const char * line, void * user_data);
void engine_set_log_sink(engine_log_sink sink, void * user_data) ENGINE_NOEXCEPT;
void engine_set_log_level(engine_log_level min_level) ENGINE_NOEXCEPT;

// ---- models --------------------------------------------------------------------------------

typedef struct engine_model engine_model;      // a loaded model folder (its weights and thread pool)
typedef struct engine_session engine_session;  // one sequence: KV cache + committed tokens

typedef struct engine_model_params {
    int n_threads;               // 0 = all hardware threads
    const char * backend;        // "auto", "cpu" or "cuda" (NULL = "auto"; cuda is refused as UNSUPPORTED for now)
    const volatile int * abort;  // optional: load stops with CANCELLED when *abort != 0
} engine_model_params;

engine_model_params engine_model_default_params(void) ENGINE_NOEXCEPT;

// Loads a Hugging Face folder (config.json, *.safetensors, tokenizer.json optional). On failure
// *out is NULL and error (when error_len > 0) holds one line naming the file and tensor.
engine_status engine_model_init(const char * dir, const engine_model_params * params, engine_model ** out,
                                char * error, size_t error_len) ENGINE_NOEXCEPT;
void engine_model_free(engine_model * model) ENGINE_NOEXCEPT;

typedef struct engine_model_info {
    char architecture[16];   // "llama" | "qwen2" | "mistral"
    char stored_dtype[8];    // "f32" | "bf16" | "f16"
    char compute_dtype[8];   // "f32" | "bf16"
    int n_vocab, n_embd, n_ff, n_layer, n_head, n_head_kv, head_dim, n_ctx_train;
    float rope_theta, rms_norm_eps;
    int tie_word_embeddings;
    int bos_token_id;        // -1 = none
    int n_eos;               // entries used in eos_token_ids
    int eos_token_ids[8];
    uint64_t weight_bytes;   // bytes of the weights as kept in memory
    int n_threads;
    char kernel_path[16];    // "avx512bf16" | "avx512" | "avx2" | "ref"
} engine_model_info;

void engine_model_get_info(const engine_model * model, engine_model_info * out) ENGINE_NOEXCEPT;

// ---- sessions ------------------------------------------------------------------------------

// max_context <= 0 means n_ctx_train. The KV cache is reserved virtually and touched lazily.
engine_status engine_session_init(engine_model * model, int max_context, engine_session ** out) ENGINE_NOEXCEPT;
void engine_session_free(engine_session * session) ENGINE_NOEXCEPT;
// Message of the last failed call on this session ("" when none).
const char * engine_session_last_error(const engine_session * session) ENGINE_NOEXCEPT;
int engine_session_length(const engine_session * session) ENGINE_NOEXCEPT;        // committed tokens
int engine_session_max_context(const engine_session * session) ENGINE_NOEXCEPT;
const int32_t * engine_session_tokens(const engine_session * session) ENGINE_NOEXCEPT;  // (length)
// Abort flag, polled between layers and between steps: set to make the running call return
// CANCELLED; the caller clears it (set 0) before the next call.
void engine_session_set_abort(engine_session * session, int abort) ENGINE_NOEXCEPT;
// Busy guard for callers that step a session from worker threads: acquire returns BUSY when a call
// is already running.
engine_status engine_session_acquire(engine_session * session) ENGINE_NOEXCEPT;
void engine_session_release(engine_session * session) ENGINE_NOEXCEPT;

// Forward of n tokens appended after the committed ones; commits all n (length += n).
// positions (n) or NULL = length..length+n-1; mask (n, length + n) row-major 1 = may attend, or NULL = causal;
// out_rows (n_out) or NULL = [n-1] (then n_out must be 1); logits (n_out, n_vocab) or NULL;
// hidden (n_out, n_embd) post-final-norm or NULL.
engine_status engine_session_forward(engine_session * session, const int32_t * tokens, int n,
                                     const int32_t * positions, const uint8_t * mask, const int32_t * out_rows,
                                     int n_out, float * logits, float * hidden) ENGINE_NOEXCEPT;
// Drops committed tokens past length (0 <= length <= current length).
engine_status engine_session_truncate(engine_session * session, int length) ENGINE_NOEXCEPT;

typedef struct engine_sampling {
    float temperature;  // 0 = greedy
    int top_k;          // 0 = off
    float top_p;        // 1 = off
    uint64_t seed;
} engine_sampling;

// Generation in steps (docs/redrafter.md §2.1 state): prefill commits n >= 1 prompt tokens after the
// committed ones, reseeds the sampler and decides the next token g0 (returned in *token; it is
// emitted but its KV is not yet committed). Each step then commits g0 and decides the next one.
engine_status engine_session_prefill(engine_session * session, const int32_t * tokens, int n,
                                     const engine_sampling * sampling, int32_t * token) ENGINE_NOEXCEPT;
// One plain autoregressive step: out_tokens receives the tokens emitted (1 for AR), *n_out their count.
engine_status engine_session_step(engine_session * session, int32_t * out_tokens, int max_out,
                                  int * n_out) ENGINE_NOEXCEPT;
// Convenience for the CLI and tests: prefill + steps until max_tokens or a stop token.
// out_tokens (max_tokens) gets the generated tokens (stop token included), *n_out their count.
engine_status engine_session_generate(engine_session * session, const int32_t * prompt, int n_prompt,
                                      const engine_sampling * sampling, int max_tokens, const int32_t * stop_tokens,
                                      int n_stop, int32_t * out_tokens, int * n_out) ENGINE_NOEXCEPT;

// ---- measurement ---------------------------------------------------------------------------

// Sustained DRAM read bandwidth in GB/s (10^9 B/s), reading a buffer of `bytes` (>= 256 MiB
// recommended) with n_threads threads, best of `repeats`.
double engine_bench_read_bandwidth(size_t bytes, int n_threads, int repeats) ENGINE_NOEXCEPT;

#ifdef __cplusplus
}
#endif
