/*
 * backend-cpu.cpp: the CPU backend: its probe (the SIMD level the run-time dispatch will use) and
 * every op of the table (backends/backend.h) as a call into the kernels (kernels/), which dispatch
 * to AVX-512 / AVX2 / the scalar reference. Backend memory is host memory: weights stay where the
 * weight loader put them, the KV cache is an anonymous mapping touched lazily, activations are
 * per-thread vectors. The per-model context holds the thread pool and the matmul kernel path.
 */
#include "backend-cpu.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "base/check.h"
#include "base/thread-pool.h"

struct engine_backend_ctx {
    std::unique_ptr<thread_pool> pool;
    kernel_path matmul_path = KERNEL_PATH_AUTO;
};

void backend_cpu_set_matmul_path(engine_backend_ctx * ctx, kernel_path path) { ctx->matmul_path = path; }
int backend_cpu_threads(const engine_backend_ctx * ctx) { return ctx->pool->n_threads(); }

namespace {

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

int cpu_probe(char * detail, size_t detail_len) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    const char * simd = __builtin_cpu_supports("avx512bf16") ? "avx512+bf16"
                      : __builtin_cpu_supports("avx512f")    ? "avx512"
                      : __builtin_cpu_supports("avx2")       ? "avx2"
                                                             : "scalar";
    std::snprintf(detail, detail_len, "x86-64 %s", simd);
#elif defined(__aarch64__)
    std::snprintf(detail, detail_len, "aarch64 scalar");  // the reference kernels (kernels.h, ENGINE_X86_PATHS)
#else
    std::snprintf(detail, detail_len, "scalar");
#endif
    return 1;
}

engine_backend_ctx * cpu_ctx_create(int n_threads) {
    auto * ctx = new (std::nothrow) engine_backend_ctx;
    if (!ctx) return nullptr;
    ctx->pool = std::make_unique<thread_pool>(n_threads < 1 ? 1 : n_threads);
    return ctx;
}
void cpu_ctx_free(engine_backend_ctx * ctx) { delete ctx; }

// ---- buffers --------------------------------------------------------------------------------------
void * cpu_buffer_alloc(engine_backend_ctx *, size_t bytes) {
    // reserved, not committed: pages are touched (and zero) only when first written
    void * p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}
void cpu_buffer_free(engine_backend_ctx *, void * buf, size_t bytes) {
    if (buf) ::munmap(buf, bytes);
}
void cpu_copy(engine_backend_ctx *, void * dst, const void * src, size_t bytes) {
    if (dst != src && bytes > 0) std::memcpy(dst, src, bytes);
}
float * cpu_scratch(engine_backend_ctx *, int slot, size_t bytes) {
    ENGINE_ASSERT(slot >= 0 && slot < BACKEND_SCRATCH_SLOTS);
    thread_local std::vector<float> slots[BACKEND_SCRATCH_SLOTS];
    std::vector<float> & v = slots[slot];
    const size_t floats = (bytes + sizeof(float) - 1) / sizeof(float);
    if (v.size() < floats) v.resize(floats);
    return v.data();
}

// ---- the base forward -------------------------------------------------------------------------------
void cpu_embed_rows(engine_backend_ctx *, const weight_matrix * t, const int32_t * tokens, int64_t n, float * out) {
    const int64_t H = t->cols;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t token = tokens[i];
        ENGINE_ASSERT(token >= 0 && token < t->rows);
        weight_row_f32(*t, token, out + i * H);
    }
}
void cpu_matmul(engine_backend_ctx * ctx, const matmul_job * jobs, int n_jobs, const float * x, int64_t n) {
    matmul_multi(jobs, n_jobs, x, n, ctx->pool.get(), ctx->matmul_path);
}
void cpu_rmsnorm(engine_backend_ctx * ctx, float * out, const float * x, const float * w, int64_t n, int64_t dim, float eps) {
    rmsnorm(out, x, w, n, dim, eps, ctx->pool.get());
}
void cpu_rope_tables(engine_backend_ctx *, int64_t n, int head_dim, const int32_t * positions, const float * inv_freq,
                     float * cos_out, float * sin_out) {
    rope_tables(n, head_dim, positions, inv_freq, cos_out, sin_out);
}
void cpu_rope(engine_backend_ctx *, float * x, int64_t ld, int64_t n, int n_heads, int head_dim, const float * cos_t,
              const float * sin_t) {
    rope_apply_tables(x, ld, n, n_heads, head_dim, cos_t, sin_t);
}
// K/V read through the block table: the view's pointer arrays typed (a copy of shared / 16 pointers)
template <class T>
void cpu_attention_paged(engine_backend_ctx * ctx, float * out, const float * q, const void * k_cache, const void * v_cache,
                         const void * const * k_blocks, const void * const * v_blocks, int64_t shared, int64_t kv_len, int64_t n,
                         int n_head, int n_head_kv, int head_dim, const uint8_t * mask) {
    thread_local std::vector<const T *> kb, vb;
    const int64_t nb = shared / KV_VIEW_BLOCK;
    kb.resize(static_cast<size_t>(nb));
    vb.resize(static_cast<size_t>(nb));
    for (int64_t b = 0; b < nb; ++b) {
        kb[static_cast<size_t>(b)] = static_cast<const T *>(k_blocks[b]);
        vb[static_cast<size_t>(b)] = static_cast<const T *>(v_blocks[b]);
    }
    const kv_view<T> k{static_cast<const T *>(k_cache), kb.data(), shared}, v{static_cast<const T *>(v_cache), vb.data(), shared};
    attention_paged(out, q, k, v, kv_len, n, n_head, n_head_kv, head_dim, mask, ctx->pool.get());
}
void cpu_attention(engine_backend_ctx * ctx, float * out, const float * q, const void * k_cache, const void * v_cache,
                   kv_dtype kv_type, const void * const * k_blocks, const void * const * v_blocks, int64_t shared, int64_t kv_len,
                   int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask) {
    if (shared > 0) {
        if (kv_type == KV_BF16)
            cpu_attention_paged<uint16_t>(ctx, out, q, k_cache, v_cache, k_blocks, v_blocks, shared, kv_len, n, n_head, n_head_kv,
                                          head_dim, mask);
        else
            cpu_attention_paged<float>(ctx, out, q, k_cache, v_cache, k_blocks, v_blocks, shared, kv_len, n, n_head, n_head_kv,
                                       head_dim, mask);
        return;
    }
    if (kv_type == KV_BF16)
        attention(out, q, static_cast<const uint16_t *>(k_cache), static_cast<const uint16_t *>(v_cache), kv_len, n, n_head,
                  n_head_kv, head_dim, mask, ctx->pool.get());
    else
        attention(out, q, static_cast<const float *>(k_cache), static_cast<const float *>(v_cache), kv_len, n, n_head,
                  n_head_kv, head_dim, mask, ctx->pool.get());
}
void cpu_silu_glu(engine_backend_ctx * ctx, float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff) {
    silu_glu(gate, ld_gate, up, ld_up, n, ff, ctx->pool.get());
}
void cpu_add(engine_backend_ctx *, float * y, const float * x, int64_t count) {
    for (int64_t i = 0; i < count; ++i) y[i] += x[i];
}
void cpu_gather_rows(engine_backend_ctx *, float * dst, int64_t ld_dst, const float * src, int64_t ld_src, const int32_t * rows,
                     int64_t k, int64_t width) {
    for (int64_t r = 0; r < k; ++r)
        std::memcpy(dst + r * ld_dst, src + (rows ? int64_t(rows[r]) : r) * ld_src, static_cast<size_t>(width) * sizeof(float));
}

