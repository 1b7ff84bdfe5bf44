/*
 * model.cpp: loading a Hugging Face folder into a model (config.json, tokenizer.json's vocabulary,
 * then every tensor through the weight loader, checked against config.json) and the batched,
 * masked forward pass, written once against the backend table (backends/backend.h): no kernel is
 * called here. Sections: load helpers, load, forward. The math (pre-norm Llama block, GQA, RoPE
 * rotate_half) is in docs/engine.md.
 */
#include "model.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/check.h"
#include "base/cpu-count.h"
#include "base/fault-inject.h"
#include "base/log.h"
#include "base/status.h"
#include "json.h"
#include "kv-cache.h"
#include "quant-file.h"
#include "safetensors.h"
#include "tokenizer-vocab.h"
#include "weight-loader.h"

model::model() = default;
model::~model() {
    if (backend && bctx) backend->ctx_free(bctx);
}

// ---- load helpers ------------------------------------------------------------------------------

namespace {

st_dtype config_dtype(const model_config & c) {
    if (c.dtype == "float32") return ST_F32;
    if (c.dtype == "bfloat16") return ST_BF16;
    if (c.dtype == "float16") return ST_F16;
    return ST_OTHER;  // absent or something else: not enforced
}

}  // namespace

// ---- load ----------------------------------------------------------------------------------------

