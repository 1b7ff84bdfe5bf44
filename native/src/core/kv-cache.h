/*
 * kv-cache.h: the per-session K/V cache. Slots [0, length) hold committed tokens; a forward writes
 * its n tokens at [length, length + n) as *scratch* and never moves length by itself. The caller
 * then commits all (kv_commit), a chosen subset in order (kv_commit_rows: copies scratch slots to
 * [length, length + k), no RoPE re-rotation, see docs/redrafter.md §2.9) or nothing.
 * Storage is backend memory (the model's backend allocates it: the CPU reserves it virtually,
 * touched lazily) for capacity + scratch slots, in the model's K/V dtype (model::kv_type: bf16 for
 * bf16 / f16 models, f32 for f32 ones; docs/engine.md "K/V dtype"); a forward writes rows with the
 * backend's kv_write op, kv_commit_rows moves slots with its kv_compact op. A prefix of slots may
 * instead live in pool blocks the session holds in place (shared, block_k / block_v below).
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"  // kv_dtype

struct engine_backend_i;
struct engine_backend_ctx;

struct kv_cache {
    int n_layer = 0;
    int64_t kv_dim = 0;    // n_head_kv * head_dim
    int64_t capacity = 0;  // max committed tokens (max context)
    int64_t scratch = 0;   // extra slots past capacity for a forward's batch
    int64_t length = 0;    // committed tokens
    kv_dtype dtype = KV_F32;  // of every element of data
    void * data = nullptr;    // (n_layer, 2 (k, v), capacity + scratch, kv_dim) of dtype, backend memory
    size_t bytes = 0;
    const engine_backend_i * backend = nullptr;  // who allocated data (and frees it)
    engine_backend_ctx * bctx = nullptr;

    kv_cache() = default;
    kv_cache(const kv_cache &) = delete;
    kv_cache & operator=(const kv_cache &) = delete;
    ~kv_cache();

    int64_t slots() const { return capacity + scratch; }
    size_t elem_bytes() const { return kv_dtype_bytes(dtype); }
    size_t row_bytes() const { return static_cast<size_t>(kv_dim) * elem_bytes(); }  // one slot of one layer's K or V
    // k: (slots, kv_dim) of one layer; row(p, slot): slot's row of that array
    void * k(int layer) const { return static_cast<char *>(data) + (static_cast<int64_t>(layer) * 2 + 0) * slots() * row_bytes(); }
    void * v(int layer) const { return static_cast<char *>(data) + (static_cast<int64_t>(layer) * 2 + 1) * slots() * row_bytes(); }
    void * row(void * layer_kv, int64_t slot) const { return static_cast<char *>(layer_kv) + slot * row_bytes(); }

    // Slots [0, shared) (a multiple of 16) are not in data: they are pool blocks the session holds
    // in place (kv-share.h), read through these tables: block_k[l][b] / block_v[l][b] point at
    // block b's 16 rows of layer l's K / V. Their slots in data are never written (nor touched).
    int64_t shared = 0;
    std::vector<std::vector<const void *>> block_k, block_v;  // (n_layer) x (shared / 16)
};

// Allocates the cache on a backend (a model's backend and context, which must outlive it), its
// elements of dtype. Throws engine_error(OUT_OF_MEMORY) if the allocation fails.
void kv_init(kv_cache & kv, const engine_backend_i * backend, engine_backend_ctx * bctx, int n_layer, int64_t kv_dim,
             int64_t capacity, int64_t scratch, kv_dtype dtype);
// length += n (the scratch slots [length, length + n) become committed). Requires length + n <= capacity.
void kv_commit(kv_cache & kv, int64_t n);
// rows: (k) indices into the last forward's batch (slot length + rows[i]); copies them to
// [length, length + k) in order, then length += k. rows must be increasing or equal to their slot
// position (rows[i] >= i), which tree paths always are.
void kv_commit_rows(kv_cache & kv, const int32_t * rows, int64_t k);
// Drops committed slots past len (len <= length).
void kv_truncate(kv_cache & kv, int64_t len);
