/*
 * model.cpp: loading a Hugging Face folder into a model (config.json, tokenizer.json's vocabulary,
 * then every tensor through the weight loader, checked against config.json) and the batched,
 * masked forward pass. Sections: load helpers, load, forward. The math (pre-norm Llama block, GQA,
 * RoPE rotate_half) is in docs/engine.md.
 */
#include "model.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/check.h"
#include "base/fault-inject.h"
#include "base/log.h"
#include "base/status.h"
#include "base/thread-pool.h"
#include "json.h"
#include "kv-cache.h"
#include "safetensors.h"
#include "tokenizer-vocab.h"
#include "weight-loader.h"

model::model() = default;
model::~model() = default;

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
    auto m = std::make_unique<model>();
    m->dir = dir;
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw engine_error(ERROR_IO, dir + ": not a directory");
    m->config = config_load(dir + "/config.json");
    const model_config & c = m->config;
    check_tokenizer_vocab(dir, c);
    weight_load_params wp;
    wp.populate = params.populate;
    wp.tile = params.tile;
    wp.abort = params.abort;
    wp.want = config_dtype(c);
    wp.want_source = "config.json says " + c.dtype;
    wp.expect_elements = config_weight_elements(dir + "/config.json", c);  // checked before anything is allocated
    wp.expect_source = dir + "/config.json";
    weight_loader ld(m->weights, dir, wp);
    const int64_t H = c.n_embd, q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    m->tok_embd = ld.matrix({"model.embed_tokens.weight"}, c.n_vocab, H);
    // tied: the head is the embedding (a copy of it in the file, if any, is the same matrix)
    if (c.tie_word_embeddings) m->output = m->tok_embd;
    else m->output = ld.matrix({"lm_head.weight"}, c.n_vocab, H);
    m->output_norm = ld.vec({"model.norm.weight"}, H);
    m->layers.resize(static_cast<size_t>(c.n_layer));
    for (int l = 0; l < c.n_layer; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        layer_weights & L = m->layers[static_cast<size_t>(l)];
        L.attn_norm = ld.vec({p + "input_layernorm.weight"}, H);
        L.ffn_norm = ld.vec({p + "post_attention_layernorm.weight"}, H);
        L.wq = ld.matrix({p + "self_attn.q_proj.weight"}, q_dim, H);
        L.wk = ld.matrix({p + "self_attn.k_proj.weight"}, kv_dim, H);
        L.wv = ld.matrix({p + "self_attn.v_proj.weight"}, kv_dim, H);
        L.wo = ld.matrix({p + "self_attn.o_proj.weight"}, H, q_dim);
        if (c.attention_bias) {
            L.bq = ld.vec({p + "self_attn.q_proj.bias"}, q_dim);
            L.bk = ld.vec({p + "self_attn.k_proj.bias"}, kv_dim);
            L.bv = ld.vec({p + "self_attn.v_proj.bias"}, kv_dim);
        }
        L.w_gate = ld.matrix({p + "mlp.gate_proj.weight"}, c.n_ff, H);
        L.w_up = ld.matrix({p + "mlp.up_proj.weight"}, c.n_ff, H);
        L.w_down = ld.matrix({p + "mlp.down_proj.weight"}, H, c.n_ff);
    }
    const st_tensor * e = ld.find({"model.embed_tokens.weight"});
    m->stored_dtype = e->dtype == ST_F32 ? "f32" : e->dtype == ST_BF16 ? "bf16" : "f16";
    ld.finish();  // the mappings go when every matrix was re-laid out or copied
    m->compute_dtype = m->tok_embd.dtype == WEIGHT_BF16 ? "bf16" : "f32";
    m->rope_inv_freq = config_rope_inv_freq(c);
    int threads = params.n_threads > 0 ? params.n_threads : static_cast<int>(std::thread::hardware_concurrency());
    m->n_threads = threads < 1 ? 1 : threads;
    m->pool = std::make_unique<thread_pool>(m->n_threads);
    ENGINE_LOG_INFO("loaded %s: %s, %d layers, H %d, %s weights (%.1f MB), %d threads, kernels %s", dir.c_str(),
                    model_arch_name(c.arch), c.n_layer, c.n_embd, m->compute_dtype.c_str(), m->weights.bytes / 1e6,
                    m->n_threads, kernel_best_path_name());
    return m;
}

void model_embed_row(const model & m, int32_t token, float * out) {
    ENGINE_ASSERT(token >= 0 && token < m.config.n_vocab);
    const int64_t H = m.config.n_embd;
    if (m.tok_embd.layout == WEIGHT_TILED32) {
        for (int64_t j = 0; j < H; ++j) out[j] = weight_at(m.tok_embd, token, j);
    } else if (m.tok_embd.dtype == WEIGHT_F32) {
        std::memcpy(out, static_cast<const float *>(m.tok_embd.data) + token * H, H * sizeof(float));
    } else {
        const uint16_t * row = static_cast<const uint16_t *>(m.tok_embd.data) + token * H;
        for (int64_t j = 0; j < H; ++j) out[j] = bf16_to_f32(row[j]);
    }
}