std::unique_ptr<model> model_load(const std::string & dir, const model_load_params & params) {
    const engine_backend_i * be = params.backend ? params.backend : engine_backend_cpu();
    const std::string missing = backend_missing_ops(*be);
    if (!missing.empty())
        throw engine_error(ERROR_UNSUPPORTED, std::string("backend '") + be->name + "' cannot run models in this build yet: it lacks " + missing);
    if (!be->host_memory)
        throw engine_error(ERROR_UNSUPPORTED, std::string("backend '") + be->name +
                                                  "' keeps weights in device memory, and uploading them is not written yet");
    auto m = std::make_unique<model>();
    m->dir = dir;
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw engine_error(ERROR_IO, dir + ": not a directory");
    m->config = config_load(dir + "/config.json");
    const model_config & c = m->config;
    check_tokenizer_vocab(dir, c);
    weight_load_params wp;
    // A saved quantized folder loads in its format; asking for the other quantized format is an
    // error (re-quantizing blocks would lose accuracy twice), asking for bf16 means "as stored".
    weight_dtype saved = WEIGHT_BF16;
    if (!c.saved_weights.empty()) weight_format_parse(c.saved_weights.c_str(), &saved);
    if (weight_is_quant(saved) && weight_is_quant(params.weights) && params.weights != saved)
        throw engine_error(ERROR_INVALID_ARGUMENT, dir + ": the folder is saved quantized as " + c.saved_weights +
                                                       " (config.json slipstream_weights) but weights " + weight_dtype_name(params.weights) +
                                                       " were asked for: load it as " + c.saved_weights +
                                                       " or bf16 (as stored), or quantize the original folder to " + weight_dtype_name(params.weights));
    const weight_dtype lq = weight_is_quant(saved) ? saved : weight_is_quant(params.weights) ? params.weights : WEIGHT_BF16;  // the layers' matrices
    const weight_dtype hq = weight_is_quant(lq) ? WEIGHT_Q8_0 : WEIGHT_BF16;                  // the head and the embedding
    wp.tile = params.tile;
    wp.abort = params.abort;
    wp.want = config_dtype(c);
    wp.want_source = "config.json says " + c.dtype;
    wp.expect_elements = config_weight_elements(dir + "/config.json", c);  // checked before anything is allocated
    wp.expect_source = dir + "/config.json";
    wp.saved = saved;
    wp.saved_source = dir + "/config.json says " + QUANT_CONFIG_KEY + " " + c.saved_weights;
    weight_loader ld(m->weights, dir, wp);
    const int64_t H = c.n_embd, q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    m->tok_embd = ld.matrix({"model.embed_tokens.weight"}, c.n_vocab, H, hq);
    // tied: the head is the embedding (a copy of it in the file, if any, is the same matrix)
    if (c.tie_word_embeddings) m->output = m->tok_embd;
    else m->output = ld.matrix({"lm_head.weight"}, c.n_vocab, H, hq);
    m->output_norm = ld.vec({"model.norm.weight"}, H);
    m->layers.resize(static_cast<size_t>(c.n_layer));
    for (int l = 0; l < c.n_layer; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        layer_weights & L = m->layers[static_cast<size_t>(l)];
        L.attn_norm = ld.vec({p + "input_layernorm.weight"}, H);
        L.ffn_norm = ld.vec({p + "post_attention_layernorm.weight"}, H);
        L.wq = ld.matrix({p + "self_attn.q_proj.weight"}, q_dim, H, lq);
        L.wk = ld.matrix({p + "self_attn.k_proj.weight"}, kv_dim, H, lq);
        L.wv = ld.matrix({p + "self_attn.v_proj.weight"}, kv_dim, H, lq);
        L.wo = ld.matrix({p + "self_attn.o_proj.weight"}, H, q_dim, lq);
        if (c.attention_bias) {
            L.bq = ld.vec({p + "self_attn.q_proj.bias"}, q_dim);
            L.bk = ld.vec({p + "self_attn.k_proj.bias"}, kv_dim);
            L.bv = ld.vec({p + "self_attn.v_proj.bias"}, kv_dim);
        }
        L.w_gate = ld.matrix({p + "mlp.gate_proj.weight"}, c.n_ff, H, lq);
        L.w_up = ld.matrix({p + "mlp.up_proj.weight"}, c.n_ff, H, lq);
        L.w_down = ld.matrix({p + "mlp.down_proj.weight"}, H, c.n_ff, lq);
    }
    const st_tensor * e = ld.find({weight_is_quant(saved) ? "model.norm.weight" : "model.embed_tokens.weight"});  // a saved folder's matrices are blocks
    m->stored_dtype = e->dtype == ST_F32 ? "f32" : e->dtype == ST_BF16 ? "bf16" : "f16";
    ld.finish();  // the files' buffers go when every matrix was re-laid out or copied
    m->kv_type = params.kv_type >= 0 ? static_cast<kv_dtype>(params.kv_type) : m->stored_dtype == "f32" ? KV_F32 : KV_BF16;
    m->compute_dtype = weight_is_quant(lq) ? weight_dtype_name(lq) : m->tok_embd.dtype == WEIGHT_BF16 ? "bf16" : "f32";
    m->rope_inv_freq = config_rope_inv_freq(c);
    int threads = params.n_threads;
    if (threads <= 0) {
        // the CPUs this process may use, one per physical core, within a cgroup quota (cpu-count.h)
        const cpu_count cc = cpu_count_detect();
        threads = cc.threads;
        if (threads != cc.online)
            ENGINE_LOG_INFO("threads: %d of %d online CPUs (%d in the affinity mask, %d physical cores among them, cgroup quota %s)", threads,
                            cc.online, cc.allowed, cc.cores, cc.quota > 0 ? std::to_string(cc.quota).c_str() : "none");
    }
    m->n_threads = threads < 1 ? 1 : threads;
    m->bctx = be->ctx_create(m->n_threads);
    if (!m->bctx) throw engine_error(ERROR_OUT_OF_MEMORY, std::string("cannot create the ") + be->name + " backend's context");
    m->backend = be;
    bool cap_valid = true;
    if (const char * note = kernel_isa_cap_note(&cap_valid)) log_printf(cap_valid ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "%s", note);
    ENGINE_LOG_INFO("loaded %s: %s, %d layers, H %d, %s weights (%.1f MB), %s K/V, %d threads, backend %s", dir.c_str(),
                    model_arch_name(c.arch), c.n_layer, c.n_embd, m->compute_dtype.c_str(), m->weights.bytes / 1e6,
                    kv_dtype_name(m->kv_type), m->n_threads, be->name);
    return m;
}

// ---- forward -------------------------------------------------------------------------------------

