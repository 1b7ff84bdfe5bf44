/*
 * kv-share.cpp: copies between a session's contiguous cache, (n_layer, 2, slots, kv_dim), and the
 * pool's blocks, (n_layer, 2, KV_BLOCK_TOKENS, kv_dim), both in the model's K/V dtype (f32 or bf16,
 * so the copies move the rounded values as they are): per layer and K/V, one run of
 * KV_BLOCK_TOKENS rows of kv_dim elements, through the backend's upload / download (plain copies on the CPU);
 * holding full blocks in place (the cache's block table) and letting them go.
 */
#include "kv-share.h"

#include <algorithm>
#include <new>

#include "backends/backend.h"
#include "base/check.h"
#include "kv-pool.h"
#include "model.h"
#include "session.h"

namespace {
// Layer l's K (v = false) or V rows of pool block `data`, (n_layer, 2, 16, kv_dim) of the cache's dtype.
const void * block_layer(const session & s, const void * data, int l, bool v) {
    return static_cast<const unsigned char *>(data) + (int64_t(l) * 2 + (v ? 1 : 0)) * KV_BLOCK_TOKENS * s.kv.row_bytes();
}

// Where slot `slot` of layer l's K or V lives: a held pool block (slot < kv.shared; valid to the
// end of its 16-row block) or the session's own cache.
const void * slot_rows(const session & s, int l, bool v, int64_t slot) {
    if (slot < s.kv.shared) {
        const auto & t = v ? s.kv.block_v[static_cast<size_t>(l)] : s.kv.block_k[static_cast<size_t>(l)];
        return static_cast<const unsigned char *>(t[static_cast<size_t>(slot / KV_BLOCK_TOKENS)]) + (slot % KV_BLOCK_TOKENS) * s.kv.row_bytes();
    }
    return s.kv.row(v ? s.kv.v(l) : s.kv.k(l), slot);
}

// Holds pool block `id` (already held by the caller's lookup) as the session's next in-place block.
void hold_in_place(session & s, kv_pool & pool, int32_t id) {
    ENGINE_ASSERT(s.kv.shared % KV_BLOCK_TOKENS == 0);
    const void * data = pool.data(id);
    for (int l = 0; l < s.kv.n_layer; ++l) {
        s.kv.block_k[static_cast<size_t>(l)].push_back(block_layer(s, data, l, false));
        s.kv.block_v[static_cast<size_t>(l)].push_back(block_layer(s, data, l, true));
    }
    s.shared_ids.push_back(id);
    s.kv.shared += KV_BLOCK_TOKENS;
}

// Rows [r0, r1) of pool block `src`, (n_layer, 2, 16, D), into the session's slots from slot0 + r0.
void copy_rows_in(session & s, const void * src, int64_t slot0, int64_t r0, int64_t r1) {
    ENGINE_ASSERT(slot0 + r0 >= s.kv.shared);  // a session writes only its own slots
    const engine_backend_i & be = *s.kv.backend;
    const size_t R = s.kv.row_bytes();  // one slot of one layer's K or V
    const size_t bytes = static_cast<size_t>(r1 - r0) * R;
    const unsigned char * b = static_cast<const unsigned char *>(src);
    for (int l = 0; l < s.kv.n_layer; ++l) {
        const unsigned char * bk = b + ((int64_t(l) * 2 + 0) * KV_BLOCK_TOKENS + r0) * R;
        const unsigned char * bv = b + ((int64_t(l) * 2 + 1) * KV_BLOCK_TOKENS + r0) * R;
        be.buffer_upload(s.kv.bctx, s.kv.row(s.kv.k(l), slot0 + r0), bk, bytes);
        be.buffer_upload(s.kv.bctx, s.kv.row(s.kv.v(l), slot0 + r0), bv, bytes);
    }
}
}  // namespace

int64_t session_fill_from_pool(session & s, const int32_t * prompt, int64_t n, int64_t keep) {
    kv_pool * pool = s.pool;
    if (!pool || n <= 1) return keep;
    ENGINE_ASSERT(keep == s.kv.length && pool->n_layer() == s.kv.n_layer && pool->kv_dim() == s.kv.kv_dim &&
                  pool->elem_bytes() == s.kv.elem_bytes());
    const int64_t limit = std::min(n - 1, s.kv.capacity);  // the last prompt position is always computed
    if (limit <= keep) return keep;
    const int64_t max_blocks = limit / KV_BLOCK_TOKENS;
    const std::vector<int32_t> ids = pool->lookup(prompt, n, max_blocks);
    const int64_t nb = static_cast<int64_t>(ids.size());
    int64_t covered = nb * KV_BLOCK_TOKENS;
    // then a tail block (a freed session's last, partial block) continuing the chain, if any
    int64_t tail_rows = 0;
    int32_t tail = -1;
    if (covered < limit && covered + KV_BLOCK_TOKENS > keep) tail = pool->lookup_tail(prompt, nb, limit - covered, &tail_rows);
    // full blocks continuing the in-place prefix are held and read in place (attention_paged gives
    // attention()'s bits); the rest are copied (the first may be partly kept already)
    std::vector<int32_t> done;  // ids to release now (the held-in-place ones stay held)
    for (int64_t b = 0; b < nb; ++b) {
        const int32_t id = ids[static_cast<size_t>(b)];
        if (b < keep / KV_BLOCK_TOKENS) {
            done.push_back(id);
        } else if (b * KV_BLOCK_TOKENS == s.kv.shared && b * KV_BLOCK_TOKENS >= keep) {
            hold_in_place(s, *pool, id);
        } else {
            copy_rows_in(s, pool->data(id), b * KV_BLOCK_TOKENS, std::max<int64_t>(0, keep - b * KV_BLOCK_TOKENS), KV_BLOCK_TOKENS);
            done.push_back(id);
        }
    }
    if (tail >= 0 && covered + tail_rows > keep) {
        copy_rows_in(s, pool->data(tail), covered, std::max<int64_t>(0, keep - covered), tail_rows);
        covered += tail_rows;
    }
    if (covered > keep) {
        kv_commit(s.kv, covered - keep);
        s.tokens.insert(s.tokens.end(), prompt + keep, prompt + covered);
        s.has_pending = false;
    }
    pool->release(done);
    if (tail >= 0) pool->release({tail});
    return std::max(keep, covered);
}

