/*
 * kernels-ref.cpp: the pure scalar kernels (no SIMD intrinsics, no dispatch, no threads). Each
 * kernel that has a fast path (matmul, attention, SiLU-GLU, dot, axpy) has its reference here,
 * which test-kernels and test-attention check the fast paths against; RMSNorm, softmax and RoPE
 * have only this one path, which every path uses. attention_ref also reads bf16 K/V. Math: docs/engine.md.
 */
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

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

// ---- matmul ------------------------------------------------------------------------------------

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
            if (w.layout != WEIGHT_ROWS) {
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

// ---- vector helpers ----------------------------------------------------------------------------

float dot_f32_ref(const float * a, const float * b, int64_t len) {
    float s = 0;
    for (int64_t k = 0; k < len; ++k) s += a[k] * b[k];
    return s;
}

void axpy_f32_ref(float * y, float a, const float * x, int64_t len) {
    for (int64_t k = 0; k < len; ++k) y[k] += a * x[k];
}

// ---- elementwise -------------------------------------------------------------------------------

void rmsnorm_ref(float * out, const float * x, const float * weight, int64_t n, int64_t dim, float eps) {
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

void silu_glu_ref(float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff) {
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

// ---- attention ---------------------------------------------------------------------------------

namespace {

// One (query row i, head h) at a time, straight from the formula:
// out[i, h] = sum_j softmax_j(q[i, h] . k[j, h / group] * scale over visible j) v[j, h / group].
// T: float or uint16_t (bf16 K/V, read through the bf16 dot / axpy).
// krow(j), vrow(j): slot j's K / V row (kv_dim elements of T), contiguous or through a block table.
template <class T, class KRow, class VRow>
void attention_ref_t(float * out, const float * q, KRow krow, VRow vrow, int64_t kv_len, int64_t n,
                     int n_head, int n_head_kv, int head_dim, const uint8_t * mask,
                     float (*dot)(const float *, const T *, int64_t), void (*axpy)(float *, float, const T *, int64_t)) {
    const int64_t total = kv_len + n;
    const int64_t q_dim = static_cast<int64_t>(n_head) * head_dim;
    const int group = n_head / n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    std::vector<float> p(static_cast<size_t>(total));
    for (int64_t i = 0; i < n; ++i)
        for (int h = 0; h < n_head; ++h) {
            const float * qi = q + i * q_dim + static_cast<int64_t>(h) * head_dim;
            const int64_t head_off = static_cast<int64_t>(h / group) * head_dim;
            float * oi = out + i * q_dim + static_cast<int64_t>(h) * head_dim;
            // p[j]: the score of slot j, -inf where row i may not attend
            for (int64_t j = 0; j < total; ++j) {
                const bool visible = mask ? mask[i * total + j] != 0 : j <= kv_len + i;
                p[j] = visible ? dot(qi, krow(j) + head_off, head_dim) * scale : -INFINITY;
            }
            softmax(p.data(), total);  // all -inf: all 0
            std::fill(oi, oi + head_dim, 0.0f);
            for (int64_t j = 0; j < total; ++j)
                if (p[j] != 0.0f) axpy(oi, p[j], vrow(j) + head_off, head_dim);
        }
}

}  // namespace

float dot_f32_bf16_ref(const float * a, const uint16_t * b, int64_t len) {
    float s = 0;
    for (int64_t k = 0; k < len; ++k) s += a[k] * bf16_to_f32(b[k]);
    return s;
}

void axpy_f32_bf16_ref(float * y, float a, const uint16_t * x, int64_t len) {
    for (int64_t k = 0; k < len; ++k) y[k] += a * bf16_to_f32(x[k]);
}

void attention_ref(float * out, const float * q, const float * k_cache, const float * v_cache, int64_t kv_len,
                   int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask) {
    const int64_t D = static_cast<int64_t>(n_head_kv) * head_dim;
    attention_ref_t<float>(out, q, [&](int64_t j) { return k_cache + j * D; }, [&](int64_t j) { return v_cache + j * D; }, kv_len,
                           n, n_head, n_head_kv, head_dim, mask, dot_f32_ref, axpy_f32_ref);
}

void attention_ref(float * out, const float * q, const uint16_t * k_cache, const uint16_t * v_cache, int64_t kv_len,
                   int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask) {
    const int64_t D = static_cast<int64_t>(n_head_kv) * head_dim;
    attention_ref_t<uint16_t>(out, q, [&](int64_t j) { return k_cache + j * D; }, [&](int64_t j) { return v_cache + j * D; },
                              kv_len, n, n_head, n_head_kv, head_dim, mask, dot_f32_bf16_ref, axpy_f32_bf16_ref);
}

void attention_paged_ref(float * out, const float * q, const kv_view<float> & k, const kv_view<float> & v, int64_t kv_len,
                         int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask) {
    const int64_t D = static_cast<int64_t>(n_head_kv) * head_dim;
    attention_ref_t<float>(out, q, [&](int64_t j) { return kv_view_row(k, j, D); }, [&](int64_t j) { return kv_view_row(v, j, D); },
                           kv_len, n, n_head, n_head_kv, head_dim, mask, dot_f32_ref, axpy_f32_ref);
}

void attention_paged_ref(float * out, const float * q, const kv_view<uint16_t> & k, const kv_view<uint16_t> & v,
                         int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask) {
    const int64_t D = static_cast<int64_t>(n_head_kv) * head_dim;
    attention_ref_t<uint16_t>(out, q, [&](int64_t j) { return kv_view_row(k, j, D); },
                              [&](int64_t j) { return kv_view_row(v, j, D); }, kv_len, n, n_head, n_head_kv, head_dim, mask,
                              dot_f32_bf16_ref, axpy_f32_bf16_ref);
}

const char * kv_dtype_name(kv_dtype d) { return d == KV_BF16 ? "bf16" : "f32"; }

bool kv_dtype_parse(const char * name, kv_dtype * out) {
    if (!name) return false;
    if (std::strcmp(name, "f32") == 0) *out = KV_F32;
    else if (std::strcmp(name, "bf16") == 0) *out = KV_BF16;
    else return false;
    return true;
}
