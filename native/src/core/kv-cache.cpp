/*
 * kv-cache.cpp: allocation on the model's backend (the CPU reserves it, pages touched lazily, so a
 * long max context costs nothing until used), commit, commit of chosen scratch rows (the backend's
 * kv_compact), truncate.
 */
#include "kv-cache.h"

#include <string>

#include "backends/backend.h"
#include "base/check.h"
#include "base/fault-inject.h"
#include "base/status.h"

kv_cache::~kv_cache() {
    if (data) backend->buffer_free(bctx, data, bytes);
}

void kv_init(kv_cache & kv, const engine_backend_i * backend, engine_backend_ctx * bctx, int n_layer, int64_t kv_dim,
             int64_t capacity, int64_t scratch, kv_dtype dtype) {
    ENGINE_ASSERT(kv.data == nullptr && backend != nullptr);
    kv.backend = backend;
    kv.bctx = bctx;
    kv.n_layer = n_layer;
    kv.kv_dim = kv_dim;
    kv.capacity = capacity;
    kv.scratch = scratch;
    kv.length = 0;
    kv.shared = 0;
    kv.block_k.assign(static_cast<size_t>(n_layer), {});
    kv.block_v.assign(static_cast<size_t>(n_layer), {});
    kv.dtype = dtype;
    kv.bytes = static_cast<size_t>(n_layer) * 2 * static_cast<size_t>(capacity + scratch) * kv.row_bytes();
    void * p = fault_hit("alloc:kv") ? nullptr : backend->buffer_alloc(bctx, kv.bytes);
    if (!p) {
        std::string msg = "cannot reserve " + std::to_string(kv.bytes) + " bytes for the KV cache";
        kv.bytes = 0;
        throw engine_error(ERROR_OUT_OF_MEMORY, msg);
    }
    kv.data = p;
}

void kv_commit(kv_cache & kv, int64_t n) {
    ENGINE_ASSERT(n >= 0 && kv.length + n <= kv.capacity);
    kv.length += n;
}

void kv_commit_rows(kv_cache & kv, const int32_t * rows, int64_t k) {
    ENGINE_ASSERT(k >= 0 && kv.length + k <= kv.capacity);
    for (int64_t i = 0; i < k; ++i) ENGINE_ASSERT(rows[i] >= i && kv.length + rows[i] < kv.slots());
    kv.backend->kv_compact(kv.bctx, kv.data, kv.dtype, kv.n_layer, kv.slots(), kv.kv_dim, kv.length, rows, k);
    kv.length += k;
}

void kv_truncate(kv_cache & kv, int64_t len) {
    ENGINE_ASSERT(len >= kv.shared && len <= kv.length);  // below shared: session_unshare first
    kv.length = len;
}
