/*
 * attention-cases.h: what the attention tests (test-attention, -bf16, -paged) share: a tree-like
 * random mask, a bitwise comparison of outputs, the error of an output against a reference
 * measured per (row, head) relative to that output's largest element, and the generic attention's
 * arithmetic written out one (row, head) at a time.
 */
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"

// A tree-like mask (n, kv_len + n): the cached prefix mostly visible, each row its own slot and a
// random subset of earlier batch slots; row `blank` (if >= 0) sees nothing.
inline std::vector<uint8_t> make_mask(int64_t n, int64_t kv_len, int64_t blank, std::mt19937 & rng) {
    const int64_t total = kv_len + n;
    std::vector<uint8_t> m(static_cast<size_t>(n * total), 0);
    std::uniform_int_distribution<int> coin(0, 3);
    for (int64_t i = 0; i < n; ++i) {
        if (i == blank) continue;
        for (int64_t j = 0; j < kv_len; ++j) m[i * total + j] = coin(rng) != 0;  // 3/4 visible
        for (int64_t j = 0; j < i; ++j) m[i * total + kv_len + j] = coin(rng) >= 2;
        m[i * total + kv_len + i] = 1;
    }
    return m;
}

// The dispatch runs the scalar reference (no AVX2: SLIPSTREAM_CPU_ISA=ref, ARM64): attention() is
// attention_ref itself there, not the generic kernel.
inline bool reference_path() { return std::strcmp(kernel_best_path_name(), "ref") == 0; }

inline bool same_bits(const std::vector<float> & a, const std::vector<float> & b) {
    // (an empty vector's data() may be null, which memcmp must not get)
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// out, ref: (n, n_head * head_dim). The largest |out - ref| of each (row, head) relative to that
// reference output's largest element (a weighted mean of V rows can cancel to ~0 in single
// elements, where an element-wise relative error means nothing), the maximum over rows that see
// something; rows the mask (n, total) blanks must be exactly 0 in both, else zero_rows_ok = false.
inline double attention_max_rel(const std::vector<float> & out, const std::vector<float> & ref, const std::vector<uint8_t> & mask,
                                bool masked, int64_t n, int64_t total, int n_head, int head_dim, bool & zero_rows_ok) {
    const int64_t q_dim = int64_t(n_head) * head_dim;
    double max_rel = 0;
    for (int64_t i = 0; i < n; ++i) {
        bool blank = masked;
        if (masked)
            for (int64_t j = 0; j < total; ++j) blank = blank && mask[i * total + j] == 0;
        for (int h = 0; h < n_head; ++h) {
            const float * a = out.data() + i * q_dim + int64_t(h) * head_dim;
            const float * e = ref.data() + i * q_dim + int64_t(h) * head_dim;
            double err = 0, mag = 0;
            for (int c = 0; c < head_dim; ++c) {
                if (blank) zero_rows_ok = zero_rows_ok && a[c] == 0.0f && e[c] == 0.0f;
                err = std::max(err, static_cast<double>(std::fabs(a[c] - e[c])));
                mag = std::max(mag, static_cast<double>(std::fabs(e[c])));
            }
            if (!blank) max_rel = std::max(max_rel, err / mag);
        }
    }
    return max_rel;
}

// What the generic attention (kernels.h attention_keyblocks) must equal bit for bit, written the
// direct way: one (row, head) at a time; the visible slots' scores dot(q, k_j) * scale in slot
// order; their max; exp(s - max) by exp_shifted_avx2 where the CPU has AVX2 (else std::exp);
// the sum in slot order; the weights s * (1 / sum); the output 0 plus axpy(w_j, v_j) for every
// key of nonzero weight in slot order. dot / axpy: the dispatched one-row helpers for T.
template <class T, class Dot, class Axpy>
void attention_one_by_one(float * out, const float * q, const T * k, const T * v, int64_t kv_len, int64_t n, int n_head,
                          int n_head_kv, int head_dim, const uint8_t * mask, Dot dot, Axpy axpy) {
    const int64_t total = kv_len + n, q_dim = int64_t(n_head) * head_dim, kv_dim = int64_t(n_head_kv) * head_dim;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const bool avx2 = kernel_path_supported(KERNEL_PATH_AVX2);
    for (int64_t i = 0; i < n; ++i)
        for (int h = 0; h < n_head; ++h) {
            const int64_t off = int64_t(h / (n_head / n_head_kv)) * head_dim;
            const float * qi = q + i * q_dim + int64_t(h) * head_dim;
            float * oi = out + i * q_dim + int64_t(h) * head_dim;
            std::fill(oi, oi + head_dim, 0.0f);
            std::vector<int64_t> slots;
            for (int64_t j = 0; j < (mask ? total : kv_len + i + 1); ++j)
                if (!mask || mask[i * total + j]) slots.push_back(j);
            std::vector<float> s;
            float mx = -INFINITY;
            for (int64_t j : slots) {
                s.push_back(dot(qi, k + j * kv_dim + off, head_dim) * scale);
                mx = std::max(mx, s.back());
            }
            if (mx == -INFINITY) continue;
            if (avx2) exp_shifted_avx2(s.data(), static_cast<int64_t>(s.size()), mx);
            else
                for (float & x : s) x = x == -INFINITY ? 0.0f : std::exp(x - mx);
            float sum = 0;
            for (float x : s) sum += x;
            const float inv = 1.0f / sum;
            for (size_t c = 0; c < slots.size(); ++c) {
                const float w = s[c] * inv;
                if (w != 0.0f) axpy(oi, w, v + slots[c] * kv_dim + off, head_dim);
            }
        }
}
