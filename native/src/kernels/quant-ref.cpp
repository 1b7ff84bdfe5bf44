/*
 * quant-ref.cpp: the scalar reference of the quantized matmul (kernels.h, matmul_rows_quant_ref)
 * and element lookup in a Q8_0 / Q4_0 matrix. The reference spells out the exact operation
 * sequence the SIMD paths perform, so they must equal it bit for bit (docs/engine.md, "Quantized
 * weights"): per output one f32 accumulator; block b adds d_b * s_b with one fused multiply-add,
 * where d_b = scale_w * scale_x (an f32 product) and s_b is the block's exact integer dot product.
 * Also the activations' block offsets (quant_input_offsets) the SIMD kernels start from, and the
 * packing of both for the AVX-512 VNNI kernel (quant_pack_inputs, quant_pack_offsets).
 */
#include <cmath>
#include <cstring>

#include "kernels.h"

namespace {
// Weight element j (0..31) of block b of row r, as the integer the format stores (minus 8 for Q4_0).
inline int quant_element(const weight_matrix & w, int64_t r, int64_t b, int j) {
    if (w.dtype == WEIGHT_Q8_0) return static_cast<int8_t>(*quant_byte_ptr(w, r, b, j));
    const uint8_t byte = *quant_byte_ptr(w, r, b, j & 15);
    return (j < 16 ? (byte & 15) : (byte >> 4)) - 8;
}
}  // namespace

float quant_weight_at(const weight_matrix & w, int64_t r, int64_t k) {
    const int64_t b = k / QUANT_BLOCK;
    return f16_to_f32(quant_scale(w, r, b)) * static_cast<float>(quant_element(w, r, b, static_cast<int>(k % QUANT_BLOCK)));
}

void quant_input_offsets(int32_t * xc, const int8_t * xq, int64_t n, int64_t K, int32_t c) {
    const int64_t blocks = n * quant_blocks(K);
    for (int64_t b = 0; b < blocks; ++b) {
        int32_t s = 0;
        for (int64_t j = 0; j < QUANT_BLOCK; ++j) s += xq[b * QUANT_BLOCK + j];
        xc[b] = -c * s;
    }
}

void quant_pack_inputs(int32_t * q, float * d, const int8_t * xq, const float * xd, int64_t n, int64_t i0, int64_t i1, int64_t nb) {
    const int64_t P = quant_pack_width(n);
    for (int64_t i = i0; i < i1; ++i) {
        const int64_t t = i / P, c = i % P;
        for (int64_t b = 0; b < nb; ++b) {
            const int64_t tb = t * nb + b;
            for (int64_t p = 0; p < QUANT_PIECES; ++p) std::memcpy(q + (tb * QUANT_PIECES + p) * P + c, xq + (i * nb + b) * QUANT_BLOCK + 4 * p, 4);
            d[tb * P + c] = xd[i * nb + b];
        }
    }
}

void quant_pack_offsets(int32_t * o, const int32_t * xc, int64_t n, int64_t i0, int64_t i1, int64_t nb) {
    const int64_t P = quant_pack_width(n);
    for (int64_t i = i0; i < i1; ++i)
        for (int64_t b = 0; b < nb; ++b) o[((i / P) * nb + b) * P + i % P] = xc[i * nb + b];
}

void matmul_rows_quant_ref(float * y, int64_t ldy, const int8_t * xq, const float * xd, int64_t n, const weight_matrix & w,
                           const float * bias, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(w.cols);
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < n; ++i) {
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; ++b) {
                const float d = f16_to_f32(quant_scale(w, r, b)) * xd[i * nb + b];
                const int8_t * x = xq + (i * nb + b) * QUANT_BLOCK;
                int s = 0;
                for (int j = 0; j < QUANT_BLOCK; ++j) s += quant_element(w, r, b, j) * x[j];
                acc = std::fma(d, static_cast<float>(s), acc);
            }
            y[i * ldy + r] = acc + (bias ? bias[r] : 0.0f);
        }
}
