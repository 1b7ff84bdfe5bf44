/*
 * quant-ref.cpp: the scalar reference of the quantized matmul (kernels.h, matmul_rows_quant_ref)
 * and element lookup in a Q8_0 / Q4_0 matrix. The reference spells out the exact operation
 * sequence the SIMD paths perform, so they must equal it bit for bit (docs/engine.md, "Quantized
 * weights"): per output, 8 f32 lanes; block b adds d_b * s_{b,l} to lane l with one fused
 * multiply-add, where d_b = scale_w * scale_x (an f32 product) and s_{b,l} is the exact integer
 * sum of the block's elements 4l..4l+3; the lanes are then summed in AVX2 hsum order.
 */
#include <cmath>

#include "kernels.h"

namespace {
// Weight element j (0..31) of block b of row r, as the integer the format stores (minus 8 for Q4_0).
inline int quant_element(const weight_matrix & w, int64_t r, int64_t b, int j) {
    const uint8_t * q = quant_block(w, r, b);
    if (w.dtype == WEIGHT_Q8_0) return static_cast<int8_t>(q[j]);
    const uint8_t byte = q[j & 15];
    return (j < 16 ? (byte & 15) : (byte >> 4)) - 8;
}
}  // namespace

float quant_weight_at(const weight_matrix & w, int64_t r, int64_t k) {
    const int64_t b = k / QUANT_BLOCK;
    return f16_to_f32(quant_scale(w, r, b)) * static_cast<float>(quant_element(w, r, b, static_cast<int>(k % QUANT_BLOCK)));
}

void matmul_rows_quant_ref(float * y, int64_t ldy, const int8_t * xq, const float * xd, int64_t n, const weight_matrix & w,
                           const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < n; ++i) {
            float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int64_t b = 0; b < nb; ++b) {
                const float d = f16_to_f32(quant_scale(w, r, b)) * xd[i * nb + b];
                const int8_t * x = xq + (i * nb + b) * QUANT_BLOCK;
                for (int l = 0; l < 8; ++l) {
                    int s = 0;
                    for (int j = 4 * l; j < 4 * l + 4; ++j) s += quant_element(w, r, b, j) * x[j];
                    lane[l] = std::fma(d, static_cast<float>(s), lane[l]);
                }
            }
            const float sum = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
            y[i * ldy + r] = sum + (bias ? bias[r] : 0.0f);
        }
}
