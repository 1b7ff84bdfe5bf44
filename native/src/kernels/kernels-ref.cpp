/*
 * kernels-ref.cpp: the plain reference kernels (no SIMD intrinsics): the matmul every SIMD path is
 * tested against, plus RMSNorm, softmax, SiLU-GLU, RoPE and masked attention, which are cheap
 * enough next to the matmuls that the compiler's code is used in every path. Math: docs/engine.md.
 */
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/thread-pool.h"
#include "kernels.h"

float f16_to_f32(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t u;
    if (exp == 0) {
        if (mant == 0) {
            u = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            u = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (mant << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// y[i, r] = sum_k x[i, k] * W[r, k] + bias[r], accumulated in double. For bf16 weights x is rounded
// to bf16 first (the invariant in kernels.h).
void matmul_rows_ref(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w,
                     const float * bias, int64_t r0, int64_t r1) {
    const int64_t K = w.cols;
    std::vector<float> xr(static_cast<size_t>(K));
    for (int64_t i = 0; i < n; ++i) {
        const float * xi = x + i * K;
        for (int64_t k = 0; k < K; ++k) xr[k] = w.dtype == WEIGHT_BF16 ? bf16_to_f32(f32_to_bf16(xi[k])) : xi[k];
        for (int64_t r = r0; r < r1; ++r) {
            double acc = 0;
            if (w.layout == WEIGHT_TILED32) {
                for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(weight_at(w, r, k)) * xr[k];
            } else if (w.dtype == WEIGHT_F32) {
                const float * wr = static_cast<const float *>(w.data) + r * K;
                for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(wr[k]) * xr[k];
            } else {
                const uint16_t * wr = static_cast<const uint16_t *>(w.data) + r * K;
                for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(bf16_to_f32(wr[k])) * xr[k];
            }
            y[i * ldy + r] = static_cast<float>(acc + (bias ? bias[r] : 0.0f));
        }
    }
}

// ---- tiled layout --------------------------------------------------------------------------------

namespace {
inline int64_t tiled_index(const weight_matrix & w, int64_t r, int64_t k) {
    const int64_t p = weight_step(w.dtype), steps = weight_padded_cols(w) / p, G = WEIGHT_GROUP_ROWS;
    return ((r / G) * steps + k / p) * G * p + (r % G) * p + k % p;
}
}  // namespace

size_t weight_tiled_bytes(const weight_matrix & src) {
    const int64_t rows_p = (src.rows + WEIGHT_GROUP_ROWS - 1) / WEIGHT_GROUP_ROWS * WEIGHT_GROUP_ROWS;
    return static_cast<size_t>(rows_p * weight_padded_cols(src)) * (src.dtype == WEIGHT_BF16 ? 2 : 4);
}

weight_matrix weight_tile(const weight_matrix & src, void * dst, int64_t r0, int64_t r1) {
    weight_matrix out = src;
    out.layout = WEIGHT_TILED32;
    out.data = dst;
    if (r1 < 0 || r1 > src.rows) r1 = src.rows;
    const int64_t p = weight_step(src.dtype), K = src.cols;
    const size_t es = src.dtype == WEIGHT_BF16 ? 2 : 4;
    const uint8_t * s = static_cast<const uint8_t *>(src.data);
    uint8_t * d = static_cast<uint8_t *>(dst);
    // step by step, so the writes go in order; each row contributes p values per step
    for (int64_t g = r0 / WEIGHT_GROUP_ROWS * WEIGHT_GROUP_ROWS; g < r1; g += WEIGHT_GROUP_ROWS) {
        const int64_t ra = std::max(g, r0), rb = std::min(g + WEIGHT_GROUP_ROWS, r1);
        for (int64_t k = 0; k < K; k += p) {
            const size_t len = static_cast<size_t>(std::min(p, K - k)) * es;
            for (int64_t r = ra; r < rb; ++r) std::memcpy(d + tiled_index(out, r, k) * es, s + (r * K + k) * es, len);
        }
    }
    return out;
}

float weight_at(const weight_matrix & w, int64_t r, int64_t k) {
    const int64_t i = w.layout == WEIGHT_TILED32 ? tiled_index(w, r, k) : r * w.cols + k;
    return w.dtype == WEIGHT_BF16 ? bf16_to_f32(static_cast<const uint16_t *>(w.data)[i]) : static_cast<const float *>(w.data)[i];
}

// ---- elementwise -------------------------------------------------------------------------------

void rmsnorm(float * out, const float * x, const float * weight, int64_t n, int64_t dim, float eps) {
    for (int64_t i = 0; i < n; ++i) {
        const float * xi = x + i * dim;
        float * oi = out + i * dim;
        double ss = 0;
        for (int64_t j = 0; j < dim; ++j) ss += static_cast<double>(xi[j]) * xi[j];
        // HF: x * rsqrt(mean(x^2) + eps) in float32, then * weight
        float inv = 1.0f / std::sqrt(static_cast<float>(ss / dim) + eps);
        for (int64_t j = 0; j < dim; ++j) oi[j] = weight[j] * (xi[j] * inv);
    }
}

void softmax(float * x, int64_t len) {
    float mx = -INFINITY;
    for (int64_t j = 0; j < len; ++j) mx = std::max(mx, x[j]);
    if (mx == -INFINITY) {
        for (int64_t j = 0; j < len; ++j) x[j] = 0;
        return;
    }
    double sum = 0;
    for (int64_t j = 0; j < len; ++j) {
        x[j] = std::exp(x[j] - mx);
        sum += x[j];
    }
    float inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < len; ++j) x[j] *= inv;
}

void silu_glu(float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff) {
    if (silu_glu_fast(gate, ld_gate, up, ld_up, n, ff)) return;
    for (int64_t i = 0; i < n; ++i) {
        float * g = gate + i * ld_gate;
        const float * u = up + i * ld_up;
        for (int64_t j = 0; j < ff; ++j) g[j] = g[j] / (1.0f + std::exp(-g[j])) * u[j];
    }
}

// HF rotate_half: for each head, (x1, x2) = (x[:d/2], x[d/2:]); out = (x1 cos - x2 sin, x2 cos + x1 sin)
// with angle = position * inv_freq[i] (float32, as HF computes it).
void rope_tables(int64_t n, int head_dim, const int32_t * positions, const float * inv_freq, float * cos_out, float * sin_out) {
    const int half = head_dim / 2;
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < half; ++j) {
            float angle = static_cast<float>(positions[i]) * inv_freq[j];
            cos_out[i * half + j] = static_cast<float>(std::cos(static_cast<double>(angle)));
            sin_out[i * half + j] = static_cast<float>(std::sin(static_cast<double>(angle)));
        }
}

void rope_apply_tables(float * x, int64_t ld, int64_t n, int n_heads, int head_dim, const float * cos_t, const float * sin_t) {
    const int half = head_dim / 2;
    for (int64_t i = 0; i < n; ++i) {
        const float * cs = cos_t + i * half;
        const float * sn = sin_t + i * half;
        for (int h = 0; h < n_heads; ++h) {
            float * v = x + i * ld + static_cast<int64_t>(h) * head_dim;
            for (int j = 0; j < half; ++j) {
                float a = v[j], b = v[j + half];
                v[j] = a * cs[j] - b * sn[j];
                v[j + half] = b * cs[j] + a * sn[j];
            }
        }
    }
}

void rope_apply(float * x, int64_t ld, int64_t n, int n_heads, int head_dim, const int32_t * positions,
                const float * inv_freq) {
    std::vector<float> cs(static_cast<size_t>(n * (head_dim / 2))), sn(cs.size());
    rope_tables(n, head_dim, positions, inv_freq, cs.data(), sn.data());
    rope_apply_tables(x, ld, n, n_heads, head_dim, cs.data(), sn.data());
}

void attention_ref(float * out, const float * q, const float * k_cache, const float * v_cache, int64_t kv_len,
                   int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool) {
    const int64_t total = kv_len + n;
    const int64_t kv_dim = static_cast<int64_t>(n_head_kv) * head_dim;
    const int64_t q_dim = static_cast<int64_t>(n_head) * head_dim;
    const int group = n_head / n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const int64_t n_tasks = n * n_head;
    auto task = [&](int64_t t) {
        const int64_t i = t / n_head;
        const int h = static_cast<int>(t % n_head);
        const int hk = h / group;
        const float * qi = q + i * q_dim + static_cast<int64_t>(h) * head_dim;
        float * oi = out + i * q_dim + static_cast<int64_t>(h) * head_dim;
        thread_local std::vector<float> scores;
        scores.resize(static_cast<size_t>(total));
        const uint8_t * mrow = mask ? mask + i * total : nullptr;
        const int64_t limit = mask ? total : kv_len + i + 1;
        float mx = -INFINITY;
        for (int64_t j = 0; j < limit; ++j) {
            if (mrow && !mrow[j]) {
                scores[j] = -INFINITY;
                continue;
            }
            float s = dot_f32(qi, k_cache + j * kv_dim + static_cast<int64_t>(hk) * head_dim, head_dim) * scale;
            scores[j] = s;
            mx = std::max(mx, s);
        }
        std::fill(oi, oi + head_dim, 0.0f);
        if (mx == -INFINITY) return;  // nothing visible
        float sum = 0;
        for (int64_t j = 0; j < limit; ++j) {
            float e = scores[j] == -INFINITY ? 0.0f : std::exp(scores[j] - mx);
            scores[j] = e;
            sum += e;
        }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < limit; ++j) {
            float p = scores[j] * inv;
            if (p == 0.0f) continue;
            axpy_f32(oi, p, v_cache + j * kv_dim + static_cast<int64_t>(hk) * head_dim, head_dim);
        }
    };
    const bool small = static_cast<double>(n_tasks) * static_cast<double>(total) * head_dim < 65536.0;
    if (!pool || pool->n_threads() == 1 || n_tasks < 2 || small) {
        for (int64_t t = 0; t < n_tasks; ++t) task(t);
        return;
    }
    pool->parallel_for(static_cast<int>(n_tasks), [&](int t, int) { task(t); });
}
