/*
 * exp-poly.h: the constants of the vector exp both SIMD paths use (exp512 in
 * kernels-avx512-ops.cpp, exp256 in exp-avx2.cpp): Cephes' expf. exp(x) = 2^n e^r with
 * n = round(x log2 e), r = x - n ln 2 (ln 2 in two parts so r is exact), and
 * e^r ~ 1 + r + r^2 (P0 r^5 + P1 r^4 + ... + P5) on |r| <= ln 2 / 2 (about 1 ulp).
 * Inputs are clamped to [EXP_MIN, EXP_MAX]; below EXP_MIN the result is 0.
 */
#pragma once

constexpr float EXP_MIN = -88.0f;
constexpr float EXP_MAX = 88.7f;
constexpr float EXP_LOG2E = 1.44269504088896341f;
constexpr float EXP_LN2_HI = 0.693359375f;
constexpr float EXP_LN2_LO = -2.12194440e-4f;
constexpr float EXP_P0 = 1.9875691500E-4f;
constexpr float EXP_P1 = 1.3981999507E-3f;
constexpr float EXP_P2 = 8.3334519073E-3f;
constexpr float EXP_P3 = 4.1665795894E-2f;
constexpr float EXP_P4 = 1.6666665459E-1f;
constexpr float EXP_P5 = 5.0000001201E-1f;
