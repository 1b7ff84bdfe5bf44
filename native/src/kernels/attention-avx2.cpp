/*
 * attention-avx2.cpp: the generic attention's inner loops (attention-keyblocks.cpp) on AVX2.
 *   dots:   s[i, j] = q_i . k_j for a block of keys widened to f32: two queries x four keys (one
 *           query x eight keys for the last odd one) as eight independent FMA chains, the queries
 *           and keys loaded once per step for all of them, and the eight horizontal sums done
 *           together (hsum8_avx2); with AVX-512VL's 32 registers four queries x four keys first;
 *   axpys:  y += a[j] * x[j] for count value rows in order j, the output held in registers across
 *           all rows (64 floats at a time, then the row's remaining 8-float chunks side by side)
 *           instead of loaded and stored once per row; axpys2: two outputs at once, each value
 *           row loaded (and widened) once for both, 64 floats of each at a time with AVX-512VL's
 *           32 registers, 32 with AVX2's 16;
 *   widen:  a block's bf16 rows to f32, 8 at a time;
 *   softmax passes: the scores scaled and their max in one pass, the weights' 1 / sum product.
 * dots and axpys also read bf16 rows straight from the cache (the _bf16 versions: each 8 values
 * widened in a register as they are loaded, exactly as the widening would), for tasks of so few
 * queries that a widened copy is written and read back for little reuse.
 * The AVX-512VL versions are the same 256-bit operations (compiled with more registers). Each
 * result is bit-equal to the one-row helpers (dot_f32_avx2, successive axpy_f32_avx2 calls; their
 * _bf16 forms for rows read in place): every lane sees the same FMAs in the same order and the
 * same additions in its horizontal sum; only independent chains are interleaved. Rows whose length is not a multiple of 8 go to the one-row
 * helpers (their scalar tails are theirs alone).
 */
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "avx2-hsum.h"
#include "kernels.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))
// The same operations with 32 vector registers (the 4 x 4 and two-output loops need them).
#define AVX512VL_TARGET __attribute__((target("avx2,fma,avx512f,avx512vl")))

namespace {

// 8 values of a key or value row, as f32: loaded, or bf16 widened on the way in.
AVX2_TARGET __attribute__((always_inline)) inline __m256 load8(const float * p) { return _mm256_loadu_ps(p); }
AVX2_TARGET __attribute__((always_inline)) inline __m256 load8(const uint16_t * p) { return load_bf16x8(p); }
// The one-row helpers the loops stand for (and run where a row is not a multiple of 8 long).
inline float dot_row(const float * q, const float * k, int64_t hd) { return dot_f32_avx2(q, k, hd); }
inline float dot_row(const float * q, const uint16_t * k, int64_t hd) { return dot_f32_bf16_avx2(q, k, hd); }
inline void axpy_row(float * y, float a, const float * x, int64_t len) { axpy_f32_avx2(y, a, x, len); }
inline void axpy_row(float * y, float a, const uint16_t * x, int64_t len) { axpy_f32_bf16_avx2(y, a, x, len); }

// A block's keys: widened f32 rows (row j at kb + j * hd), or bf16 rows in the cache (rows[j] + off).
struct widened_keys {
    const float * kb;
    int64_t hd;
    const float * operator()(int64_t j) const { return kb + j * hd; }
};
struct bf16_keys {
    const uint16_t * const * rows;
    int64_t off;
    const uint16_t * operator()(int64_t j) const { return rows[j] + off; }
};

// Lane i = hsum_avx2(a_i) for i < 8: the same additions with the same operands
// (((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), avx2-hsum.h), done for eight vectors at once.
AVX2_TARGET __attribute__((always_inline)) inline __m256 hsum8_avx2(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4,
                                                                    __m256 a5, __m256 a6, __m256 a7) {
    // p_i = [a_i's four sums l_k + l_(k+4) | a_(i+4)'s]
    const __m256 p0 = _mm256_add_ps(_mm256_permute2f128_ps(a0, a4, 0x20), _mm256_permute2f128_ps(a0, a4, 0x31));
    const __m256 p1 = _mm256_add_ps(_mm256_permute2f128_ps(a1, a5, 0x20), _mm256_permute2f128_ps(a1, a5, 0x31));
    const __m256 p2 = _mm256_add_ps(_mm256_permute2f128_ps(a2, a6, 0x20), _mm256_permute2f128_ps(a2, a6, 0x31));
    const __m256 p3 = _mm256_add_ps(_mm256_permute2f128_ps(a3, a7, 0x20), _mm256_permute2f128_ps(a3, a7, 0x31));
    // per half: (m0 + m2), (m1 + m3) of two vectors side by side
    const __m256 r0 = _mm256_add_ps(_mm256_shuffle_ps(p0, p1, 0x44), _mm256_shuffle_ps(p0, p1, 0xEE));
    const __m256 r1 = _mm256_add_ps(_mm256_shuffle_ps(p2, p3, 0x44), _mm256_shuffle_ps(p2, p3, 0xEE));
    return _mm256_add_ps(_mm256_shuffle_ps(r0, r1, 0x88), _mm256_shuffle_ps(r0, r1, 0xDD));
}

// Two queries x keys j..j+3: lanes 0-3 = q0 . k_j..j+3, lanes 4-7 = q1 . k_j..j+3.
template <class Keys>
AVX2_TARGET __attribute__((always_inline)) inline __m256 dots_2x4(const float * q0, const float * q1, const Keys & keys, int64_t j,
                                                                  int64_t hd) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    const auto *k0 = keys(j), *k1 = keys(j + 1), *k2 = keys(j + 2), *k3 = keys(j + 3);
    for (int64_t c = 0; c < hd; c += 8) {
        const __m256 x0 = load8(k0 + c), x1 = load8(k1 + c), x2 = load8(k2 + c), x3 = load8(k3 + c);
        const __m256 u = _mm256_loadu_ps(q0 + c), w = _mm256_loadu_ps(q1 + c);
        a0 = _mm256_fmadd_ps(u, x0, a0);
        a1 = _mm256_fmadd_ps(u, x1, a1);
        a2 = _mm256_fmadd_ps(u, x2, a2);
        a3 = _mm256_fmadd_ps(u, x3, a3);
        a4 = _mm256_fmadd_ps(w, x0, a4);
        a5 = _mm256_fmadd_ps(w, x1, a5);
        a6 = _mm256_fmadd_ps(w, x2, a6);
        a7 = _mm256_fmadd_ps(w, x3, a7);
    }
    return hsum8_avx2(a0, a1, a2, a3, a4, a5, a6, a7);
}

