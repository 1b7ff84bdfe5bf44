/*
 * quant-file.h: how a quantized folder (`slipstream quantize`, docs/engine.md "Saved quantized
 * folders") stores a Q8_0 / Q4_0 matrix (rows, cols): a U8 safetensors tensor of shape
 * (rows, blocks x file block bytes), each row its quant_blocks(cols) blocks in order, each block
 * llama.cpp's block_q8_0 / block_q4_0: the f16 scale (little-endian) then 32 int8 quants (Q8_0, 34
 * bytes) or 16 bytes of two 4-bit quants, element j in the low nibble of byte j and element j + 16
 * in its high nibble (Q4_0, 18 bytes). The file's __metadata__ names the folder's format and each
 * quantized tensor's format; config.json names the folder's format too. Here: the names, the sizes,
 * and the byte conversions between that layout and the in-memory one (kernels.h), with the checks a
 * load needs. The saving itself is in quant-save.cpp, the loading in weight-loader.cpp.
 */
#pragma once
#include <cstdint>
#include <string>

#include "kernels/kernels.h"

// __metadata__ keys: the folder's format ("q8_0" | "q4_0"), and per quantized tensor its format.
constexpr const char * QUANT_META_FOLDER = "slipstream.weights";
constexpr const char * QUANT_META_TENSOR_PREFIX = "slipstream.quant.";  // + the tensor's name
// config.json key naming the folder's format.
constexpr const char * QUANT_CONFIG_KEY = "slipstream_weights";

// Bytes of one block in a file: 2 (the f16 scale) + the quants (34 for Q8_0, 18 for Q4_0).
inline int64_t quant_file_block_bytes(weight_dtype d) { return 2 + quant_block_bytes(d); }
// Bytes of one row of a (rows, cols) matrix in a file.
inline int64_t quant_file_row_bytes(weight_dtype d, int64_t cols) { return quant_blocks(cols) * quant_file_block_bytes(d); }

// Row r of q (Q8_0 / Q4_0 in memory) in the file layout: out (quant_file_row_bytes(q.dtype, q.cols)).
void quant_row_to_file(const weight_matrix & q, int64_t r, uint8_t * out);

// Where a file's blocks are not what a quantizer writes: the first (row, block) whose scale is
// NaN or infinite, or negative in a Q8_0 block (its scale is max|v| / 127). row = -1: none.
struct quant_bad_block {
    int64_t row = -1, block = -1;
    uint16_t scale = 0;  // the f16 bits
};

// Rows [r0, r1) of a file tensor (src: those rows, row r0 first, quant_file_row_bytes(dst.dtype,
// dst.cols) each, any alignment) into dst (a weight_quant_view of zero-filled memory). Copies every
// block, and returns the first bad one of these rows (the caller names the tensor).
quant_bad_block quant_rows_from_file(const uint8_t * src, const weight_matrix & dst, int64_t r0, int64_t r1);

// A bad block as words for a message: "row R, block B: scale 0x7e00 is NaN".
std::string quant_bad_block_str(const quant_bad_block & b);
