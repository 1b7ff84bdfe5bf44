/*
 * kv-share.h: a session and its model's KV block pool (kv-pool.h): filling a session's cache from
 * the pool's resident prefix blocks (no forward for those positions), and publishing the session's
 * full blocks to the pool so other sessions (other documents) that start alike find them. A
 * session's prefix of full pool blocks is read in place through its cache's block table (held,
 * never written: a session writes only its own slots past them); other rows are copied into its
 * own contiguous cache (a freed session's partial last block becomes a tail block, copied up to
 * where a prompt diverges from it). See docs/engine.md "The KV block pool".
 */
#pragma once
#include <cstdint>

struct session;

// With keep tokens already kept (the session's committed prefix of prompt, keep <= length, the
// session already truncated to keep), extends the kept prefix with the pool's longest resident
// chain of full blocks of prompt and then a tail block's common rows, never past n - 1 (the last
// prompt position is recomputed for its logits). The positions are committed (tokens and K/V):
// full blocks that continue the session's in-place prefix (kv.shared == their first slot) are HELD
// and read in place (no copy, no second copy in memory: attention_paged gives attention()'s bits);
// other rows are copied. Returns the new keep (>= keep).
// No pool, a pool that is off, or nothing longer resident: returns keep unchanged.
int64_t session_fill_from_pool(session & s, const int32_t * prompt, int64_t n, int64_t keep);

// Stops reading pool blocks in place past slot `length` (<= kv.length): keeps the blocks wholly
// below it, copies the rows [16 floor(length / 16), length) of the block holding `length` into the
// session's own cache, and releases the rest (kv.shared becomes 16 floor(length / 16)). 0: all go.
void session_unshare(session & s, int64_t length);

// Publishes the session's committed full blocks (positions [0, 16 * floor(length / 16))) to the
// pool, adding the missing ones. Returns how many blocks from the start are resident after (0
// when a block's memory cannot be had: the pool is a cache, nothing fails). leaving: the session is about to be freed, so its blocks become the most recently used (the
// pool's copy is now the only one); else (after a prefill) new blocks go to the least recently
// used end, since the session still holds them itself.
int64_t session_publish_to_pool(session & s, bool leaving = false);