namespace {

// The forward's activation buffers (engine_backend_i::scratch slots, per thread, reused across calls).
enum : int {
    S_X = BACKEND_SCRATCH_FORWARD,  // x: (n, H) residual stream
    S_XN,                           // xn: (n, H) normed / block output
    S_Q,                            // q: (n, n_head * hd)
    S_ATT,                          // att: (n, n_head * hd)
    S_G,                            // gate: (n, F)
    S_U,                            // up: (n, F)
    S_COS,                          // RoPE cos: (n, hd / 2)
    S_SIN,                          // RoPE sin: (n, hd / 2)
    S_H,                            // h: (k, H) final-normed requested rows
    S_LOGITS,                       // logits: (k, n_vocab), for backends whose memory is not the host's
    S_XK,                           // the trimmed last layer: xk, xkn: (k, H)
    S_XKN,
    S_QK,                           // qk, attk: (k, n_head * hd)
    S_ATTK,
    S_GK,                           // gk, uk: (k, F)
    S_UK,
    S_K,                            // k, v: (n, kv_dim) f32, before kv_write puts them in the cache
    S_V,
    S_FORWARD_END
};
static_assert(S_FORWARD_END <= BACKEND_SCRATCH_DRAFTER, "the forward's scratch slots overlap the drafter's");

float * scratch(const model & m, int slot, int64_t floats) {
    return m.backend->scratch(m.bctx, slot, static_cast<size_t>(floats) * sizeof(float));
}

const float * opt(const std::vector<float> & v) { return v.empty() ? nullptr : v.data(); }

// attention's block-table arguments for layer l: k_blocks, v_blocks, shared (kv-cache.h)
#define KV_BLOCKS(kv, l) (kv).block_k[static_cast<size_t>(l)].data(), (kv).block_v[static_cast<size_t>(l)].data(), (kv).shared

}  // namespace

// The last layer when only k < n rows are wanted: K/V of all n rows go to the cache; attention,
// o_proj and the MLP run on the k rows, which end up compacted at the top of x: (k, H).
// The rest of a layer after attention, on `rows` rows: x += att · wo, then the MLP block
// x += down(silu(gate(norm(x))) * up(norm(x))). x, xn: (rows, H) residual stream and scratch;
// att: (rows, q_dim) attention output; g, u: (rows, F) scratch.
static void attention_out_and_mlp(const model & m, const layer_weights & L, float * x, float * xn, const float * att,
                                  float * g, float * u, int64_t rows) {
    const engine_backend_i & be = *m.backend;
    engine_backend_ctx * ctx = m.bctx;
    const int64_t H = m.config.n_embd, F = m.config.n_ff;
    const matmul_job oj = {xn, H, &L.wo, nullptr};
    be.matmul(ctx, &oj, 1, att, rows);
    be.add(ctx, x, xn, rows * H);
    be.rmsnorm(ctx, xn, x, L.ffn_norm.data(), rows, H, m.config.rms_norm_eps);
    const matmul_job gu[2] = {{g, F, &L.w_gate, nullptr}, {u, F, &L.w_up, nullptr}};
    be.matmul(ctx, gu, 2, xn, rows);
    be.silu_glu(ctx, g, F, u, F, rows, F);
    const matmul_job dj = {xn, H, &L.w_down, nullptr};
    be.matmul(ctx, &dj, 1, g, rows);
    be.add(ctx, x, xn, rows * H);
}

