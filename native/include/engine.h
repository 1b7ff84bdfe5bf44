/*
 * engine.h: THE C API of the Slipstream engine: models, sessions, generations (the one decode
 * loop, stepped one round at a time), backends, logging. With engine-redrafter.h (loading ReDrafter
 * heads; hand-driven ReDrafter rounds) it is all the Node addon, the CLI and the tests use. Every
 * function is noexcept and reports failure through engine_status plus a message; objects come in
 * *_init / *_free pairs. Nothing here writes to stdout.
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
    ENGINE_STATUS_NUMERIC = 9,           // the model computed NaN or Inf logits (broken weights or config)
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
    const char * backend;        // "auto", "cpu" or "cuda" (NULL = "auto"; a backend lacking ops, cuda for now, is refused as UNSUPPORTED)
    const volatile int * abort;  // optional: load stops with CANCELLED when *abort != 0
    const char * weights;        // "bf16" (NULL: as stored), "q8_0" or "q4_0": quantize at load (docs/engine.md); else INVALID_ARGUMENT
    const char * kv;             // K/V dtype: NULL or "auto" (bf16 for bf16/f16 files, f32 for f32 ones), "f32" or "bf16"; else INVALID_ARGUMENT
} engine_model_params;

engine_model_params engine_model_default_params(void) ENGINE_NOEXCEPT;

// Loads a Hugging Face folder (config.json, *.safetensors, tokenizer.json optional). On failure
// *out is NULL and error (when error_len > 0) holds one line naming the file and tensor.
engine_status engine_model_init(const char * dir, const engine_model_params * params, engine_model ** out,
                                char * error, size_t error_len) ENGINE_NOEXCEPT;
void engine_model_free(engine_model * model) ENGINE_NOEXCEPT;

typedef struct engine_model_info {
    char architecture[16];   // "llama" | "qwen2" | "mistral"
    char stored_dtype[8];    // "f32" | "bf16" | "f16" (a saved quantized folder: of its norms; its matrices are saved_weights blocks)
    char compute_dtype[8];   // "f32" | "bf16" | "q8_0" | "q4_0"
    int n_vocab, n_embd, n_ff, n_layer, n_head, n_head_kv, head_dim, n_ctx_train;
    float rope_theta, rms_norm_eps;
    int tie_word_embeddings;
    int bos_token_id;        // -1 = none
    int n_eos;               // entries used in eos_token_ids
    int eos_token_ids[8];
    uint64_t weight_bytes;   // bytes of the weights as kept in memory
    int n_threads;
    char kernel_path[16];    // what its matmuls run: "avx512bf16" | "avx512" | "avx2" | "ref"; q8_0 / q4_0: "avx512vnni" | "avx2" | "ref"
    char saved_weights[8];   // "q8_0" | "q4_0" for a saved quantized folder (config.json slipstream_weights), else ""
    char kv_dtype[8];        // "f32" | "bf16": what the KV cache and pool blocks store (docs/engine.md "K/V dtype")
    uint64_t kv_bytes_per_token;  // 2 x n_layer x n_head_kv x head_dim x (4 or 2)
} engine_model_info;

void engine_model_get_info(const engine_model * model, engine_model_info * out) ENGINE_NOEXCEPT;

// Writes the weights of a model loaded with quantized weights ("q8_0" / "q4_0", made at load or
// read from a saved folder) to path as one safetensors file in the saved-folder layout
// (docs/engine.md, "Saved quantized folders"): the Q8_0 / Q4_0 matrices as U8 blocks, every other
// tensor of the model's folder as it was. Written to path.tmp, then renamed. Read-only on the model
// (generations may run meanwhile). INVALID_ARGUMENT when the model's weights are not quantized,
// IO_ERROR naming the file.
engine_status engine_model_save_weights(const engine_model * model, const char * path, char * error, size_t error_len) ENGINE_NOEXCEPT;

// What each token id writes, as bytes (the core deals in ids only; decoding constraints need the
// bytes). Set once after loading the tokenizer, before generations that use a required prefix;
// not concurrently with engine_generation_init on this model's sessions. n_vocab must equal the
// model's. bytes: concatenated token bytes; offsets: (n_vocab + 1), token i is
// bytes[offsets[i] .. offsets[i + 1]), offsets[0] = 0, non-decreasing; special: (n_vocab) 1 = a
// control token (never allowed under a constraint) or NULL. Tokens with no bytes are never allowed either.
engine_status engine_model_set_token_bytes(engine_model * model, const uint8_t * bytes, const uint32_t * offsets,
                                           const uint8_t * special, int n_vocab, char * error, size_t error_len) ENGINE_NOEXCEPT;

// ---- the KV block pool ---------------------------------------------------------------------
// A model's sessions share one pool of K/V blocks of 16 positions, keyed by a hash chain over
// token ids (docs/engine.md, "The KV block pool"): a generation's prefill takes the pool's longest
// resident prefix of its prompt (full blocks held and read in place, other rows copied into the
// session) and computes only the rest; after the prefill the
// session's full blocks go to the pool. Bounded by a byte budget, least recently used unheld blocks
// evicted first. Off (budget 0) until set; outputs are the same on or off, only the work differs.

typedef struct engine_kv_pool_stats {
    uint64_t bytes;         // resident blocks x block bytes
    uint64_t budget_bytes;  // 0 = off
    uint64_t block_bytes;   // one block: n_layer x 2 x 16 x n_head_kv x head_dim x (4: f32 K/V, 2: bf16)
    int64_t blocks;         // resident blocks
    int64_t held;           // of those, held: read in place by a session, or being copied
    int64_t hits;           // blocks found by prefills
    int64_t misses;         // prefills whose lookup stopped before the prompt's last full block
    int64_t inserted;       // blocks added
    int64_t evictions;      // blocks evicted for room (or by a lower budget)
    int64_t refused;        // blocks not added: the budget was full of held blocks, or smaller than one block
} engine_kv_pool_stats;

// Sets the pool's budget in bytes (0 turns it off and frees every block not being copied);
// a lower budget evicts least recently used blocks at once.
engine_status engine_model_set_kv_pool(engine_model * model, uint64_t budget_bytes) ENGINE_NOEXCEPT;
void engine_model_get_kv_pool_stats(const engine_model * model, engine_kv_pool_stats * out) ENGINE_NOEXCEPT;

// ---- sessions ------------------------------------------------------------------------------

// max_context <= 0 means n_ctx_train. The KV cache is reserved virtually and touched lazily.
// On failure *out is null and error (when given) says why, e.g. how many bytes the KV cache wanted.
engine_status engine_session_init(engine_model * model, int max_context, engine_session ** out, char * error,
                                  size_t error_len) ENGINE_NOEXCEPT;
// Frees the session; while a generation holds it, the free happens in engine_generation_free.
void engine_session_free(engine_session * session) ENGINE_NOEXCEPT;
// Message of the last failed call on this session ("" when none).
const char * engine_session_last_error(const engine_session * session) ENGINE_NOEXCEPT;
int engine_session_length(const engine_session * session) ENGINE_NOEXCEPT;        // committed tokens
// Of those, the first ones whose K/V the session reads in place from the model's KV block pool
// (held pool blocks: their bytes are the pool's, not the session's). A multiple of 16.
int engine_session_shared_length(const engine_session * session) ENGINE_NOEXCEPT;
int engine_session_max_context(const engine_session * session) ENGINE_NOEXCEPT;
const int32_t * engine_session_tokens(const engine_session * session) ENGINE_NOEXCEPT;  // (length)
// Abort flag, polled between layers and at the start of every step: set to make the running call
// return CANCELLED (a generation step: ENGINE_DONE_CANCELLED); the caller clears it (set 0) before
// the next call.
void engine_session_set_abort(engine_session * session, int abort) ENGINE_NOEXCEPT;
// The session's busy guard (the only one): acquire claims it for one call and returns BUSY while
// another call runs or a generation holds the session; release gives it back. Callers that step a
// session from worker threads (the addon) claim it around each call; generations claim it
// themselves, and while one does, forward / truncate / prefill / step return BUSY.
engine_status engine_session_acquire(engine_session * session) ENGINE_NOEXCEPT;
void engine_session_release(engine_session * session) ENGINE_NOEXCEPT;
// How many of the prompt's n >= 1 tokens a generation on this session would keep from its KV: the
// longest common prefix with the committed tokens, less one when it covers the whole prompt (the
// last prompt position is recomputed for its logits).
int engine_session_reusable_prefix(const engine_session * session, const int32_t * prompt, int n) ENGINE_NOEXCEPT;

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

// Single steps for tools and tests that drive rounds by hand (docs/redrafter.md §2.1 state); the
// decode loop is engine_generation below. prefill commits n >= 1 prompt tokens after the committed
// ones, reseeds the sampler and decides the next token g0 (returned in *token; it is emitted but
// its KV is not yet committed). Each step then commits g0 and decides the next one.
engine_status engine_session_prefill(engine_session * session, const int32_t * tokens, int n,
                                     const engine_sampling * sampling, int32_t * token) ENGINE_NOEXCEPT;
// One plain autoregressive step: out_tokens receives the tokens emitted (1 for AR), *n_out their count.
engine_status engine_session_step(engine_session * session, int32_t * out_tokens, int max_out,
                                  int * n_out) ENGINE_NOEXCEPT;

// ---- generations: the decode loop ---------------------------------------------------------------

typedef struct engine_drafter engine_drafter;        // ReDrafter heads (engine-redrafter.h loads them)
typedef struct engine_generation engine_generation;  // one generation on a session

typedef enum engine_decode_mode {
    ENGINE_DECODE_AR = 0,         // one token per step
    ENGINE_DECODE_REDRAFTER = 1,  // one ReDrafter round per step (docs/redrafter.md)
} engine_decode_mode;

typedef struct engine_generation_params {
    const int32_t * prompt;       // (n_prompt >= 1) the whole prompt; the session keeps its longest
    int n_prompt;                 //   common prefix with it (engine_session_reusable_prefix)
    engine_sampling sampling;
    int max_tokens;               // >= 1: the most tokens the generation emits
    const int32_t * stop_tokens;  // (n_stop) a decided stop token ends the generation (ENGINE_DONE_EOS)
    int n_stop;                   //   and is NOT emitted
    engine_decode_mode mode;
    const engine_drafter * drafter;  // REDRAFTER: required; must outlive the generation
    int n_beams;                  // REDRAFTER: beam width M (1..64), 0 = the backend default
    int beam_len;                 // REDRAFTER: beam length L (2..16) counting the guaranteed token, 0 = default
    const int32_t * extra_tokens; // n_extra drafts that continue the PROMPT, concatenated, with their
    const int32_t * extra_lens;   //   lengths (n_extra); REDRAFTER: verified as extra beams each round;
    int n_extra;                  //   AR: verified in a drafts round (ENGINE_STEP_DRAFTS) while they match
    const uint8_t * required_prefix;  // (n_required_prefix) the output's bytes must start with these
    int n_required_prefix;            //   (docs/engine.md, "The required prefix"); needs token bytes
    int logprobs;                 // 1: keep each emitted token's log-probability (engine_generation_step_logprobs)
    // Branches (docs/engine.md, "Branches"): NULL / 0 = one sequence with `sampling`. Else
    // n_branches in 1..ENGINE_MAX_BRANCHES samples of the prompt decoded side by side, branch b with
    // branches[b] (temperature, top_k, top_p, seed), `sampling` unused: the first step prefills once
    // and each branch picks its first token from the last prompt row; each later step is ONE forward
    // of every live branch's pending token. Branch b emits exactly the tokens a single-sequence
    // generation with branches[b] gives (bit for bit). max_tokens and the stop tokens apply per
    // branch; the required prefix applies to each. Plain decoding only: mode AR, no extra drafts, no
    // logprobs. prompt + n_branches * max_tokens must fit the session's max context. When the
    // generation ends (done, cancelled, failed or freed early) the session holds the prompt again.
    const engine_sampling * branches;  // (n_branches)
    int n_branches;
    // Lookup drafts (docs/engine.md, "Lookup drafts"): each round, the last n tokens of prompt +
    // output (n = lookup_max_ngram down to lookup_min_ngram) are looked up earlier in that text and
    // the tokens that followed each occurrence (at most lookup_max_drafts distinct drafts, each at
    // most lookup_tokens long, halved after a miss and doubled after a full hit) are verified exactly in the
    // round's forward: mode AR runs a drafts round (ENGINE_STEP_DRAFTS) when some are found, a plain
    // step otherwise; mode REDRAFTER adds them to the tree as extra beams. Outputs are those of the
    // mode without them (greedy: the same tokens; sampled: the same distribution). Not with branches.
    int lookup_tokens;            // 0 = off, else 1..63 drafted tokens per draft at most
    int lookup_min_ngram;         // 0 = default (2); 1..16, <= lookup_max_ngram
    int lookup_max_ngram;         // 0 = default (4); 1..16
    int lookup_max_drafts;        // 0 = default (1); 1..16
} engine_generation_params;

#define ENGINE_MAX_BRANCHES 16

// Greedy, AR, no stop tokens, max_tokens 1, everything else empty.
engine_generation_params engine_generation_default_params(void) ENGINE_NOEXCEPT;

typedef enum engine_done {
    ENGINE_DONE_NOT = 0,         // more steps to come
    ENGINE_DONE_EOS = 1,         // a stop token was decided (not emitted); branches: every branch ended
    ENGINE_DONE_MAX_TOKENS = 2,  // max_tokens were emitted; branches: by every branch
    ENGINE_DONE_CANCELLED = 3,   // the session's abort flag was set: this step committed (branches: emitted) nothing
} engine_done;

// Why a branch ended (engine_generation_step_ended).
typedef enum engine_branch_end {
    ENGINE_BRANCH_EOS = 1,         // it decided a stop token (not emitted)
    ENGINE_BRANCH_MAX_TOKENS = 2,  // it emitted max_tokens
    ENGINE_BRANCH_ENDED = 3,       // engine_generation_end_branch
} engine_branch_end;

typedef enum engine_step_kind {
    ENGINE_STEP_PREFILL = 0,    // the first step: prefix reuse + prefill, decides the first token
    ENGINE_STEP_AR = 1,         // one plain decoding step
    ENGINE_STEP_REDRAFTER = 2,  // one ReDrafter round
    ENGINE_STEP_DRAFTS = 3,     // no drafter: one round verifying extra / lookup drafts (one forward of g0 + drafts)
} engine_step_kind;

// One step's figures (docs/redrafter.md §4).
typedef struct engine_step_stats {
    engine_step_kind kind;
    int reused_tokens;   // PREFILL: prompt tokens whose KV the session kept
    int prompt_tokens;   // PREFILL: prompt tokens computed
    int tree_size;       // tokens the base forward verified (AR: 1; REDRAFTER, DRAFTS: packed tree nodes)
    int accepted;        // REDRAFTER, DRAFTS: drafted tokens accepted (the guaranteed token not counted)
    int extra_accepted;  // REDRAFTER, DRAFTS: of those, the ones only a caller's extra draft proposed
    int lookup_accepted; // REDRAFTER, DRAFTS: of those, the ones only a lookup draft proposed
    double draft_ms;     // REDRAFTER: beam search
    double verify_ms;    // REDRAFTER, DRAFTS: joining extra drafts, tree build, the base forward
    double accept_ms;    // REDRAFTER, DRAFTS: acceptance and the KV commit
    double step_ms;      // the whole step in the engine
} engine_step_stats;

#define ENGINE_ACCEPTED_HISTOGRAM 64
#define ENGINE_STEP_MAX_TOKENS 64  // the most tokens one step emits (a round verifying a long extra draft)

// A generation's totals, summed over its steps.
typedef struct engine_generation_stats {
    int prompt_tokens;
    int reused_tokens;
    int emitted;
    int forward_passes;      // base forwards: the prefill and every later step count one each
    int rounds;              // verification rounds: ReDrafter rounds and drafts rounds (ENGINE_STEP_DRAFTS)
    int64_t tree_nodes;      // summed over rounds (mean = tree_nodes / rounds)
    int64_t max_tree_nodes;
    int64_t extra_accepted;
    int64_t lookup_accepted; // accepted tokens only a lookup draft proposed
    int64_t accepted_histogram[ENGINE_ACCEPTED_HISTOGRAM];  // [n] = rounds accepting n drafted tokens
    double prefill_ms, decode_ms;                  // engine time of the first step, of the later ones
    double draft_ms, verify_ms, accept_ms;         // ReDrafter rounds' parts
} engine_generation_stats;

// Starts a generation: checks and copies params (prompt ids, drafter fit, extra drafts, that the
// required prefix can be written) and claims the session's busy guard until engine_generation_free
// (other calls on the session get BUSY meanwhile); clears the abort flag. No model work happens
// here and the session's tokens are untouched until the first step. On failure *out is NULL and
// error holds the message.
engine_status engine_generation_init(engine_session * session, const engine_generation_params * params,
                                     engine_generation ** out, char * error, size_t error_len) ENGINE_NOEXCEPT;
// Releases the session. A generation may be freed after any step (the session keeps what was
// committed; with branches, the prompt only), not while one of its steps runs.
void engine_generation_free(engine_generation * generation) ENGINE_NOEXCEPT;
// One step: the first keeps the resident prefix and prefills the rest of the prompt; every later
// one runs one AR step, one ReDrafter round, or one drafts round (no drafter; extra or lookup drafts). out_tokens (max_out >= 1) receives the emitted
// tokens, *n_out their count (a round drafts no deeper than max_out allows); *done says whether
// the generation ended (stop token, max_tokens, abort); stats (may be NULL) gets this step's
// figures. Failures (NUMERIC for non-finite logits, ...) end the generation: later steps are
// refused; the message is in engine_session_last_error. Returns BUSY while another step of the
// same generation runs. Steps of one generation run one after another, from any thread.
engine_status engine_generation_step(engine_generation * generation, int32_t * out_tokens, int max_out, int * n_out,
                                     engine_done * done, engine_step_stats * stats) ENGINE_NOEXCEPT;
// With params.logprobs: the log-probabilities of the tokens the last step emitted, in order (natural
// log of the token's probability under the model's distribution at temperature 1, after the decoding
// constraint's mask, whatever the sampling params: the model's confidence; docs/engine.md). Writes
// at most max to out and returns how many there are (0 without params.logprobs).
int engine_generation_step_logprobs(const engine_generation * generation, float * out, int max) ENGINE_NOEXCEPT;
// The totals so far.
void engine_generation_get_stats(const engine_generation * generation, engine_generation_stats * out) ENGINE_NOEXCEPT;
// With branches: the branch of each token the last step emitted (out: (n_out) of that step, at
// most one token per branch, branches in ascending order). Writes at most max to out and returns
// how many there are (0 without branches). A branches step needs max_out >= n_branches.
int engine_generation_step_branches(const engine_generation * generation, int32_t * out, int max) ENGINE_NOEXCEPT;
// With branches: the branches that ended at the last step, ascending (branches: (count)), and why
// (why: (count), may be NULL). Writes at most max of each and returns how many there are.
int engine_generation_step_ended(const engine_generation * generation, int32_t * branches, engine_branch_end * why,
                                 int max) ENGINE_NOEXCEPT;
// Ends branch b: from the next step the engine starts it takes no further rows (its tokens so far
// stay emitted; that step reports it ended, ENGINE_BRANCH_ENDED). May be called from any thread,
// also while a step runs; a no-op for a branch already ended. INVALID_ARGUMENT when the generation
// has no branch b.
engine_status engine_generation_end_branch(engine_generation * generation, int b) ENGINE_NOEXCEPT;

// ---- measurement ---------------------------------------------------------------------------

// Sustained DRAM read bandwidth in GB/s (10^9 B/s), reading a buffer of `bytes` (>= 256 MiB
// recommended) with n_threads threads, best of `repeats`.
double engine_bench_read_bandwidth(size_t bytes, int n_threads, int repeats) ENGINE_NOEXCEPT;

#ifdef __cplusplus
}
#endif
