/*
 * weight-layouts.cpp: the tiled weight layouts (kernels.h, WEIGHT_TILED32 and WEIGHT_TILED4X16):
 * their sizes, the re-layout a load does once per matrix, and element and row lookup in any layout.
 * Layout only: no arithmetic. Both tiled layouts are the same scheme (groups of G rows, columns in
 * steps of P, each step G x P values), with their own G and P.
 */
#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace {
inline size_t element_bytes(weight_dtype d) { return d == WEIGHT_BF16 ? 2 : 4; }

// Index of element (r, k) of a tiled matrix, in elements from its start.
inline int64_t tiled_index(const weight_matrix & w, int64_t r, int64_t k) {
    const int64_t G = weight_layout_group_rows(w.layout), P = weight_layout_step(w.layout, w.dtype);
    const int64_t steps = weight_padded_cols(w) / P;
    return ((r / G) * steps + k / P) * G * P + (r % G) * P + k % P;
}
}  // namespace

size_t weight_tiled_bytes(const weight_matrix & src, weight_layout layout) {
    weight_matrix t = src;
    t.layout = layout;
    const int64_t G = weight_layout_group_rows(layout);
    const int64_t rows_p = (src.rows + G - 1) / G * G;
    return static_cast<size_t>(rows_p * weight_padded_cols(t)) * element_bytes(src.dtype);
}

weight_matrix weight_tile(const weight_matrix & src, weight_layout layout, void * dst, int64_t r0, int64_t r1, const void * piece) {
    weight_matrix out = src;
    out.layout = layout;
    out.data = dst;
    if (r1 < 0 || r1 > src.rows) r1 = src.rows;
    const int64_t G = weight_layout_group_rows(layout), P = weight_layout_step(layout, src.dtype), K = src.cols;
    const size_t es = element_bytes(src.dtype);
    const uint8_t * s = static_cast<const uint8_t *>(piece ? piece : src.data);
    const int64_t first = piece ? r0 : 0;  // the row s starts with
    uint8_t * d = static_cast<uint8_t *>(dst);
    // step by step, so the writes go in order; each row contributes P values per step
    for (int64_t g = r0 / G * G; g < r1; g += G) {
        const int64_t ra = std::max(g, r0), rb = std::min(g + G, r1);
        for (int64_t k = 0; k < K; k += P) {
            const size_t len = static_cast<size_t>(std::min(P, K - k)) * es;
            for (int64_t r = ra; r < rb; ++r) std::memcpy(d + tiled_index(out, r, k) * es, s + ((r - first) * K + k) * es, len);
        }
    }
    return out;
}

float weight_at(const weight_matrix & w, int64_t r, int64_t k) {
    if (weight_is_quant(w.dtype)) return quant_weight_at(w, r, k);
    const int64_t i = w.layout == WEIGHT_ROWS ? r * w.cols + k : tiled_index(w, r, k);
    return w.dtype == WEIGHT_BF16 ? bf16_to_f32(static_cast<const uint16_t *>(w.data)[i]) : static_cast<const float *>(w.data)[i];
}

void weight_row_f32(const weight_matrix & w, int64_t r, float * out) {
    const int64_t K = w.cols;
    if (weight_is_quant(w.dtype) || w.layout == WEIGHT_TILED32) {  // 1 or 2 values a step: element by element
        for (int64_t k = 0; k < K; ++k) out[k] = weight_at(w, r, k);
        return;
    }
    if (w.dtype == WEIGHT_F32 && w.layout == WEIGHT_ROWS) {
        std::memcpy(out, static_cast<const float *>(w.data) + r * K, static_cast<size_t>(K) * sizeof(float));
        return;
    }
    // a row's values are contiguous within each step (ROWS: one step of K)
    const int64_t P = w.layout == WEIGHT_ROWS ? K : weight_layout_step(w.layout, w.dtype);
    for (int64_t k = 0; k < K; k += P) {
        const int64_t len = std::min(P, K - k), i = w.layout == WEIGHT_ROWS ? r * K : tiled_index(w, r, k);
        if (w.dtype == WEIGHT_BF16) {
            const uint16_t * p = static_cast<const uint16_t *>(w.data) + i;
            for (int64_t j = 0; j < len; ++j) out[k + j] = bf16_to_f32(p[j]);
        } else {
            std::memcpy(out + k, static_cast<const float *>(w.data) + i, static_cast<size_t>(len) * sizeof(float));
        }
    }
}
