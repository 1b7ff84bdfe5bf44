/*
 * attention-keyblocks.cpp: the generic attention (kernels.h attention() and attention_paged(), f32
 * and bf16 K/V, where the AVX-512 tile kernel does not take the shape or the CPU has no AVX-512) by
 * blocks of keys, so that a KV head's keys and values are read once for many queries instead of
 * once per (row, head).
 *
 * A task is one KV head's query heads (or a part of them) for a tile of query rows. It walks the
 * slots in blocks of block_keys() twice:
 *   1. each block's K rows (this head's part) widened to f32 once into an L1-sized buffer and
 *      dotted with every query of the task: scores (queries, slots);
 *   2. after each query's softmax over its visible slots, each block's V rows widened once and
 *      added into every query's output with its weights.
 * A task of at most DIRECT_QUERIES queries on bf16 K/V skips the widened copies: its dots and sums
 * read the bf16 rows from the cache, each 8 values widened in a register (a copy written and read
 * back pays only for many queries; every number is the same either way).
 * The numbers are those of one (row, head) at a time with the one-row dot per visible key and the
 * one-row axpy per key of nonzero weight, in slot order (docs/engine.md, "Attention by key
 * blocks"): each score is that dot of the query and the key; the softmax runs over the same
 * compacted scores; each output lane gets the same FMAs in slot order (an output kept in memory
 * between blocks is not rounded again). So a row's result does not depend on the batch, the tile
 * or the thread split.
 */
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "base/thread-pool.h"
#include "kernels.h"

