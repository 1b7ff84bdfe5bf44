/*
 * kernels-avx512-ops.cpp: the AVX-512 versions of the non-matmul kernels that matter for a long
 * prefill: a vector exp (Cephes polynomial, about 1 ulp), SiLU-GLU, and one attention row (one
 * query row and head against all visible slots: scores, softmax, weighted sum of V) for head_dim a
 * multiple of 16. Compiled with target attributes; kernels.cpp calls them only when supported.
 */
#include <immintrin.h>

#include <cmath>

#include "kernels.h"

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

namespace {

// exp(x) for each lane; x <= -87.3 gives ~0 (exactly 0 for -inf), x >= 88.7 gives +inf-ish.
AVX512_TARGET inline __m512 exp512(__m512 x) {
    __mmask16 zero = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-88.0f), _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.0f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~zero), _mm512_scalef_ps(p, n));
}

template <int NV>
AVX512_TARGET void attention_row_t(float * out, const float * q, const float * k, const float * v, int64_t kv_dim,
                                   int64_t limit, const uint8_t * mrow, float scale, float * scores) {
    __m512 qv[NV];
    for (int c = 0; c < NV; ++c) qv[c] = _mm512_mul_ps(_mm512_loadu_ps(q + 16 * c), _mm512_set1_ps(scale));
    float mx = -INFINITY;
    for (int64_t j = 0; j < limit; ++j) {
        if (mrow && !mrow[j]) {
            scores[j] = -INFINITY;
            continue;
        }
        const float * kj = k + j * kv_dim;
        __m512 acc = _mm512_mul_ps(qv[0], _mm512_loadu_ps(kj));
        for (int c = 1; c < NV; ++c) acc = _mm512_fmadd_ps(qv[c], _mm512_loadu_ps(kj + 16 * c), acc);
        const float s = _mm512_reduce_add_ps(acc);
        scores[j] = s;
        mx = s > mx ? s : mx;
    }
    __m512 o[NV];
    for (int c = 0; c < NV; ++c) o[c] = _mm512_setzero_ps();
    if (mx == -INFINITY) {
        for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + 16 * c, o[c]);
        return;
    }
    // exp(s - max), summed
    const __m512 mxv = _mm512_set1_ps(mx);
    __m512 sum = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= limit; j += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(scores + j), mxv));
        _mm512_storeu_ps(scores + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < limit) {
        __mmask16 m = static_cast<__mmask16>((1u << (limit - j)) - 1);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, scores + j), mxv));
        e = _mm512_maskz_mov_ps(m, e);
        _mm512_mask_storeu_ps(scores + j, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    const float inv = 1.0f / _mm512_reduce_add_ps(sum);
    for (j = 0; j < limit; ++j) {
        const float p = scores[j];
        if (p == 0.0f) continue;
        const __m512 pv = _mm512_set1_ps(p);
        const float * vj = v + j * kv_dim;
        for (int c = 0; c < NV; ++c) o[c] = _mm512_fmadd_ps(pv, _mm512_loadu_ps(vj + 16 * c), o[c]);
    }
    const __m512 iv = _mm512_set1_ps(inv);
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(o[c], iv));
}

}  // namespace

// One query row of one head. k, v: this head's slice of slot 0 (stride kv_dim between slots);
// slots [0, limit) are candidates, mrow (limit) or null filters them; scores: (limit) scratch.
bool attention_row_avx512(float * out, const float * q, const float * k, const float * v, int64_t kv_dim, int64_t limit,
                          const uint8_t * mrow, float scale, float * scores, int head_dim) {
    switch (head_dim) {
        case 32: attention_row_t<2>(out, q, k, v, kv_dim, limit, mrow, scale, scores); return true;
        case 64: attention_row_t<4>(out, q, k, v, kv_dim, limit, mrow, scale, scores); return true;
        case 80: attention_row_t<5>(out, q, k, v, kv_dim, limit, mrow, scale, scores); return true;
        case 96: attention_row_t<6>(out, q, k, v, kv_dim, limit, mrow, scale, scores); return true;
        case 128: attention_row_t<8>(out, q, k, v, kv_dim, limit, mrow, scale, scores); return true;
        default: return false;
    }
}

AVX512_TARGET void silu_glu_avx512(float * g, const float * u, int64_t len) {
    int64_t j = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; j + 16 <= len; j += 16) {
        __m512 x = _mm512_loadu_ps(g + j);
        __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_storeu_ps(g + j, _mm512_mul_ps(s, _mm512_loadu_ps(u + j)));
    }
    for (; j < len; ++j) g[j] = g[j] / (1.0f + std::exp(-g[j])) * u[j];
}

AVX512_TARGET void exp_avx512(float * x, int64_t len) {
    int64_t j = 0;
    for (; j + 16 <= len; j += 16) _mm512_storeu_ps(x + j, exp512(_mm512_loadu_ps(x + j)));
    for (; j < len; ++j) x[j] = std::exp(x[j]);
}