// One query x keys j..j+7: lane b = q . k_(j+b).
template <class Keys>
AVX2_TARGET __attribute__((always_inline)) inline __m256 dots_1x8(const float * q, const Keys & keys, int64_t j, int64_t hd) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    const auto *k0 = keys(j), *k1 = keys(j + 1), *k2 = keys(j + 2), *k3 = keys(j + 3), *k4 = keys(j + 4), *k5 = keys(j + 5),
               *k6 = keys(j + 6), *k7 = keys(j + 7);
    for (int64_t c = 0; c < hd; c += 8) {
        const __m256 u = _mm256_loadu_ps(q + c);
        a0 = _mm256_fmadd_ps(u, load8(k0 + c), a0);
        a1 = _mm256_fmadd_ps(u, load8(k1 + c), a1);
        a2 = _mm256_fmadd_ps(u, load8(k2 + c), a2);
        a3 = _mm256_fmadd_ps(u, load8(k3 + c), a3);
        a4 = _mm256_fmadd_ps(u, load8(k4 + c), a4);
        a5 = _mm256_fmadd_ps(u, load8(k5 + c), a5);
        a6 = _mm256_fmadd_ps(u, load8(k6 + c), a6);
        a7 = _mm256_fmadd_ps(u, load8(k7 + c), a7);
    }
    return hsum8_avx2(a0, a1, a2, a3, a4, a5, a6, a7);
}

// y (8 R floats) += a[j] * (x[j] + off)[0..8 R) over all rows j, the R chunks' FMA chains side by
// side (a head_dim of 32 is 4 chains, not one chain per chunk after another: the FMA's latency
// no longer sets the pace).
template <int R, class T>
AVX2_TARGET __attribute__((always_inline)) inline void axpys_chunks(float * y, const float * a, const T * const * x, int64_t off,
                                                                    int64_t count) {
    __m256 o[R];
    for (int u = 0; u < R; ++u) o[u] = _mm256_loadu_ps(y + 8 * u);
    for (int64_t j = 0; j < count; ++j) {
        const __m256 av = _mm256_set1_ps(a[j]);
        const T * xr = x[j] + off;
        for (int u = 0; u < R; ++u) o[u] = _mm256_fmadd_ps(av, load8(xr + 8 * u), o[u]);
    }
    for (int u = 0; u < R; ++u) _mm256_storeu_ps(y + 8 * u, o[u]);
}

