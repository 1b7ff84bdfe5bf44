/*
 * kv-cache.cpp: reservation (anonymous mmap, pages touched lazily, so a long max context costs
 * nothing until used), commit, commit of chosen scratch rows, truncate.
 */
#include "kv-cache.h"

#include <sys/mman.h>

#include <cstring>
#include <string>

#include "base/check.h"
#include "base/fault-inject.h"
#include "base/status.h"

kv_cache::~kv_cache() {
    if (data) ::munmap(data, bytes);
}

void kv_init(kv_cache & kv, int n_layer, int64_t kv_dim, int64_t capacity, int64_t scratch) {
    ENGINE_ASSERT(kv.data == nullptr);
    kv.n_layer = n_layer;
    kv.kv_dim = kv_dim;
    kv.capacity = capacity;
    kv.scratch = scratch;
    kv.length = 0;
    kv.bytes = static_cast<size_t>(n_layer) * 2 * static_cast<size_t>(capacity + scratch) * static_cast<size_t>(kv_dim) * sizeof(float);
    void * p = fault_hit("alloc:kv") ? MAP_FAILED : ::mmap(nullptr, kv.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        std::string msg = "cannot reserve " + std::to_string(kv.bytes) + " bytes for the KV cache";
        kv.bytes = 0;
        throw engine_error(ERROR_OUT_OF_MEMORY, msg);
    }
    kv.data = static_cast<float *>(p);
}

void kv_commit(kv_cache & kv, int64_t n) {
    ENGINE_ASSERT(n >= 0 && kv.length + n <= kv.capacity);
    kv.length += n;
}

void kv_commit_rows(kv_cache & kv, const int32_t * rows, int64_t k) {
    ENGINE_ASSERT(k >= 0 && kv.length + k <= kv.capacity);
    for (int64_t i = 0; i < k; ++i) {
        ENGINE_ASSERT(rows[i] >= i && kv.length + rows[i] < kv.slots());
        if (rows[i] == i) continue;
        for (int l = 0; l < kv.n_layer; ++l) {
            float * K = kv.k(l);
            float * V = kv.v(l);
            std::memmove(K + (kv.length + i) * kv.kv_dim, K + (kv.length + rows[i]) * kv.kv_dim, kv.kv_dim * sizeof(float));
            std::memmove(V + (kv.length + i) * kv.kv_dim, V + (kv.length + rows[i]) * kv.kv_dim, kv.kv_dim * sizeof(float));
        }
    }
    kv.length += k;
}

void kv_truncate(kv_cache & kv, int64_t len) {
    ENGINE_ASSERT(len >= 0 && len <= kv.length);
    kv.length = len;
}
