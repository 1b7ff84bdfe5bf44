/*
 * quant-file.cpp: the byte conversions between a quantized folder's block layout (llama.cpp's
 * block_q8_0 / block_q4_0 per row, quant-file.h) and the engine's in-memory layout (kernels.h:
 * groups of 16 rows, each block the rows' quants in 4-byte pieces, then their 16 scales). No
 * arithmetic on the values: a matrix saved and loaded again holds the very bytes the load-time
 * quantization made.
 */
#include "quant-file.h"

#include <cstdio>
#include <cstring>

void quant_row_to_file(const weight_matrix & q, int64_t r, uint8_t * out) {
    const int64_t nb = quant_blocks(q.cols), qb = quant_block_bytes(q.dtype);
    for (int64_t b = 0; b < nb; ++b) {
        uint8_t * o = out + b * (2 + qb);
        std::memcpy(o, quant_scale_ptr(q, r, b), 2);
        for (int64_t t = 0; t < qb; t += 4) std::memcpy(o + 2 + t, quant_byte_ptr(q, r, b, t), 4);
    }
}

quant_bad_block quant_rows_from_file(const uint8_t * src, const weight_matrix & dst, int64_t r0, int64_t r1) {
    const int64_t nb = quant_blocks(dst.cols), qb = quant_block_bytes(dst.dtype), row_bytes = quant_file_row_bytes(dst.dtype, dst.cols);
    quant_bad_block bad;
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t * row = src + (r - r0) * row_bytes;
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t * in = row + b * (2 + qb);
            const uint16_t h = static_cast<uint16_t>(in[0] | (in[1] << 8));
            const bool not_finite = (h & 0x7c00u) == 0x7c00u;
            const bool negative_q8 = dst.dtype == WEIGHT_Q8_0 && (h & 0x8000u) != 0;
            if ((not_finite || negative_q8) && bad.row < 0) {
                bad.row = r;
                bad.block = b;
                bad.scale = h;
            }
            std::memcpy(quant_scale_ptr(dst, r, b), in, 2);
            for (int64_t t = 0; t < qb; t += 4) std::memcpy(quant_byte_ptr(dst, r, b, t), in + 2 + t, 4);
        }
    }
    return bad;
}

std::string quant_bad_block_str(const quant_bad_block & b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%04x", b.scale);
    const char * what = (b.scale & 0x7c00u) != 0x7c00u ? "negative (a Q8_0 scale is max|v| / 127)"
                        : (b.scale & 0x03ffu) != 0   ? "NaN"
                                                     : "infinite";
    return "row " + std::to_string(b.row) + ", block " + std::to_string(b.block) + ": scale " + hex + " is " + what;
}
