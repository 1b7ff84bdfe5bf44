/*
 * kv-cache.h: the per-session K/V cache. Slots [0, length) hold committed tokens; a forward writes
 * its n tokens at [length, length + n) as *scratch* and never moves length by itself. The caller
 * then commits all (kv_commit), a chosen subset in order (kv_commit_rows: copies scratch slots to
 * [length, length + k), no RoPE re-rotation, see docs/redrafter.md §2.9) or nothing.
 * Storage is f32 backend memory (the model's backend allocates it: the CPU reserves it virtually,
 * touched lazily) for capacity + scratch slots; kv_commit_rows moves slots with the backend's
 * kv_compact op.
 */
#pragma once
#include <cstddef>
#include <cstdint>

struct engine_backend_i;
struct engine_backend_ctx;

struct kv_cache {
    int n_layer = 0;
    int64_t kv_dim = 0;    // n_head_kv * head_dim
    int64_t capacity = 0;  // max committed tokens (max context)
    int64_t scratch = 0;   // extra slots past capacity for a forward's batch
    int64_t length = 0;    // committed tokens
    float * data = nullptr;  // (n_layer, 2 (k, v), capacity + scratch, kv_dim), backend memory
    size_t bytes = 0;
    const engine_backend_i * backend = nullptr;  // who allocated data (and frees it)
    engine_backend_ctx * bctx = nullptr;

    kv_cache() = default;
    kv_cache(const kv_cache &) = delete;
    kv_cache & operator=(const kv_cache &) = delete;
    ~kv_cache();

    int64_t slots() const { return capacity + scratch; }
    // k: (slots, kv_dim) of one layer
    float * k(int layer) const { return data + (static_cast<int64_t>(layer) * 2 + 0) * slots() * kv_dim; }
    float * v(int layer) const { return data + (static_cast<int64_t>(layer) * 2 + 1) * slots() * kv_dim; }
};

// Allocates the cache on a backend (a model's backend and context, which must outlive it).
// Throws engine_error(OUT_OF_MEMORY) if the allocation fails.
void kv_init(kv_cache & kv, const engine_backend_i * backend, engine_backend_ctx * bctx, int n_layer, int64_t kv_dim,
             int64_t capacity, int64_t scratch);
// length += n (the scratch slots [length, length + n) become committed). Requires length + n <= capacity.
void kv_commit(kv_cache & kv, int64_t n);
// rows: (k) indices into the last forward's batch (slot length + rows[i]); copies them to
// [length, length + k) in order, then length += k. rows must be increasing or equal to their slot
// position (rows[i] >= i), which tree paths always are.
void kv_commit_rows(kv_cache & kv, const int32_t * rows, int64_t k);
// Drops committed slots past len (len <= length).
void kv_truncate(kv_cache & kv, int64_t len);