// ---- forward -------------------------------------------------------------------------------------

// The last layer when only k < n rows are wanted: K/V of all n rows go to the cache; attention,
// o_proj and the MLP run on the k rows, which end up compacted at the top of x: (k, H).
// x, xn: (n, H) residual stream and scratch; rope_cos/sin: (n, hd / 2).
static void forward_last_layer_rows(const model & m, const layer_weights & L, kv_cache & kv, int l, float * x, float * xn,
                                    int64_t n, const int32_t * positions, const uint8_t * mask, const int32_t * out_rows,
                                    int64_t k, const float * rope_cos, const float * rope_sin) {
    (void)positions;
    const model_config & c = m.config;
    const int64_t H = c.n_embd, F = c.n_ff, hd = c.head_dim;
    const int64_t q_dim = int64_t(c.n_head) * hd, kv_dim = int64_t(c.n_head_kv) * hd, len = kv.length;
    thread_local std::vector<float> xk, xkn, qk, attk, gk, uk;
    xk.resize(static_cast<size_t>(k * H));    // xk: (k, H) the requested rows of the residual stream
    xkn.resize(static_cast<size_t>(k * H));   // xkn: (k, H)
    qk.resize(static_cast<size_t>(k * q_dim));
    attk.resize(static_cast<size_t>(k * q_dim));
    gk.resize(static_cast<size_t>(k * F));
    uk.resize(static_cast<size_t>(k * F));
    float * kc = kv.k(l);
    float * vc = kv.v(l);
    thread_pool * pool = m.pool.get();
    rmsnorm(xn, x, L.attn_norm.data(), n, H, c.rms_norm_eps);
    const matmul_job kvj[2] = {
        {kc + len * kv_dim, kv_dim, &L.wk, L.bk.empty() ? nullptr : L.bk.data()},
        {vc + len * kv_dim, kv_dim, &L.wv, L.bv.empty() ? nullptr : L.bv.data()},
    };
    matmul_multi(kvj, 2, xn, n, pool, m.path);
    rope_apply_tables(kc + len * kv_dim, kv_dim, n, c.n_head_kv, c.head_dim, rope_cos, rope_sin);
    for (int64_t r = 0; r < k; ++r) {
        std::memcpy(xk.data() + r * H, x + int64_t(out_rows[r]) * H, H * sizeof(float));
        std::memcpy(xkn.data() + r * H, xn + int64_t(out_rows[r]) * H, H * sizeof(float));
    }
    matmul(qk.data(), q_dim, xkn.data(), k, L.wq, L.bq.empty() ? nullptr : L.bq.data(), pool, m.path);
    for (int64_t r = 0; r < k; ++r) {
        const int64_t row = out_rows[r];
        rope_apply_tables(qk.data() + r * q_dim, q_dim, 1, c.n_head, c.head_dim, rope_cos + row * (hd / 2), rope_sin + row * (hd / 2));
        // one query row: causal sees slots <= len + row; a mask row spans len + n slots
        if (mask) attention(attk.data() + r * q_dim, qk.data() + r * q_dim, kc, vc, len + n - 1, 1, c.n_head, c.n_head_kv, c.head_dim, mask + row * (len + n), pool);
        else attention(attk.data() + r * q_dim, qk.data() + r * q_dim, kc, vc, len + row, 1, c.n_head, c.n_head_kv, c.head_dim, nullptr, pool);
    }
    matmul(xkn.data(), H, attk.data(), k, L.wo, nullptr, pool, m.path);
    for (int64_t i = 0; i < k * H; ++i) xk[i] += xkn[i];
    rmsnorm(xkn.data(), xk.data(), L.ffn_norm.data(), k, H, c.rms_norm_eps);
    const matmul_job gu[2] = {{gk.data(), F, &L.w_gate, nullptr}, {uk.data(), F, &L.w_up, nullptr}};
    matmul_multi(gu, 2, xkn.data(), k, pool, m.path);
    silu_glu(gk.data(), F, uk.data(), F, k, F);
    matmul(xkn.data(), H, gk.data(), k, L.w_down, nullptr, pool, m.path);
    for (int64_t i = 0; i < k * H; ++i) x[i] = xk[i] + xkn[i];  // x's first k rows := the finished rows
}