namespace {

// Keys per block: a block's widened rows, (keys, head_dim) f32, fill at most 16 KB (half of L1).
int64_t block_keys(int head_dim) { return std::clamp<int64_t>(4096 / head_dim / 8 * 8, 8, 256); }

// Tasks of at most this many queries read bf16 keys and values in place (ops.dots_bf16 ...), each
// value widened once per 2 or 4 queries (the dots' tiles, axpys2) instead of once into a copy that
// is then read back. Measured on Zen 4 (bench/native/attention-kernel.cpp, one thread): 2, 6 and
// 7 queries faster in place (up to 1.9x), 32 slower (0.41 against 0.38 ms).
constexpr int64_t DIRECT_QUERIES = 8;

// Where pass 2 reads a block's value rows: the widened copy (rows[j], offset 0), or bf16 rows
// in the cache (rows[j] + off).
template <class R>
struct value_rows {
    const R * const * rows;
    int64_t off;
};

// dst: (count, hd) f32 = the hd elements at rows[j] + off, widened (bf16) or copied (f32).
void widen_rows(float * dst, const float * const * rows, int64_t off, int64_t count, int64_t hd, const attention_block_ops &) {
    for (int64_t j = 0; j < count; ++j) std::memcpy(dst + j * hd, rows[j] + off, static_cast<size_t>(hd) * sizeof(float));
}
void widen_rows(float * dst, const uint16_t * const * rows, int64_t off, int64_t count, int64_t hd, const attention_block_ops & ops) {
    if (ops.widen_bf16) {
        ops.widen_bf16(dst, rows, off, count, hd);
        return;
    }
    for (int64_t j = 0; j < count; ++j) {
        const uint16_t * r = rows[j] + off;
        float * d = dst + j * hd;
        for (int64_t c = 0; c < hd; ++c) d[c] = bf16_to_f32(r[c]);
    }
}

// Whether some w[j], j < len, is +0 or -0 (the bits without the sign all zero: integer operations
// the compiler vectorizes, which a float compare reduction is not).
bool any_zero(const float * w, int64_t len) {
    uint32_t zeros = 0;
    for (int64_t j = 0; j < len; ++j) {
        uint32_t b;
        std::memcpy(&b, w + j, sizeof b);
        zeros += (b << 1) == 0;
    }
    return zeros != 0;
}

// The sums of the first len elements of R rows, each in index order, the rows' chains side by side
// (one row's additions are sequential; different rows' are independent).
template <int R>
void sums_side_by_side(float * sums, const float * const * r, int64_t len) {
    float acc[R] = {};
    for (int64_t j = 0; j < len; ++j)
        for (int h = 0; h < R; ++h) acc[h] += r[h][j];
    for (int h = 0; h < R; ++h) sums[h] = acc[h];
}
void row_sums(float * sums, const float * const * r, int nr, int64_t len) {
    int h = 0;
    for (; h + 4 <= nr; h += 4) sums_side_by_side<4>(sums + h, r + h, len);
    switch (nr - h) {
        case 3: sums_side_by_side<3>(sums + h, r + h, len); break;
        case 2: sums_side_by_side<2>(sums + h, r + h, len); break;
        case 1: sums_side_by_side<1>(sums + h, r + h, len); break;
        default: break;
    }
}

// The largest of x[0..len) that is not NaN (-inf when none): the same value as std::max over them
// in order (max is exact in any order; a zero's sign, the one thing order can change, is lost in
// exp(s - max)), in eight independent chains.
float row_max(const float * x, int64_t len) {
    float m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int64_t j = 0;
    for (; j + 8 <= len; j += 8)
        for (int l = 0; l < 8; ++l) m[l] = std::max(m[l], x[j + l]);
    for (; j < len; ++j) m[0] = std::max(m[0], x[j]);
    float mx = m[0];
    for (int l = 1; l < 8; ++l) mx = std::max(mx, m[l]);
    return mx;
}

// The softmax of nh queries of one row (they see the same slots): rows s + h * lds, h < nh, over
// slots [0, len), in place, visible scores -> weights as one (row, head) at a time computes them:
// the visible scores compacted in slot order, scaled, exp(s - max), divided by their sum in slot
// order; then back at their slots, hidden slots 0. mrow: the row's mask, or null (all visible).
// live[h] = 0 where query h sees nothing (its weights are then meaningless: skip them).
void softmax_row(float * s, int64_t lds, int nh, int64_t len, const uint8_t * mrow, float scale, const attention_block_ops & ops,
                 uint8_t * live) {
    int64_t first = len;  // the first hidden slot: compaction moves only what comes after it
    if (mrow)
        for (first = 0; first < len && mrow[first];) ++first;
    int64_t nv = first;
    for (int64_t j = first; j < len; ++j) {
        if (!mrow[j]) continue;
        for (int h = 0; h < nh; ++h) s[h * lds + nv] = s[h * lds + j];
        ++nv;
    }
    const float * rows[64];
    float sums[64];
    for (int h0 = 0; h0 < nh; h0 += 64) {
        const int nr = std::min(64, nh - h0);
        for (int h = 0; h < nr; ++h) {
            float * r = s + (h0 + h) * lds;
            rows[h] = r;
            float mx;
            if (ops.scale_max) mx = ops.scale_max(r, nv, scale);
            else {
                for (int64_t j = 0; j < nv; ++j) r[j] *= scale;
                mx = row_max(r, nv);
            }
            live[h0 + h] = mx != -INFINITY;
            if (!live[h0 + h]) continue;
            if (ops.exp_shifted) ops.exp_shifted(r, nv, mx);
            else
                for (int64_t j = 0; j < nv; ++j) r[j] = r[j] == -INFINITY ? 0.0f : std::exp(r[j] - mx);
        }
        row_sums(sums, rows, nr, nv);
        for (int h = 0; h < nr; ++h) {
            if (!live[h0 + h]) continue;
            float * r = s + (h0 + h) * lds;
            const float inv = 1.0f / sums[h];
            if (ops.scale) ops.scale(r, nv, inv);
            else
                for (int64_t j = 0; j < nv; ++j) r[j] *= inv;
        }
    }
    // back to slot positions, from the end (the visible entry c of slot j has c <= j)
    if (first < len)
        for (int h = 0; h < nh; ++h) {
            float * r = s + h * lds;
            int64_t c = nv;
            for (int64_t j = len - 1; j >= first; --j) r[j] = mrow[j] ? r[--c] : 0.0f;
        }
}

template <class T>
void attention_keyblocks_t(float * out, const float * q, const T * const * k_rows, const T * const * v_rows, int64_t kv_len,
                           int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
                           const attention_block_ops & ops) {
    if (n <= 0) return;
    const int64_t total = kv_len + n, hd = head_dim;
    const int64_t q_dim = static_cast<int64_t>(n_head) * hd;
    const int group = n_head / n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const int64_t B = block_keys(head_dim);

    // Tiles: all rows and all of a KV head's query heads in one task, unless a task's scores
    // (rows x heads, slots) would pass 64K floats (256 KB, within L2): then fewer rows, and fewer
    // heads where one row's alone would; with a pool, rows and then heads split further until
    // there are 2 tasks per thread, or one per thread when that divides evenly (each split reads
    // the head's keys and values again: a decode row of 2 KV heads on 2 threads is 2 tasks).
    constexpr int64_t max_scores = 65536;
    const int threads = pool ? pool->n_threads() : 1;
    const bool parallel = threads > 1 && static_cast<double>(n) * n_head * static_cast<double>(total) * hd >= 65536.0;
    int heads = static_cast<int>(std::clamp<int64_t>(max_scores / total, 1, group));
    int64_t rows = std::clamp<int64_t>(max_scores / (heads * total), 1, n);
    auto n_tasks_of = [&] { return n_head_kv * ((n + rows - 1) / rows) * ((group + heads - 1) / heads); };
    auto enough = [&] {
        const int64_t t = n_tasks_of();
        return t >= 2 * threads || (t >= threads && t % threads == 0);
    };
    while (parallel && !enough()) {
        if (rows > 1) rows = (rows + 1) / 2;
        else if (heads > 1) heads = (heads + 1) / 2;
        else break;
    }
    const int parts = (group + heads - 1) / heads;
    const int64_t n_tasks = n_tasks_of();

    auto task = [&](int64_t t) {
        const int hk = static_cast<int>(t % n_head_kv);
        const int part = static_cast<int>(t / n_head_kv % parts);
        const int64_t i0 = t / n_head_kv / parts * rows, i1 = std::min(n, i0 + rows);
        const int h0 = hk * group + part * heads, nh = std::min(hk * group + group, h0 + heads) - h0;
        const int64_t nq = (i1 - i0) * nh;                 // query iq = (row i0 + iq / nh, head h0 + iq % nh)
        const int64_t span = mask ? total : kv_len + i1;  // the slots any of them sees
        const int64_t off = static_cast<int64_t>(hk) * hd;
        thread_local std::vector<float> scores, block, weights;
        thread_local std::vector<const float *> qs, block_rows;
        thread_local std::vector<int64_t> seen;  // per query: slots [0, seen) may have weight; 0 = none
        thread_local std::vector<uint8_t> live;  // per query: sees something
        scores.resize(static_cast<size_t>(nq * span));
        block.resize(static_cast<size_t>(B * hd));
        weights.resize(static_cast<size_t>(B));
        qs.resize(static_cast<size_t>(nq));
        block_rows.resize(static_cast<size_t>(B));
        seen.resize(static_cast<size_t>(nq));
        live.resize(static_cast<size_t>(nq));
        for (int64_t iq = 0; iq < nq; ++iq) qs[iq] = q + (i0 + iq / nh) * q_dim + (h0 + iq % nh) * hd;
        auto out_of = [&](int64_t iq) { return out + (i0 + iq / nh) * q_dim + (h0 + iq % nh) * hd; };
        // every query's weighted sum of the block's value rows [b0, b0 + bl) (R: float or T)
        auto add_values = [&](auto vr, int64_t b0, int64_t bl, auto axpys, auto axpys2) {
            using R = std::remove_const_t<std::remove_pointer_t<std::remove_pointer_t<decltype(vr.rows)>>>;
            for (int64_t iq = 0; iq < nq; ++iq) {
                const float * w = scores.data() + iq * span + b0;
                const int64_t cnt = std::min(bl, seen[iq] - b0);
                if (cnt <= 0) continue;
                float * oi = out_of(iq);
                if (!any_zero(w, cnt)) {
                    // the next query (of this row or the next), if it adds the same keys, none of weight 0: both at once
                    if (axpys2 && iq + 1 < nq && std::min(bl, seen[iq + 1] - b0) == cnt && !any_zero(w + span, cnt)) {
                        axpys2(oi, out_of(iq + 1), w, w + span, vr.rows, vr.off, cnt, hd);
                        ++iq;
                        continue;
                    }
                    axpys(oi, w, vr.rows, vr.off, cnt, hd);
                    continue;
                }
                thread_local std::vector<const R *> nonzero;  // keys of weight 0 are left out, as an axpy per key skipped them
                nonzero.clear();
                for (int64_t j = 0; j < cnt; ++j) {
                    if (w[j] == 0.0f) continue;
                    weights[nonzero.size()] = w[j];
                    nonzero.push_back(vr.rows[j]);
                }
                axpys(oi, weights.data(), nonzero.data(), vr.off, static_cast<int64_t>(nonzero.size()), hd);
            }
        };

        bool direct = false;
        if constexpr (std::is_same_v<T, uint16_t>) direct = ops.dots_bf16 && ops.axpys_bf16 && nq <= DIRECT_QUERIES && hd % 8 == 0;
        // 1. scores (nq, span): every query against every key of each block
        for (int64_t b0 = 0; b0 < span; b0 += B) {
            const int64_t bl = std::min(B, span - b0);
            if constexpr (std::is_same_v<T, uint16_t>)
                if (direct) {
                    ops.dots_bf16(scores.data() + b0, span, qs.data(), nq, k_rows + b0, off, bl, hd);
                    continue;
                }
            widen_rows(block.data(), k_rows + b0, off, bl, hd, ops);
            ops.dots(scores.data() + b0, span, qs.data(), nq, block.data(), bl, hd);
        }
        // softmax over each row's visible slots: causal rows see slots <= kv_len + i, masked rows their mask
        for (int64_t i = i0; i < i1; ++i) {
            const int64_t iq = (i - i0) * nh;
            const int64_t limit = mask ? total : kv_len + i + 1;
            softmax_row(scores.data() + iq * span, span, nh, limit, mask ? mask + i * total : nullptr, scale, ops, live.data() + iq);
            for (int h = 0; h < nh; ++h) {
                float * oi = out + i * q_dim + (h0 + h) * hd;
                std::fill(oi, oi + hd, 0.0f);
                seen[iq + h] = live[iq + h] ? limit : 0;
            }
        }
        // 2. outputs: each query adds the block's V rows of nonzero weight, in slot order
        for (int64_t b0 = 0; b0 < span; b0 += B) {
            const int64_t bl = std::min(B, span - b0);
            if constexpr (std::is_same_v<T, uint16_t>)
                if (direct) {
                    add_values(value_rows<uint16_t>{v_rows + b0, off}, b0, bl, ops.axpys_bf16, ops.axpys2_bf16);
                    continue;
                }
            widen_rows(block.data(), v_rows + b0, off, bl, hd, ops);
            for (int64_t j = 0; j < bl; ++j) block_rows[j] = block.data() + j * hd;
            add_values(value_rows<float>{block_rows.data(), 0}, b0, bl, ops.axpys, ops.axpys2);
        }
    };
    if (!parallel || n_tasks < 2) {
        for (int64_t t = 0; t < n_tasks; ++t) task(t);
        return;
    }
    pool->parallel_for(static_cast<int>(n_tasks), [&](int t, int) { task(t); });
}

}  // namespace

void attention_keyblocks(float * out, const float * q, const float * const * k_rows, const float * const * v_rows,
                         int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask,
                         thread_pool * pool, const attention_block_ops & ops) {
    attention_keyblocks_t(out, q, k_rows, v_rows, kv_len, n, n_head, n_head_kv, head_dim, mask, pool, ops);
}
void attention_keyblocks(float * out, const float * q, const uint16_t * const * k_rows, const uint16_t * const * v_rows,
                         int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask,
                         thread_pool * pool, const attention_block_ops & ops) {
    attention_keyblocks_t(out, q, k_rows, v_rows, kv_len, n, n_head, n_head_kv, head_dim, mask, pool, ops);
}
