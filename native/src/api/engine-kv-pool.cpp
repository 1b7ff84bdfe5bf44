/*
 * engine-kv-pool.cpp: the KV block pool part of the C API (include/engine.h): the budget and the
 * figures of a model's shared pool (core/kv-pool.h).
 */
#include "engine-internal.h"
#include "engine.h"

extern "C" engine_status engine_model_set_kv_pool(engine_model * em, uint64_t budget_bytes) noexcept {
    if (!em || !em->pool) return ENGINE_STATUS_INVALID_ARGUMENT;
    em->pool->set_budget(static_cast<size_t>(budget_bytes));
    return ENGINE_STATUS_OK;
}

extern "C" void engine_model_get_kv_pool_stats(const engine_model * em, engine_kv_pool_stats * out) noexcept {
    if (!out) return;
    *out = engine_kv_pool_stats{};
    if (!em || !em->pool) return;
    const kv_pool_stats s = em->pool->stats();
    out->bytes = s.bytes;
    out->budget_bytes = s.budget_bytes;
    out->block_bytes = em->pool->block_bytes();
    out->blocks = s.blocks;
    out->held = s.held;
    out->hits = s.hits;
    out->misses = s.misses;
    out->inserted = s.inserted;
    out->evictions = s.evictions;
    out->refused = s.refused;
}