// ---- the drafter step, beam search ---------------------------------------------------------------------
void cpu_drafter_state(engine_backend_ctx *, float * state, const float * wx, const float * us, int64_t count, int rnn) {
    if (rnn) {
        for (int64_t i = 0; i < count; ++i) state[i] = silu(wx[i] + us[i]);
    } else {
        for (int64_t i = 0; i < count; ++i) state[i] += wx[i];
    }
}
void cpu_silu_residual(engine_backend_ctx *, float * h, const float * h2, int64_t count) {
    for (int64_t i = 0; i < count; ++i) h[i] += silu(h2[i]);
}
void cpu_topk_logprobs(engine_backend_ctx *, float * logits, int64_t rows, int n_vocab, int top_k, float * masked_out) {
    thread_local std::vector<float> heap;
    for (int64_t r = 0; r < rows; ++r) masked_out[r] = topk_logprobs_row(logits + r * n_vocab, n_vocab, top_k, heap);
}

// ---- the KV cache -------------------------------------------------------------------------------------
void cpu_kv_write(engine_backend_ctx *, void * dst, kv_dtype kv_type, const float * src, int64_t count) {
    if (kv_type == KV_BF16) convert_f32_to_bf16(static_cast<uint16_t *>(dst), src, count);
    else std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(float));
}
void cpu_kv_compact(engine_backend_ctx *, void * kv, kv_dtype kv_type, int n_layer, int64_t slots, int64_t kv_dim,
                    int64_t length, const int32_t * rows, int64_t k) {
    const size_t row_bytes = static_cast<size_t>(kv_dim) * kv_dtype_bytes(kv_type);  // one slot of one layer's K or V
    char * base = static_cast<char *>(kv);
    for (int64_t i = 0; i < k; ++i) {
        if (rows[i] == i) continue;
        for (int l = 0; l < n_layer; ++l) {
            char * K = base + (int64_t(l) * 2 + 0) * slots * row_bytes;
            char * V = base + (int64_t(l) * 2 + 1) * slots * row_bytes;
            std::memmove(K + (length + i) * row_bytes, K + (length + rows[i]) * row_bytes, row_bytes);
            std::memmove(V + (length + i) * row_bytes, V + (length + rows[i]) * row_bytes, row_bytes);
        }
    }
}

engine_backend_i make_table() {
    engine_backend_i t{};
    t.api_version = ENGINE_BACKEND_API_VERSION;
    t.name = "cpu";
    t.probe = cpu_probe;
    t.host_memory = 1;
    t.ctx_create = cpu_ctx_create;
    t.ctx_free = cpu_ctx_free;
    t.buffer_alloc = cpu_buffer_alloc;
    t.buffer_free = cpu_buffer_free;
    t.buffer_upload = cpu_copy;
    t.buffer_download = cpu_copy;
    t.scratch = cpu_scratch;
    t.embed_rows = cpu_embed_rows;
    t.matmul = cpu_matmul;
    t.rmsnorm = cpu_rmsnorm;
    t.rope_tables = cpu_rope_tables;
    t.rope = cpu_rope;
    t.attention = cpu_attention;
    t.silu_glu = cpu_silu_glu;
    t.add = cpu_add;
    t.gather_rows = cpu_gather_rows;
    t.drafter_state = cpu_drafter_state;
    t.silu_residual = cpu_silu_residual;
    t.topk_logprobs = cpu_topk_logprobs;
    t.kv_write = cpu_kv_write;
    t.kv_compact = cpu_kv_compact;
    return t;
}
}  // namespace

const engine_backend_i * engine_backend_cpu(void) {
    static const engine_backend_i table = make_table();  // built on first use, whatever the static init order
    return &table;
}
