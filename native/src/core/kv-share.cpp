/*
 * kv-share.cpp: copies between a session's contiguous cache, (n_layer, 2, slots, kv_dim), and the
 * pool's blocks, (n_layer, 2, KV_BLOCK_TOKENS, kv_dim): per layer and K/V, one run of
 * KV_BLOCK_TOKENS * kv_dim floats, through the backend's upload / download (plain copies on the CPU).
 */
#include "kv-share.h"

#include <algorithm>
#include <new>

#include "backends/backend.h"
#include "base/check.h"
#include "kv-pool.h"
#include "model.h"
#include "session.h"

int64_t session_fill_from_pool(session & s, const int32_t * prompt, int64_t n, int64_t keep) {
    kv_pool * pool = s.pool;
    if (!pool || n <= 1) return keep;
    ENGINE_ASSERT(keep == s.kv.length && pool->n_layer() == s.kv.n_layer && pool->kv_dim() == s.kv.kv_dim);
    const int64_t max_blocks = std::min((n - 1) / KV_BLOCK_TOKENS, s.kv.capacity / KV_BLOCK_TOKENS);
    if (max_blocks * KV_BLOCK_TOKENS <= keep) return keep;  // the session already has more than whole blocks could add
    const std::vector<int32_t> ids = pool->lookup(prompt, n, max_blocks);
    const int64_t covered = static_cast<int64_t>(ids.size()) * KV_BLOCK_TOKENS;
    if (covered > keep) {
        const engine_backend_i & be = *s.kv.backend;
        const int64_t D = s.kv.kv_dim;
        for (int64_t b = keep / KV_BLOCK_TOKENS; b < static_cast<int64_t>(ids.size()); ++b) {
            const float * src = pool->data(ids[static_cast<size_t>(b)]);  // (n_layer, 2, 16, D)
            // the first block may be partly kept already: copy rows [r0, 16) of it
            const int64_t r0 = std::max<int64_t>(0, keep - b * KV_BLOCK_TOKENS);
            const int64_t rows = KV_BLOCK_TOKENS - r0;
            for (int l = 0; l < s.kv.n_layer; ++l) {
                const float * bk = src + ((int64_t(l) * 2 + 0) * KV_BLOCK_TOKENS + r0) * D;
                const float * bv = src + ((int64_t(l) * 2 + 1) * KV_BLOCK_TOKENS + r0) * D;
                const int64_t slot = b * KV_BLOCK_TOKENS + r0;
                be.buffer_upload(s.kv.bctx, s.kv.k(l) + slot * D, bk, static_cast<size_t>(rows * D) * sizeof(float));
                be.buffer_upload(s.kv.bctx, s.kv.v(l) + slot * D, bv, static_cast<size_t>(rows * D) * sizeof(float));
            }
        }
        kv_commit(s.kv, covered - keep);
        s.tokens.insert(s.tokens.end(), prompt + keep, prompt + covered);
        s.has_pending = false;
    }
    pool->release(ids);
    return std::max(keep, covered);
}

namespace {
// The session's first n_blocks blocks into the pool (the rows of each layer's K and V).
int64_t publish_blocks(session & s, kv_pool & pool, int64_t n_blocks, bool leaving) {
    const engine_backend_i & be = *s.kv.backend;
    const int64_t D = s.kv.kv_dim;
    const int n_layer = s.kv.n_layer;
    return pool.publish(s.tokens.data(), n_blocks, [&](int64_t b, float * dst) {
        const int64_t slot = b * KV_BLOCK_TOKENS;
        for (int l = 0; l < n_layer; ++l) {
            float * bk = dst + (int64_t(l) * 2 + 0) * KV_BLOCK_TOKENS * D;
            float * bv = dst + (int64_t(l) * 2 + 1) * KV_BLOCK_TOKENS * D;
            be.buffer_download(s.kv.bctx, bk, s.kv.k(l) + slot * D, static_cast<size_t>(KV_BLOCK_TOKENS * D) * sizeof(float));
            be.buffer_download(s.kv.bctx, bv, s.kv.v(l) + slot * D, static_cast<size_t>(KV_BLOCK_TOKENS * D) * sizeof(float));
        }
    }, leaving);
}
}  // namespace

int64_t session_publish_to_pool(session & s, bool leaving) {
    kv_pool * pool = s.pool;
    if (!pool) return 0;
    const int64_t n_blocks = std::min(s.kv.length, s.exact_len) / KV_BLOCK_TOKENS;
    if (n_blocks == 0) return 0;
    try {
        return publish_blocks(s, *pool, n_blocks, leaving);
    } catch (const std::bad_alloc &) {
        return 0;  // no memory for a block: the pool is a cache, the session goes on without it
    }
}
