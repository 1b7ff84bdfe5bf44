/*
 * tiled32.cpp: the TILED32 weight layout (kernels.h, WEIGHT_TILED32): its size, the re-layout a
 * load does once per matrix, and element lookup in either layout. Layout only: no arithmetic.
 */
#include <algorithm>
#include <cstring>

#include "kernels.h"

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
    if (weight_is_quant(w.dtype)) return quant_weight_at(w, r, k);
    const int64_t i = w.layout == WEIGHT_TILED32 ? tiled_index(w, r, k) : r * w.cols + k;
    return w.dtype == WEIGHT_BF16 ? bf16_to_f32(static_cast<const uint16_t *>(w.data)[i]) : static_cast<const float *>(w.data)[i];
}
