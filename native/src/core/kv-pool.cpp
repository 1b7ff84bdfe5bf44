/*
 * kv-pool.cpp: the block pool of kv-pool.h: the hash chain, exact matching, reference counts, the
 * byte budget and least-recently-used eviction of unheld blocks.
 */
#include "kv-pool.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace {
uint64_t mix(uint64_t h, uint64_t v) {
    // splitmix64 of (h ^ v): a well-spread 64-bit step
    uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
}  // namespace

kv_pool::kv_pool(int n_layer, int64_t kv_dim, size_t elem_bytes, size_t budget_bytes)
    : n_layer_(n_layer),
      kv_dim_(kv_dim),
      elem_bytes_(elem_bytes),
      block_elems_(static_cast<size_t>(n_layer) * 2 * KV_BLOCK_TOKENS * static_cast<size_t>(kv_dim)),
      budget_bytes_(budget_bytes) {
    ENGINE_ASSERT(n_layer > 0 && kv_dim > 0 && (elem_bytes == 2 || elem_bytes == 4));
}

uint64_t kv_pool::chain_key(uint64_t parent, const int32_t * tokens) {
    uint64_t h = mix(parent, 0x6b76u);
    for (int64_t i = 0; i < KV_BLOCK_TOKENS; ++i) h = mix(h, static_cast<uint32_t>(tokens[i]));
    return h;
}

void kv_pool::set_budget(size_t bytes) {
    std::lock_guard<std::mutex> lk(mu_);
    budget_bytes_ = bytes;
    counts_.budget_bytes = bytes;
    // evict unheld blocks, least recently used first, until within the budget
    for (auto it = lru_.begin(); it != lru_.end() && static_cast<size_t>(resident_) * block_bytes() > budget_bytes_;) {
        const int32_t id = *it++;
        if (blocks_[static_cast<size_t>(id)].ref == 0) {
            evict_locked(id);
            counts_.evictions++;
        }
    }
}

kv_pool_stats kv_pool::stats() const {
    std::lock_guard<std::mutex> lk(mu_);
    kv_pool_stats s = counts_;
    s.budget_bytes = budget_bytes_;
    s.blocks = resident_;
    s.bytes = static_cast<size_t>(resident_) * block_bytes();
    s.held = 0;
    for (int32_t id : lru_) s.held += blocks_[static_cast<size_t>(id)].ref > 0;
    return s;
}

int32_t kv_pool::find_locked(uint64_t key, int32_t parent, const int32_t * tokens) const {
    auto range = by_key_.equal_range(key);
    for (auto it = range.first; it != range.second; ++it) {
        const block & bl = blocks_[static_cast<size_t>(it->second)];
        // an orphan (its parent evicted and the id reused) never matches: the generations differ
        if (bl.resident && bl.n_tokens == KV_BLOCK_TOKENS && bl.parent == parent && (parent < 0 || bl.parent_gen == blocks_[static_cast<size_t>(parent)].gen) &&
            std::memcmp(bl.tokens, tokens, sizeof bl.tokens) == 0) return it->second;
    }
    return -1;
}

void kv_pool::touch_chain_locked(const int32_t * ids, int64_t n) {
    // deepest first, so the root ends most recent: eviction takes leaves before their ancestors
    for (int64_t i = n - 1; i >= 0; --i) {
        block & bl = blocks_[static_cast<size_t>(ids[i])];
        lru_.splice(lru_.end(), lru_, bl.lru_it);
    }
}

std::vector<int32_t> kv_pool::lookup(const int32_t * tokens, int64_t n, int64_t max_blocks) {
    std::vector<int32_t> out;
    std::lock_guard<std::mutex> lk(mu_);
    if (budget_bytes_ == 0) return out;
    const int64_t n_full = std::min(n / KV_BLOCK_TOKENS, max_blocks);
    uint64_t key = KV_ROOT_KEY;
    int32_t parent = -1;
    for (int64_t b = 0; b < n_full; ++b) {
        const int32_t * t = tokens + b * KV_BLOCK_TOKENS;
        key = chain_key(key, t);
        const int32_t id = find_locked(key, parent, t);
        if (id < 0) {
            counts_.misses++;
            break;
        }
        blocks_[static_cast<size_t>(id)].ref++;
        out.push_back(id);
        parent = id;
    }
    touch_chain_locked(out.data(), static_cast<int64_t>(out.size()));
    counts_.hits += static_cast<int64_t>(out.size());
    return out;
}

const void * kv_pool::data(int32_t id) const {
    std::lock_guard<std::mutex> lk(mu_);
    const block & bl = blocks_[static_cast<size_t>(id)];
    ENGINE_ASSERT(bl.resident && bl.ref > 0);
    return bl.data.get();
}