// axpys_chunks for the last len floats of a row, len a multiple of 8 below 64 (0: nothing).
template <class T>
AVX2_TARGET inline void axpys_rest(float * y, const float * a, const T * const * x, int64_t off, int64_t count, int64_t len) {
    switch (len / 8) {
        case 1: axpys_chunks<1, T>(y, a, x, off, count); break;
        case 2: axpys_chunks<2, T>(y, a, x, off, count); break;
        case 3: axpys_chunks<3, T>(y, a, x, off, count); break;
        case 4: axpys_chunks<4, T>(y, a, x, off, count); break;
        case 5: axpys_chunks<5, T>(y, a, x, off, count); break;
        case 6: axpys_chunks<6, T>(y, a, x, off, count); break;
        case 7: axpys_chunks<7, T>(y, a, x, off, count); break;
        default: break;
    }
}

// y: (len); a: (count); x: count rows of (len) values, each at x[j] + off.
template <class T>
AVX2_TARGET void axpys(float * y, const float * a, const T * const * x, int64_t off, int64_t count, int64_t len) {
    if (len % 8 != 0) {
        for (int64_t j = 0; j < count; ++j) axpy_row(y, a[j], x[j] + off, len);
        return;
    }
    int64_t c = 0;
    for (; c + 64 <= len; c += 64) {
        __m256 o0 = _mm256_loadu_ps(y + c), o1 = _mm256_loadu_ps(y + c + 8), o2 = _mm256_loadu_ps(y + c + 16),
               o3 = _mm256_loadu_ps(y + c + 24), o4 = _mm256_loadu_ps(y + c + 32), o5 = _mm256_loadu_ps(y + c + 40),
               o6 = _mm256_loadu_ps(y + c + 48), o7 = _mm256_loadu_ps(y + c + 56);
        for (int64_t j = 0; j < count; ++j) {
            const __m256 av = _mm256_set1_ps(a[j]);
            const T * xr = x[j] + off + c;
            o0 = _mm256_fmadd_ps(av, load8(xr), o0);
            o1 = _mm256_fmadd_ps(av, load8(xr + 8), o1);
            o2 = _mm256_fmadd_ps(av, load8(xr + 16), o2);
            o3 = _mm256_fmadd_ps(av, load8(xr + 24), o3);
            o4 = _mm256_fmadd_ps(av, load8(xr + 32), o4);
            o5 = _mm256_fmadd_ps(av, load8(xr + 40), o5);
            o6 = _mm256_fmadd_ps(av, load8(xr + 48), o6);
            o7 = _mm256_fmadd_ps(av, load8(xr + 56), o7);
        }
        _mm256_storeu_ps(y + c, o0);
        _mm256_storeu_ps(y + c + 8, o1);
        _mm256_storeu_ps(y + c + 16, o2);
        _mm256_storeu_ps(y + c + 24, o3);
        _mm256_storeu_ps(y + c + 32, o4);
        _mm256_storeu_ps(y + c + 40, o5);
        _mm256_storeu_ps(y + c + 48, o6);
        _mm256_storeu_ps(y + c + 56, o7);
    }
    axpys_rest<T>(y + c, a, x, off + c, count, len - c);
}

