/*
 * attention-avx2.cpp: the generic attention's two inner loops over many keys at once, on AVX2.
 *   dots:  s[j] = q . k[j] for count key rows, four side by side (independent FMA chains, q loaded
 *          once per step for four keys);
 *   axpys: y += a[j] * x[j] for count value rows in order j, the output held in registers across
 *          all rows (64 floats at a time) instead of loaded and stored once per row.
 * Each result is bit-equal to the one-row helpers (dot_f32_avx2 / dot_f32_bf16_avx2, and successive
 * axpy_f32_avx2 / axpy_f32_bf16_avx2 calls): every lane sees the same FMAs in the same order and
 * the same horizontal sum; only independent chains are interleaved. Rows whose length is not a
 * multiple of 8 go to the one-row helpers (their scalar tails are theirs alone).
 */
#include <immintrin.h>

#include "avx2-hsum.h"
#include "kernels.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))

namespace {

AVX2_TARGET inline __m256 load8(const float * p) { return _mm256_loadu_ps(p); }
AVX2_TARGET inline __m256 load8(const uint16_t * p) { return load_bf16x8(p); }

inline float dot1(const float * q, const float * k, int64_t len) { return dot_f32_avx2(q, k, len); }
inline float dot1(const float * q, const uint16_t * k, int64_t len) { return dot_f32_bf16_avx2(q, k, len); }
inline void axpy1(float * y, float a, const float * x, int64_t len) { axpy_f32_avx2(y, a, x, len); }
inline void axpy1(float * y, float a, const uint16_t * x, int64_t len) { axpy_f32_bf16_avx2(y, a, x, len); }

// q: (len), k: count rows of (len) T, each at k[j] + off; s: (count).
template <class T>
AVX2_TARGET void dots(float * s, const float * q, const T * const * k, int64_t off, int64_t count, int64_t len) {
    int64_t j = 0;
    if (len % 8 == 0) {
        for (; j + 4 <= count; j += 4) {
            const T *k0 = k[j] + off, *k1 = k[j + 1] + off, *k2 = k[j + 2] + off, *k3 = k[j + 3] + off;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int64_t c = 0; c < len; c += 8) {
                const __m256 qv = _mm256_loadu_ps(q + c);
                a0 = _mm256_fmadd_ps(qv, load8(k0 + c), a0);
                a1 = _mm256_fmadd_ps(qv, load8(k1 + c), a1);
                a2 = _mm256_fmadd_ps(qv, load8(k2 + c), a2);
                a3 = _mm256_fmadd_ps(qv, load8(k3 + c), a3);
            }
            s[j] = hsum_avx2(a0);
            s[j + 1] = hsum_avx2(a1);
            s[j + 2] = hsum_avx2(a2);
            s[j + 3] = hsum_avx2(a3);
        }
    }
    for (; j < count; ++j) s[j] = dot1(q, k[j] + off, len);
}

// y: (len); a: (count); x: count rows of (len) T, each at x[j] + off.
template <class T>
AVX2_TARGET void axpys(float * y, const float * a, const T * const * x, int64_t off, int64_t count, int64_t len) {
    if (len % 8 != 0) {
        for (int64_t j = 0; j < count; ++j) axpy1(y, a[j], x[j] + off, len);
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
    for (; c < len; c += 8) {
        __m256 o = _mm256_loadu_ps(y + c);
        for (int64_t j = 0; j < count; ++j) o = _mm256_fmadd_ps(_mm256_set1_ps(a[j]), load8(x[j] + off + c), o);
        _mm256_storeu_ps(y + c, o);
    }
}

}  // namespace

void dots_f32_avx2(float * s, const float * q, const float * const * k, int64_t off, int64_t count, int64_t len) {
    dots(s, q, k, off, count, len);
}
void dots_f32_bf16_avx2(float * s, const float * q, const uint16_t * const * k, int64_t off, int64_t count, int64_t len) {
    dots(s, q, k, off, count, len);
}
void axpys_f32_avx2(float * y, const float * a, const float * const * x, int64_t off, int64_t count, int64_t len) {
    axpys(y, a, x, off, count, len);
}
void axpys_f32_bf16_avx2(float * y, const float * a, const uint16_t * const * x, int64_t off, int64_t count, int64_t len) {
    axpys(y, a, x, off, count, len);
}