// x, xn: (n, H) residual stream and scratch; rope_cos/sin: (n, hd / 2).
static void forward_last_layer_rows(const model & m, const layer_weights & L, kv_cache & kv, int l, float * x, float * xn,
                                    int64_t n, const uint8_t * mask, const int32_t * out_rows, int64_t k,
                                    const float * rope_cos, const float * rope_sin) {
    const engine_backend_i & be = *m.backend;
    engine_backend_ctx * ctx = m.bctx;
    const model_config & c = m.config;
    const int64_t H = c.n_embd, F = c.n_ff, hd = c.head_dim;
    const int64_t q_dim = int64_t(c.n_head) * hd, kv_dim = int64_t(c.n_head_kv) * hd, len = kv.length;
    float * xk = scratch(m, S_XK, k * H);  // xk: (k, H) the requested rows of the residual stream
    float * xkn = scratch(m, S_XKN, k * H);  // xkn: (k, H)
    float * qk = scratch(m, S_QK, k * q_dim);
    float * attk = scratch(m, S_ATTK, k * q_dim);
    float * gk = scratch(m, S_GK, k * F);
    float * uk = scratch(m, S_UK, k * F);
    void * kc = kv.k(l);  // (slots, kv_dim) of kv.dtype
    void * vc = kv.v(l);
    float * kn = scratch(m, S_K, n * kv_dim);  // kn, vn: (n, kv_dim) the batch's new K/V in f32
    float * vn = scratch(m, S_V, n * kv_dim);
    be.rmsnorm(ctx, xn, x, L.attn_norm.data(), n, H, c.rms_norm_eps);
    const matmul_job kvj[2] = {
        {kn, kv_dim, &L.wk, opt(L.bk)},
        {vn, kv_dim, &L.wv, opt(L.bv)},
    };
    be.matmul(ctx, kvj, 2, xn, n);
    be.rope(ctx, kn, kv_dim, n, c.n_head_kv, c.head_dim, rope_cos, rope_sin);
    be.kv_write(ctx, kv.row(kc, len), kv.dtype, kn, n * kv_dim);
    be.kv_write(ctx, kv.row(vc, len), kv.dtype, vn, n * kv_dim);
    be.gather_rows(ctx, xk, H, x, H, out_rows, k, H);
    be.gather_rows(ctx, xkn, H, xn, H, out_rows, k, H);
    const matmul_job qj = {qk, q_dim, &L.wq, opt(L.bq)};
    be.matmul(ctx, &qj, 1, xkn, k);
    for (int64_t r = 0; r < k; ++r) {
        const int64_t row = out_rows[r];
        be.rope(ctx, qk + r * q_dim, q_dim, 1, c.n_head, c.head_dim, rope_cos + row * (hd / 2), rope_sin + row * (hd / 2));
        // one query row: causal sees slots <= len + row; a mask row spans len + n slots
        if (mask) be.attention(ctx, attk + r * q_dim, qk + r * q_dim, kc, vc, kv.dtype, KV_BLOCKS(kv, l), len + n - 1, 1, c.n_head, c.n_head_kv, c.head_dim, mask + row * (len + n));
        else be.attention(ctx, attk + r * q_dim, qk + r * q_dim, kc, vc, kv.dtype, KV_BLOCKS(kv, l), len + row, 1, c.n_head, c.n_head_kv, c.head_dim, nullptr);
    }
    attention_out_and_mlp(m, L, xk, xkn, attk, gk, uk, k);
    be.gather_rows(ctx, x, H, xk, H, nullptr, k, H);  // x's first k rows := the finished rows
}