// Four queries x four keys into s (rows i..i+3 at stride lds, keys j..j+3): sixteen chains, for
// CPUs with 32 vector registers (AVX-512VL; the same 256-bit operations).
template <class Keys>
AVX2_TARGET __attribute__((always_inline)) inline void dots_4x4(float * s, int64_t lds, const float * const * q, const Keys & keys,
                                                                int64_t j, int64_t hd) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m256 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    const auto *k0 = keys(j), *k1 = keys(j + 1), *k2 = keys(j + 2), *k3 = keys(j + 3);
    const float *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3];
    for (int64_t c = 0; c < hd; c += 8) {
        const __m256 x0 = load8(k0 + c), x1 = load8(k1 + c), x2 = load8(k2 + c), x3 = load8(k3 + c);
        __m256 u = _mm256_loadu_ps(q0 + c);
        a00 = _mm256_fmadd_ps(u, x0, a00), a01 = _mm256_fmadd_ps(u, x1, a01), a02 = _mm256_fmadd_ps(u, x2, a02),
        a03 = _mm256_fmadd_ps(u, x3, a03);
        u = _mm256_loadu_ps(q1 + c);
        a10 = _mm256_fmadd_ps(u, x0, a10), a11 = _mm256_fmadd_ps(u, x1, a11), a12 = _mm256_fmadd_ps(u, x2, a12),
        a13 = _mm256_fmadd_ps(u, x3, a13);
        u = _mm256_loadu_ps(q2 + c);
        a20 = _mm256_fmadd_ps(u, x0, a20), a21 = _mm256_fmadd_ps(u, x1, a21), a22 = _mm256_fmadd_ps(u, x2, a22),
        a23 = _mm256_fmadd_ps(u, x3, a23);
        u = _mm256_loadu_ps(q3 + c);
        a30 = _mm256_fmadd_ps(u, x0, a30), a31 = _mm256_fmadd_ps(u, x1, a31), a32 = _mm256_fmadd_ps(u, x2, a32),
        a33 = _mm256_fmadd_ps(u, x3, a33);
    }
    const __m256 r01 = hsum8_avx2(a00, a01, a02, a03, a10, a11, a12, a13);
    const __m256 r23 = hsum8_avx2(a20, a21, a22, a23, a30, a31, a32, a33);
    _mm_storeu_ps(s, _mm256_castps256_ps128(r01));
    _mm_storeu_ps(s + lds, _mm256_extractf128_ps(r01, 1));
    _mm_storeu_ps(s + 2 * lds, _mm256_castps256_ps128(r23));
    _mm_storeu_ps(s + 3 * lds, _mm256_extractf128_ps(r23, 1));
}

// The loops over queries and keys; Wide: four queries at a time first (32 registers).
template <bool Wide, class Keys>
AVX2_TARGET __attribute__((always_inline)) inline void dots_block(float * s, int64_t lds, const float * const * q, int64_t nq,
                                                                  const Keys & keys, int64_t count, int64_t hd) {
    if (hd % 8 != 0) {
        for (int64_t i = 0; i < nq; ++i)
            for (int64_t j = 0; j < count; ++j) s[i * lds + j] = dot_row(q[i], keys(j), hd);
        return;
    }
    int64_t i = 0;
    if (Wide)
        for (; i + 4 <= nq; i += 4) {
            float * s0 = s + i * lds;
            int64_t j = 0;
            for (; j + 4 <= count; j += 4) dots_4x4(s0 + j, lds, q + i, keys, j, hd);
            for (; j < count; ++j)
                for (int a = 0; a < 4; ++a) s0[a * lds + j] = dot_row(q[i + a], keys(j), hd);
        }
    for (; i + 2 <= nq; i += 2) {
        float * s0 = s + i * lds;
        float * s1 = s0 + lds;
        int64_t j = 0;
        for (; j + 4 <= count; j += 4) {
            const __m256 r = dots_2x4(q[i], q[i + 1], keys, j, hd);
            _mm_storeu_ps(s0 + j, _mm256_castps256_ps128(r));
            _mm_storeu_ps(s1 + j, _mm256_extractf128_ps(r, 1));
        }
        for (; j < count; ++j) {
            s0[j] = dot_row(q[i], keys(j), hd);
            s1[j] = dot_row(q[i + 1], keys(j), hd);
        }
    }
    if (i < nq) {
        float * s0 = s + i * lds;
        int64_t j = 0;
        for (; j + 8 <= count; j += 8) _mm256_storeu_ps(s0 + j, dots_1x8(q[i], keys, j, hd));
        for (; j < count; ++j) s0[j] = dot_row(q[i], keys(j), hd);
    }
}

