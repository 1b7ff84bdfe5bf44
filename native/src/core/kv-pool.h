/*
 * kv-pool.h: the model-wide pool of K/V blocks shared by every session of one model (issue 14,
 * docs/engine.md "The KV block pool"). A block holds the K and V of KV_BLOCK_TOKENS consecutive
 * token positions for every layer: (n_layer, 2 (k, v), KV_BLOCK_TOKENS, kv_dim) in the model's K/V
 * dtype (f32 or bf16: elem_bytes, the same as its sessions' caches, so copies move bytes). Full blocks
 * (plus tail blocks: a freed sequence's partial last block, a leaf) are addressed by a hash chain: block b of a token sequence has key
 * hash(key of block b - 1 (or the root), its KV_BLOCK_TOKENS token ids), and an entry is only
 * accepted when its parent block and its token ids match exactly (a hash collision is a miss, never
 * a wrong block). Blocks are reference-counted: a held block (ref > 0) is never evicted; unheld ones
 * are evicted least recently used first when a new block would take the pool past its byte budget.
 * Since K/V at position p depend only on tokens 0..p (causal attention, batch-invariant kernels),
 * a block computed by one session is bit-identical to what any other session would compute for the
 * same prefix. Thread-safe (one mutex): sessions of one model run on several threads.
 */
#pragma once
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

constexpr int64_t KV_BLOCK_TOKENS = 16;

struct kv_pool_stats {
    size_t bytes = 0;         // blocks resident x block bytes
    size_t budget_bytes = 0;  // 0 = the pool is off (nothing kept, nothing found)
    int64_t blocks = 0;       // resident blocks
    int64_t held = 0;         // of those, held (ref > 0)
    int64_t hits = 0;         // blocks found by lookups
    int64_t misses = 0;       // lookups that stopped before the prompt's last full block
    int64_t inserted = 0;     // blocks added
    int64_t evictions = 0;    // blocks evicted for room
    int64_t refused = 0;      // inserts refused: every resident block was held and the budget was full
};

class kv_pool {
  public:
    // One block's elements: (n_layer, 2, KV_BLOCK_TOKENS, kv_dim), elem_bytes each (4: f32, 2: bf16).
    kv_pool(int n_layer, int64_t kv_dim, size_t elem_bytes, size_t budget_bytes);
    kv_pool(const kv_pool &) = delete;
    kv_pool & operator=(const kv_pool &) = delete;

    int n_layer() const { return n_layer_; }
    int64_t kv_dim() const { return kv_dim_; }
    size_t elem_bytes() const { return elem_bytes_; }
    size_t block_elems() const { return block_elems_; }
    size_t block_bytes() const { return block_elems_ * elem_bytes_; }

    // Sets the budget; evicts unheld blocks until under it. 0 turns the pool off (every unheld block
    // goes; lookups find nothing; inserts are refused).
    void set_budget(size_t bytes);
    kv_pool_stats stats() const;

    // The key of a block from its parent's key (KV_ROOT_KEY for block 0) and its token ids: (KV_BLOCK_TOKENS).
    static uint64_t chain_key(uint64_t parent, const int32_t * tokens);
    static constexpr uint64_t KV_ROOT_KEY = 0x9e3779b97f4a7c15ull;