void model_forward(const model & m, kv_cache & kv, const int32_t * tokens, int64_t n, const int32_t * positions,
                   const uint8_t * mask, const int32_t * out_rows, int64_t k, float * logits_out, float * hidden_out,
                   const std::atomic<bool> * abort) {
    const engine_backend_i & be = *m.backend;
    engine_backend_ctx * ctx = m.bctx;
    const model_config & c = m.config;
    ENGINE_ASSERT(n > 0 && kv.length + n <= kv.slots());
    const int64_t H = c.n_embd, F = c.n_ff, hd = c.head_dim;
    const int64_t q_dim = int64_t(c.n_head) * hd, kv_dim = int64_t(c.n_head_kv) * hd;
    const int64_t len = kv.length;

    float * x = scratch(m, S_X, n * H);    // x: (n, H) residual stream
    float * xn = scratch(m, S_XN, n * H);  // xn: (n, H) normed
    float * q = scratch(m, S_Q, n * q_dim);    // q: (n, n_head * hd)
    float * att = scratch(m, S_ATT, n * q_dim);  // att: (n, n_head * hd)
    float * g = scratch(m, S_G, n * F);  // gate: (n, F)
    float * u = scratch(m, S_U, n * F);  // up: (n, F)
    float * kn = scratch(m, S_K, n * kv_dim);  // kn, vn: (n, kv_dim) the batch's new K/V in f32
    float * vn = scratch(m, S_V, n * kv_dim);
    thread_local std::vector<int32_t> pos_buf;  // host: (n)
    if (!positions) {
        pos_buf.resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) pos_buf[i] = static_cast<int32_t>(len + i);
        positions = pos_buf.data();
    }
    for (int64_t i = 0; i < n; ++i) ENGINE_ASSERT(tokens[i] >= 0 && tokens[i] < c.n_vocab);
    for (int64_t r = 0; r < k; ++r) ENGINE_ASSERT(out_rows[r] >= 0 && out_rows[r] < n);
    be.embed_rows(ctx, &m.tok_embd, tokens, n, x);
    // RoPE cos/sin once for all layers: (n, hd / 2) each
    float * rope_cos = scratch(m, S_COS, n * hd / 2);
    float * rope_sin = scratch(m, S_SIN, n * hd / 2);
    be.rope_tables(ctx, n, c.head_dim, positions, m.rope_inv_freq.data(), rope_cos, rope_sin);

    // The last layer only needs its K/V for every row; the rest runs on the k requested rows
    // (a long prefill asks for one), gathered into xk: (k, H).
    const bool trim_last = k < n;
    for (int l = 0; l < c.n_layer; ++l) {
        if (abort && abort->load(std::memory_order_relaxed)) throw engine_error(ERROR_CANCELLED, "cancelled");
        if (l == c.n_layer / 2 && fault_hit("step")) throw std::runtime_error("injected fault in a forward (ENGINE_FAULT=step)");
        const layer_weights & L = m.layers[static_cast<size_t>(l)];
        void * kc = kv.k(l);  // (slots, kv_dim) of kv.dtype
        void * vc = kv.v(l);
        if (trim_last && l == c.n_layer - 1) {
            forward_last_layer_rows(m, L, kv, l, x, xn, n, mask, out_rows, k, rope_cos, rope_sin);
            break;
        }
        // attention block
        be.rmsnorm(ctx, xn, x, L.attn_norm.data(), n, H, c.rms_norm_eps);
        const matmul_job qkv[3] = {
            {q, q_dim, &L.wq, opt(L.bq)},
            {kn, kv_dim, &L.wk, opt(L.bk)},
            {vn, kv_dim, &L.wv, opt(L.bv)},
        };
        be.matmul(ctx, qkv, 3, xn, n);
        be.rope(ctx, q, q_dim, n, c.n_head, c.head_dim, rope_cos, rope_sin);
        be.rope(ctx, kn, kv_dim, n, c.n_head_kv, c.head_dim, rope_cos, rope_sin);
        // into the cache in its dtype (bf16: rounded here, once); attention reads the batch's rows back from there
        be.kv_write(ctx, kv.row(kc, len), kv.dtype, kn, n * kv_dim);
        be.kv_write(ctx, kv.row(vc, len), kv.dtype, vn, n * kv_dim);
        be.attention(ctx, att, q, kc, vc, kv.dtype, KV_BLOCKS(kv, l), len, n, c.n_head, c.n_head_kv, c.head_dim, mask);
        attention_out_and_mlp(m, L, x, xn, att, g, u, n);
    }
    if (k <= 0) return;

    // final norm of the requested rows, then the LM head
    float * h = scratch(m, S_H, k * H);  // h: (k, H)
    if (trim_last) {
        be.rmsnorm(ctx, h, x, m.output_norm.data(), k, H, c.rms_norm_eps);  // x holds the k rows
    } else {
        be.gather_rows(ctx, h, H, x, H, out_rows, k, H);
        be.rmsnorm(ctx, h, h, m.output_norm.data(), k, H, c.rms_norm_eps);
    }
    if (hidden_out) be.buffer_download(ctx, hidden_out, h, static_cast<size_t>(k * H) * sizeof(float));
    if (logits_out) {
        // host-memory backends write the caller's buffer directly (the download is then a no-op)
        float * lg = be.host_memory ? logits_out : scratch(m, S_LOGITS, k * c.n_vocab);
        const matmul_job hj = {lg, c.n_vocab, &m.output, nullptr};
        be.matmul(ctx, &hj, 1, h, k);
        be.buffer_download(ctx, logits_out, lg, static_cast<size_t>(k * c.n_vocab) * sizeof(float));
    }
}