// Two outputs' 8 R floats (R < 8) as axpys_chunks, each value chunk loaded once for both: 2 R
// chains side by side (R <= 4 fits AVX2's 16 registers: 8 outputs, the chunk, two weights).
template <int R, class T>
AVX2_TARGET __attribute__((always_inline)) inline void axpys_2_chunks(float * y0, float * y1, const float * a0, const float * a1,
                                                                      const T * const * x, int64_t off, int64_t count) {
    __m256 o[R], p[R];
    for (int u = 0; u < R; ++u) o[u] = _mm256_loadu_ps(y0 + 8 * u), p[u] = _mm256_loadu_ps(y1 + 8 * u);
    for (int64_t j = 0; j < count; ++j) {
        const __m256 w0 = _mm256_set1_ps(a0[j]), w1 = _mm256_set1_ps(a1[j]);
        const T * xr = x[j] + off;
        for (int u = 0; u < R; ++u) {
            __m256 v = load8(xr + 8 * u);
            __asm__("" : "+v"(v));  // one load for both FMAs
            o[u] = _mm256_fmadd_ps(w0, v, o[u]);
            p[u] = _mm256_fmadd_ps(w1, v, p[u]);
        }
    }
    for (int u = 0; u < R; ++u) _mm256_storeu_ps(y0 + 8 * u, o[u]), _mm256_storeu_ps(y1 + 8 * u, p[u]);
}

// Two outputs y0, y1 += a0[j] * x[j], a1[j] * x[j] for j in order (rows at x[j] + off), each value
// row loaded once for both: sixteen output registers and eight value registers, for CPUs with 32
// (AVX-512VL). Each output gets exactly successive axpy_f32_avx2's FMAs. len: a multiple of 8.
template <class T>
AVX2_TARGET __attribute__((always_inline)) inline void axpys_2(float * y0, float * y1, const float * a0, const float * a1,
                                                               const T * const * x, int64_t off, int64_t count, int64_t len) {
    int64_t c = 0;
    for (; c + 64 <= len; c += 64) {
        __m256 o[8], p[8];
        for (int u = 0; u < 8; ++u) o[u] = _mm256_loadu_ps(y0 + c + 8 * u), p[u] = _mm256_loadu_ps(y1 + c + 8 * u);
        for (int64_t j = 0; j < count; ++j) {
            const __m256 w0 = _mm256_set1_ps(a0[j]), w1 = _mm256_set1_ps(a1[j]);
            const T * xr = x[j] + off + c;
            for (int u = 0; u < 8; ++u) {
                __m256 v = load8(xr + 8 * u);
                __asm__("" : "+v"(v));  // one load for both FMAs (folded into each, it would be two)
                o[u] = _mm256_fmadd_ps(w0, v, o[u]);
                p[u] = _mm256_fmadd_ps(w1, v, p[u]);
            }
        }
        for (int u = 0; u < 8; ++u) _mm256_storeu_ps(y0 + c + 8 * u, o[u]), _mm256_storeu_ps(y1 + c + 8 * u, p[u]);
    }
    switch ((len - c) / 8) {
        case 1: axpys_2_chunks<1, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        case 2: axpys_2_chunks<2, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        case 3: axpys_2_chunks<3, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        case 4: axpys_2_chunks<4, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        case 5: axpys_2_chunks<5, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        case 6: axpys_2_chunks<6, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        case 7: axpys_2_chunks<7, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
        default: break;
    }
}

}  // namespace

AVX2_TARGET void attention_dots_avx2(float * s, int64_t lds, const float * const * q, int64_t nq, const float * kb,
                                     int64_t count, int64_t hd) {
    dots_block<false>(s, lds, q, nq, widened_keys{kb, hd}, count, hd);
}

AVX512VL_TARGET void attention_dots_avx512vl(float * s, int64_t lds, const float * const * q, int64_t nq, const float * kb,
                                             int64_t count, int64_t hd) {
    dots_block<true>(s, lds, q, nq, widened_keys{kb, hd}, count, hd);
}

AVX2_TARGET void attention_dots_bf16_avx2(float * s, int64_t lds, const float * const * q, int64_t nq,
                                          const uint16_t * const * rows, int64_t off, int64_t count, int64_t hd) {
    dots_block<false>(s, lds, q, nq, bf16_keys{rows, off}, count, hd);
}

AVX512VL_TARGET void attention_dots_bf16_avx512vl(float * s, int64_t lds, const float * const * q, int64_t nq,
                                                  const uint16_t * const * rows, int64_t off, int64_t count, int64_t hd) {
    dots_block<true>(s, lds, q, nq, bf16_keys{rows, off}, count, hd);
}

void axpys_f32_avx2(float * y, const float * a, const float * const * x, int64_t off, int64_t count, int64_t len) {
    axpys(y, a, x, off, count, len);
}

void axpys_bf16_avx2(float * y, const float * a, const uint16_t * const * x, int64_t off, int64_t count, int64_t len) {
    axpys(y, a, x, off, count, len);
}