void kv_pool::release(const std::vector<int32_t> & ids) {
    std::lock_guard<std::mutex> lk(mu_);
    for (int32_t id : ids) {
        block & bl = blocks_[static_cast<size_t>(id)];
        ENGINE_ASSERT(bl.ref > 0);
        bl.ref--;
    }
}

void kv_pool::evict_locked(int32_t id) {
    block & bl = blocks_[static_cast<size_t>(id)];
    ENGINE_ASSERT(bl.resident && bl.ref == 0);
    auto range = by_key_.equal_range(bl.key);
    for (auto it = range.first; it != range.second; ++it)
        if (it->second == id) {
            by_key_.erase(it);
            break;
        }
    lru_.erase(bl.lru_it);
    bl.resident = false;
    bl.data.reset();  // the memory goes back now: bytes are what is resident
    resident_--;
    free_ids_.push_back(id);
}

bool kv_pool::make_room_locked() {
    while (static_cast<size_t>(resident_ + 1) * block_bytes() > budget_bytes_) {
        int32_t victim = -1;
        for (int32_t id : lru_)
            if (blocks_[static_cast<size_t>(id)].ref == 0) {
                victim = id;
                break;
            }
        if (victim < 0) return false;  // every resident block is held
        evict_locked(victim);
        counts_.evictions++;
    }
    return true;
}

bool kv_pool::walk_locked(const int32_t * tokens, int64_t n_blocks, int32_t * last, uint64_t * key) const {
    uint64_t k = KV_ROOT_KEY;
    int32_t parent = -1;
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int32_t * t = tokens + b * KV_BLOCK_TOKENS;
        k = chain_key(k, t);
        parent = find_locked(k, parent, t);
        if (parent < 0) return false;
    }
    *last = parent;
    *key = k;
    return true;
}

int32_t kv_pool::lookup_tail(const int32_t * tokens, int64_t n_full, int64_t avail, int64_t * rows) {
    *rows = 0;
    std::lock_guard<std::mutex> lk(mu_);
    if (budget_bytes_ == 0 || avail <= 0) return -1;
    int32_t parent;
    uint64_t key;
    if (!walk_locked(tokens, n_full, &parent, &key)) return -1;
    const int32_t * t = tokens + n_full * KV_BLOCK_TOKENS;
    int32_t best = -1;
    int64_t best_rows = 0;
    auto range = by_key_.equal_range(tail_key(key));
    for (auto it = range.first; it != range.second; ++it) {
        const block & bl = blocks_[static_cast<size_t>(it->second)];
        if (!bl.resident || bl.n_tokens >= KV_BLOCK_TOKENS || bl.parent != parent ||
            (parent >= 0 && bl.parent_gen != blocks_[static_cast<size_t>(parent)].gen))
            continue;
        int64_t r = 0;
        while (r < bl.n_tokens && r < avail && bl.tokens[r] == t[r]) ++r;
        if (r > best_rows) {
            best_rows = r;
            best = it->second;
        }
    }
    if (best < 0) return -1;
    blocks_[static_cast<size_t>(best)].ref++;
    touch_chain_locked(&best, 1);
    counts_.hits++;
    *rows = best_rows;
    return best;
}

int32_t kv_pool::add_locked(uint64_t key, int32_t parent, const int32_t * t, int n_tokens) {
    if (budget_bytes_ < block_bytes()) {
        counts_.refused++;
        return -1;
    }
    std::vector<int32_t> chain;
    for (int32_t p = parent; p >= 0; p = blocks_[static_cast<size_t>(p)].parent) chain.push_back(p);
    for (int32_t p : chain) blocks_[static_cast<size_t>(p)].ref++;
    const bool room = make_room_locked();
    for (int32_t p : chain) blocks_[static_cast<size_t>(p)].ref--;
    if (!room) {
        counts_.refused++;
        return -1;
    }
    std::unique_ptr<unsigned char[]> data(new unsigned char[block_bytes()]);  // may throw: nothing changed yet
    int32_t id;
    if (!free_ids_.empty()) {
        id = free_ids_.back();
        free_ids_.pop_back();
    } else {
        id = static_cast<int32_t>(blocks_.size());
        blocks_.emplace_back();
    }
    block & bl = blocks_[static_cast<size_t>(id)];
    bl.key = key;
    bl.gen++;
    bl.parent = parent;
    bl.parent_gen = parent >= 0 ? blocks_[static_cast<size_t>(parent)].gen : 0;
    std::memset(bl.tokens, 0, sizeof bl.tokens);
    std::memcpy(bl.tokens, t, static_cast<size_t>(n_tokens) * sizeof(int32_t));
    bl.n_tokens = n_tokens;
    bl.ref = 0;
    bl.resident = true;
    bl.data = std::move(data);
    lru_.push_back(id);
    bl.lru_it = std::prev(lru_.end());
    resident_++;
    by_key_.emplace(key, id);
    counts_.inserted++;
    return id;
}