void model_forward(const model & m, kv_cache & kv, const int32_t * tokens, int64_t n, const int32_t * positions,
                   const uint8_t * mask, const int32_t * out_rows, int64_t k, float * logits_out, float * hidden_out,
                   const std::atomic<bool> * abort) {
    const model_config & c = m.config;
    ENGINE_ASSERT(n > 0 && kv.length + n <= kv.slots());
    const int64_t H = c.n_embd, F = c.n_ff, hd = c.head_dim;
    const int64_t q_dim = int64_t(c.n_head) * hd, kv_dim = int64_t(c.n_head_kv) * hd;
    const int64_t len = kv.length;
    thread_pool * pool = m.pool.get();

    // activations, reused across calls on this thread
    thread_local std::vector<float> x_buf, xn_buf, q_buf, att_buf, g_buf, u_buf;
    thread_local std::vector<int32_t> pos_buf;
    x_buf.resize(static_cast<size_t>(n * H));    // x: (n, H) residual stream
    xn_buf.resize(static_cast<size_t>(n * H));   // xn: (n, H) normed
    q_buf.resize(static_cast<size_t>(n * q_dim));    // q: (n, n_head * hd)
    att_buf.resize(static_cast<size_t>(n * q_dim));  // att: (n, n_head * hd)
    g_buf.resize(static_cast<size_t>(n * F));    // gate: (n, F)
    u_buf.resize(static_cast<size_t>(n * F));    // up: (n, F)
    float * x = x_buf.data();
    float * xn = xn_buf.data();
    if (!positions) {
        pos_buf.resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) pos_buf[i] = static_cast<int32_t>(len + i);
        positions = pos_buf.data();
    }
    for (int64_t i = 0; i < n; ++i) {
        ENGINE_ASSERT(tokens[i] >= 0 && tokens[i] < c.n_vocab);
        model_embed_row(m, tokens[i], x + i * H);
    }
    // RoPE cos/sin once for all layers: (n, hd / 2) each
    thread_local std::vector<float> rope_cos, rope_sin;
    rope_cos.resize(static_cast<size_t>(n * hd / 2));
    rope_sin.resize(static_cast<size_t>(n * hd / 2));
    rope_tables(n, c.head_dim, positions, m.rope_inv_freq.data(), rope_cos.data(), rope_sin.data());

    // The last layer only needs its K/V for every row; the rest runs on the k requested rows
    // (a long prefill asks for one), gathered into xk: (k, H).
    const bool trim_last = k < n;
    for (int l = 0; l < c.n_layer; ++l) {
        if (abort && abort->load(std::memory_order_relaxed)) throw engine_error(ERROR_CANCELLED, "cancelled");
        if (l == c.n_layer / 2 && fault_hit("step")) throw std::runtime_error("injected fault in a forward (ENGINE_FAULT=step)");
        const layer_weights & L = m.layers[static_cast<size_t>(l)];
        float * kc = kv.k(l);  // (slots, kv_dim)
        float * vc = kv.v(l);
        if (trim_last && l == c.n_layer - 1) {
            forward_last_layer_rows(m, L, kv, l, x, xn, n, positions, mask, out_rows, k, rope_cos.data(), rope_sin.data());
            break;
        }
        // attention block
        rmsnorm(xn, x, L.attn_norm.data(), n, H, c.rms_norm_eps);
        const matmul_job qkv[3] = {
            {q_buf.data(), q_dim, &L.wq, L.bq.empty() ? nullptr : L.bq.data()},
            {kc + len * kv_dim, kv_dim, &L.wk, L.bk.empty() ? nullptr : L.bk.data()},
            {vc + len * kv_dim, kv_dim, &L.wv, L.bv.empty() ? nullptr : L.bv.data()},
        };
        matmul_multi(qkv, 3, xn, n, pool, m.path);
        rope_apply_tables(q_buf.data(), q_dim, n, c.n_head, c.head_dim, rope_cos.data(), rope_sin.data());
        rope_apply_tables(kc + len * kv_dim, kv_dim, n, c.n_head_kv, c.head_dim, rope_cos.data(), rope_sin.data());
        attention(att_buf.data(), q_buf.data(), kc, vc, len, n, c.n_head, c.n_head_kv, c.head_dim, mask, pool);
        matmul(xn, H, att_buf.data(), n, L.wo, nullptr, pool, m.path);
        for (int64_t i = 0; i < n * H; ++i) x[i] += xn[i];
        // MLP block: down(silu(gate(xn)) * up(xn))
        rmsnorm(xn, x, L.ffn_norm.data(), n, H, c.rms_norm_eps);
        const matmul_job gu[2] = {{g_buf.data(), F, &L.w_gate, nullptr}, {u_buf.data(), F, &L.w_up, nullptr}};
        matmul_multi(gu, 2, xn, n, pool, m.path);
        silu_glu(g_buf.data(), F, u_buf.data(), F, n, F);
        matmul(xn, H, g_buf.data(), n, L.w_down, nullptr, pool, m.path);
        for (int64_t i = 0; i < n * H; ++i) x[i] += xn[i];
    }

    // final norm of the requested rows, then the LM head
    thread_local std::vector<float> h_buf;
    h_buf.resize(static_cast<size_t>(k * H));  // h: (k, H)
    for (int64_t r = 0; r < k; ++r) {
        ENGINE_ASSERT(out_rows[r] >= 0 && out_rows[r] < n);
        const float * row = trim_last ? x + r * H : x + int64_t(out_rows[r]) * H;  // trimmed: x holds the k rows
        rmsnorm(h_buf.data() + r * H, row, m.output_norm.data(), 1, H, c.rms_norm_eps);
    }
    if (hidden_out) std::memcpy(hidden_out, h_buf.data(), static_cast<size_t>(k * H) * sizeof(float));
    if (logits_out && k > 0) matmul(logits_out, c.n_vocab, h_buf.data(), k, m.output, nullptr, pool, m.path);
}
