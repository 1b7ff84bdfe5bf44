/*
 * kv-share.h: a session and its model's KV block pool (kv-pool.h): filling a session's cache from
 * the pool's resident prefix blocks (no forward for those positions), and publishing the session's
 * full blocks to the pool so other sessions (other documents) that start alike find them. The
 * session's cache stays contiguous (its attention reads it unchanged); the pool holds copies, so a
 * session never writes into a shared block (full blocks are shared; a freed session's partial last
 * block becomes a tail block, copied up to where a prompt diverges from it). See docs/engine.md
 * "The KV block pool".
 */
#pragma once
#include <cstdint>

struct session;

// With keep tokens already kept (the session's committed prefix of prompt, keep <= length, the
// session already truncated to keep), extends the kept prefix with the pool's longest resident
// chain of full blocks of prompt and then a tail block's common rows, never past n - 1 (the last
// prompt position is recomputed for its logits). The copied positions are committed (tokens and K/V). Returns the new keep (>= keep).
// No pool, a pool that is off, or nothing longer resident: returns keep unchanged.
int64_t session_fill_from_pool(session & s, const int32_t * prompt, int64_t n, int64_t keep);

// Publishes the session's committed full blocks (positions [0, 16 * floor(length / 16))) to the
// pool, adding the missing ones. Returns how many blocks from the start are resident after (0
// when a block's memory cannot be had: the pool is a cache, nothing fails). leaving: the session is about to be freed, so its blocks become the most recently used (the
// pool's copy is now the only one); else (after a prefill) new blocks go to the least recently
// used end, since the session still holds them itself.
int64_t session_publish_to_pool(session & s, bool leaving = false);