void session_unshare(session & s, int64_t length) {
    if (s.kv.shared <= length) return;
    ENGINE_ASSERT(s.pool != nullptr && length >= 0 && length <= s.kv.length);
    const int64_t keep_blocks = length / KV_BLOCK_TOKENS;
    const int64_t new_shared = keep_blocks * KV_BLOCK_TOKENS;
    if (length > new_shared) {
        // rows [new_shared, length) of block keep_blocks into the session's own cache
        const engine_backend_i & be = *s.kv.backend;
        const size_t bytes = static_cast<size_t>(length - new_shared) * s.kv.row_bytes();
        for (int l = 0; l < s.kv.n_layer; ++l) {
            be.buffer_upload(s.kv.bctx, s.kv.row(s.kv.k(l), new_shared), slot_rows(s, l, false, new_shared), bytes);
            be.buffer_upload(s.kv.bctx, s.kv.row(s.kv.v(l), new_shared), slot_rows(s, l, true, new_shared), bytes);
        }
    }
    const std::vector<int32_t> gone(s.shared_ids.begin() + keep_blocks, s.shared_ids.end());
    s.shared_ids.resize(static_cast<size_t>(keep_blocks));
    for (int l = 0; l < s.kv.n_layer; ++l) {
        s.kv.block_k[static_cast<size_t>(l)].resize(static_cast<size_t>(keep_blocks));
        s.kv.block_v[static_cast<size_t>(l)].resize(static_cast<size_t>(keep_blocks));
    }
    s.kv.shared = new_shared;
    s.pool->release(gone);
}

namespace {
// The session's first n_blocks blocks into the pool (the rows of each layer's K and V).
int64_t publish_blocks(session & s, kv_pool & pool, int64_t n_blocks, bool leaving) {
    const engine_backend_i & be = *s.kv.backend;
    const size_t R = s.kv.row_bytes();  // one slot of one layer's K or V
    const int n_layer = s.kv.n_layer;
    ENGINE_ASSERT(pool.elem_bytes() == s.kv.elem_bytes());
    return pool.publish(s.tokens.data(), n_blocks, [&](int64_t b, unsigned char * dst) {
        const int64_t slot = b * KV_BLOCK_TOKENS;  // a whole block: all held in place or all the session's own
        for (int l = 0; l < n_layer; ++l) {
            unsigned char * bk = dst + (int64_t(l) * 2 + 0) * KV_BLOCK_TOKENS * R;
            unsigned char * bv = dst + (int64_t(l) * 2 + 1) * KV_BLOCK_TOKENS * R;
            be.buffer_download(s.kv.bctx, bk, slot_rows(s, l, false, slot), KV_BLOCK_TOKENS * R);
            be.buffer_download(s.kv.bctx, bv, slot_rows(s, l, true, slot), KV_BLOCK_TOKENS * R);
        }
    }, leaving);
}
}  // namespace

int64_t session_publish_to_pool(session & s, bool leaving) {
    kv_pool * pool = s.pool;
    if (!pool) return 0;
    const int64_t n_blocks = std::min(s.kv.length, s.exact_len) / KV_BLOCK_TOKENS;
    try {
        const int64_t have = publish_blocks(s, *pool, n_blocks, leaving);
        const int64_t m = std::min(s.kv.length, s.exact_len) - n_blocks * KV_BLOCK_TOKENS;
        if (leaving && have == n_blocks && m > 0) {
            // the partial last block too: the same document coming back continues up to its last token
            const engine_backend_i & be = *s.kv.backend;
            const size_t R = s.kv.row_bytes();
            const int64_t slot = n_blocks * KV_BLOCK_TOKENS;
            pool->publish_tail(s.tokens.data(), n_blocks, static_cast<int>(m), [&](unsigned char * dst) {
                for (int l = 0; l < s.kv.n_layer; ++l) {
                    be.buffer_download(s.kv.bctx, dst + (int64_t(l) * 2 + 0) * KV_BLOCK_TOKENS * R, slot_rows(s, l, false, slot),
                                       static_cast<size_t>(m) * R);
                    be.buffer_download(s.kv.bctx, dst + (int64_t(l) * 2 + 1) * KV_BLOCK_TOKENS * R, slot_rows(s, l, true, slot),
                                       static_cast<size_t>(m) * R);
                }
            });
        }
        return have;
    } catch (const std::bad_alloc &) {
        return 0;  // no memory for a block: the pool is a cache, the session goes on without it
    }
}