    // The longest resident chain of full blocks of tokens (n_full = n / KV_BLOCK_TOKENS blocks at
    // most, no more than max_blocks): block ids, each HELD (ref + 1) and marked most recently used.
    // The caller releases them (release) when done reading.
    std::vector<int32_t> lookup(const int32_t * tokens, int64_t n, int64_t max_blocks);
    // Makes the first n_blocks full blocks of tokens (the sequence from position 0) resident, adding
    // the missing ones in chain order; fill(b, dst) writes block b's bytes (block_bytes()) into a new
    // block. Stops at the first block it cannot add (pool off, or every resident block held and the
    // budget full: counted as refused). Returns how many blocks from the start are resident. Runs
    // under the pool's lock (fill is a copy). Added blocks start unheld. recent: the chain becomes
    // the most recently used; !recent: blocks added go to the least recently used end (first out)
    // and resident ones keep their place: for a publisher that keeps its own copy (a live session),
    // whose blocks are the cheapest to lose.
    template <class Fill>
    int64_t publish(const int32_t * tokens, int64_t n_blocks, Fill && fill, bool recent = true) {
        std::lock_guard<std::mutex> lk(mu_);
        uint64_t key = KV_ROOT_KEY;
        int32_t parent = -1;
        std::vector<int32_t> chain;
        for (int64_t b = 0; b < n_blocks; ++b) {
            const int32_t * t = tokens + b * KV_BLOCK_TOKENS;
            key = chain_key(key, t);
            int32_t id = find_locked(key, parent, t);
            if (id < 0) {
                id = add_locked(key, parent, t);
                if (id < 0) break;
                fill(b, blocks_[static_cast<size_t>(id)].data.get());
                if (!recent) lru_.splice(lru_.begin(), lru_, blocks_[static_cast<size_t>(id)].lru_it);
            }
            chain.push_back(id);
            parent = id;
        }
        if (recent) touch_chain_locked(chain.data(), static_cast<int64_t>(chain.size()));
        return static_cast<int64_t>(chain.size());
    }
    // Tail blocks: a sequence's last, partial block (its first m < KV_BLOCK_TOKENS rows), published
    // by a session being freed, so the same document coming back copies up to its last token.
    // publish_tail adds the tail after the n_full resident full blocks of tokens (m rows, fill(dst)
    // writes them); false when the chain is not resident or no room. lookup_tail finds, after the
    // n_full full blocks of tokens (all resident), the tail sharing the longest prefix with
    // tokens[16 n_full, 16 n_full + avail): its id, HELD (release it), and *rows = that prefix
    // (>= 1); -1 when none.
    template <class Fill>
    bool publish_tail(const int32_t * tokens, int64_t n_full, int m, Fill && fill) {
        if (m <= 0 || m >= KV_BLOCK_TOKENS) return false;
        std::lock_guard<std::mutex> lk(mu_);
        int32_t parent;
        uint64_t key;
        if (!walk_locked(tokens, n_full, &parent, &key)) return false;
        const int32_t * t = tokens + n_full * KV_BLOCK_TOKENS;
        key = tail_key(key);
        auto range = by_key_.equal_range(key);
        for (auto it = range.first; it != range.second; ++it) {
            const block & bl = blocks_[static_cast<size_t>(it->second)];
            if (bl.resident && bl.parent == parent && bl.n_tokens == m && std::equal(t, t + m, bl.tokens)) {
                int32_t id = it->second;
                touch_chain_locked(&id, 1);
                return true;
            }
        }
        const int32_t id = add_locked(key, parent, t, m);
        if (id < 0) return false;
        fill(blocks_[static_cast<size_t>(id)].data.get());
        return true;
    }
    int32_t lookup_tail(const int32_t * tokens, int64_t n_full, int64_t avail, int64_t * rows);
    // The block's elements: (n_layer, 2, KV_BLOCK_TOKENS, kv_dim) of elem_bytes; valid while the block is held.
    const void * data(int32_t id) const;
    void release(const std::vector<int32_t> & ids);

  private:
    struct block {
        uint64_t key = 0;
        int32_t parent = -1;  // block id of the parent, -1 for a first block
        uint64_t parent_gen = 0;  // the parent id's generation when this block was added (ids are reused)
        uint64_t gen = 0;         // bumped each time this id is given to a new block
        int32_t tokens[KV_BLOCK_TOKENS] = {};
        int n_tokens = KV_BLOCK_TOKENS;  // < KV_BLOCK_TOKENS: a tail block (a leaf: never a parent)
        int ref = 0;
        bool resident = false;
        std::list<int32_t>::iterator lru_it;  // in lru_ while resident
        std::unique_ptr<unsigned char[]> data;  // (block_bytes())
    };
    // A new resident, unheld block (its bytes uninitialised) after making room; -1 when refused.
    // The parent chain is held while room is made, so it never evicts the new block's ancestors.
    int32_t add_locked(uint64_t key, int32_t parent, const int32_t * tokens, int n_tokens = KV_BLOCK_TOKENS);
    // The chain of the first n_blocks full blocks of tokens: the last block's id (-1 for none) and
    // key (KV_ROOT_KEY for none); false when a block of it is not resident.
    bool walk_locked(const int32_t * tokens, int64_t n_blocks, int32_t * last, uint64_t * key) const;
    static uint64_t tail_key(uint64_t parent) { return parent ^ 0x7a11b10c5eedull; }
    int32_t find_locked(uint64_t key, int32_t parent, const int32_t * tokens) const;
    bool make_room_locked();  // frees one unheld block if over budget for one more; false if impossible
    void evict_locked(int32_t id);
    void touch_chain_locked(const int32_t * ids, int64_t n);  // ids: a chain from the root

    const int n_layer_;
    const int64_t kv_dim_;
    const size_t elem_bytes_;
    const size_t block_elems_;
    size_t budget_bytes_;
    mutable std::mutex mu_;
    std::vector<block> blocks_;                     // by id; slots of evicted blocks are reused
    std::vector<int32_t> free_ids_;
    std::unordered_multimap<uint64_t, int32_t> by_key_;
    std::list<int32_t> lru_;                        // resident blocks, least recently used first
    int64_t resident_ = 0;
    kv_pool_stats counts_;
};