AVX2_TARGET void attention_widen_bf16_avx2(float * dst, const uint16_t * const * rows, int64_t off, int64_t count, int64_t hd) {
    for (int64_t j = 0; j < count; ++j) {
        const uint16_t * r = rows[j] + off;
        float * d = dst + j * hd;
        int64_t c = 0;
        for (; c + 8 <= hd; c += 8) _mm256_storeu_ps(d + c, load_bf16x8(r + c));
        for (; c < hd; ++c) d[c] = bf16_to_f32(r[c]);
    }
}

AVX2_TARGET float attention_scale_max_avx2(float * s, int64_t len, float scale) {
    const __m256 a = _mm256_set1_ps(scale);
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    int64_t j = 0;
    // max(x, m) is m where x is NaN: NaN scores are passed over, as std::max(m, x) does
    for (; j + 16 <= len; j += 16) {
        const __m256 x0 = _mm256_mul_ps(_mm256_loadu_ps(s + j), a), x1 = _mm256_mul_ps(_mm256_loadu_ps(s + j + 8), a);
        _mm256_storeu_ps(s + j, x0), _mm256_storeu_ps(s + j + 8, x1);
        m0 = _mm256_max_ps(x0, m0), m1 = _mm256_max_ps(x1, m1);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_max_ps(m0, m1));
    float mx = -INFINITY;
    for (float l : lanes) mx = std::max(mx, l);
    for (; j < len; ++j) {
        s[j] *= scale;
        mx = std::max(mx, s[j]);
    }
    return mx;
}

AVX2_TARGET void attention_scale_avx2(float * s, int64_t len, float a) {
    const __m256 av = _mm256_set1_ps(a);
    int64_t j = 0;
    for (; j + 8 <= len; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), av));
    for (; j < len; ++j) s[j] *= a;
}

namespace {
// Two outputs over the same rows (rows not a multiple of 8 long: two axpys). Wide: 64 floats of
// each at a time (axpys_2, AVX-512VL's 32 registers); else 32 at a time (AVX2's 16), the row's lanes
// in turn: a lane's sum does not depend on which lanes share its pass (each output lane gets
// axpys's FMAs in key order), so the same bits either way.
template <bool Wide, class T>
AVX2_TARGET __attribute__((always_inline)) inline void axpys2_body(float * y0, float * y1, const float * a0, const float * a1,
                                                                   const T * const * x, int64_t off, int64_t count, int64_t len) {
    if (len % 8 != 0) {
        axpys(y0, a0, x, off, count, len);
        axpys(y1, a1, x, off, count, len);
        return;
    }
    if constexpr (Wide) {
        axpys_2(y0, y1, a0, a1, x, off, count, len);
    } else {
        int64_t c = 0;
        for (; c + 32 <= len; c += 32) axpys_2_chunks<4, T>(y0 + c, y1 + c, a0, a1, x, off + c, count);
        switch ((len - c) / 8) {
            case 1: axpys_2_chunks<1, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
            case 2: axpys_2_chunks<2, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
            case 3: axpys_2_chunks<3, T>(y0 + c, y1 + c, a0, a1, x, off + c, count); break;
            default: break;
        }
    }
}
}  // namespace

AVX512VL_TARGET void axpys2_f32_avx512vl(float * y0, float * y1, const float * a0, const float * a1, const float * const * x,
                                         int64_t off, int64_t count, int64_t len) {
    axpys2_body<true>(y0, y1, a0, a1, x, off, count, len);
}

AVX512VL_TARGET void axpys2_bf16_avx512vl(float * y0, float * y1, const float * a0, const float * a1, const uint16_t * const * x,
                                          int64_t off, int64_t count, int64_t len) {
    axpys2_body<true>(y0, y1, a0, a1, x, off, count, len);
}

AVX2_TARGET void axpys2_f32_avx2(float * y0, float * y1, const float * a0, const float * a1, const float * const * x, int64_t off,
                                 int64_t count, int64_t len) {
    axpys2_body<false>(y0, y1, a0, a1, x, off, count, len);
}

AVX2_TARGET void axpys2_bf16_avx2(float * y0, float * y1, const float * a0, const float * a1, const uint16_t * const * x,
                                  int64_t off, int64_t count, int64_t len) {
    axpys2_body<false>(y0, y1, a0, a1, x, off, count, len);
}
