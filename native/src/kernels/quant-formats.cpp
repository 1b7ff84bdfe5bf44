/*
 * quant-formats.cpp: the Q8_0 / Q4_0 weight formats (kernels.h): their sizes, the load-time
 * quantization of f32/bf16 rows (the arithmetic of llama.cpp's quantize_row_q8_0 / q4_0 reference,
 * so a model quantized here holds the same blocks as llama.cpp's file of it), the per-row int8
 * quantization of activations the quantized matmul takes, f32 -> f16, and the format names.
 * Layout and rounding only; the products are in quant-ref.cpp / quant-avx2.cpp.
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels.h"

namespace {

// Values [k0, k0 + len) of row r of src's rows at p (WEIGHT_ROWS, f32 or bf16, any alignment;
// row 0 first) as f32 into v.
void source_values(const weight_matrix & src, const uint8_t * p, int64_t r, int64_t k0, int64_t len, float * v) {
    if (src.dtype == WEIGHT_BF16) {
        for (int64_t j = 0; j < len; ++j) {
            uint16_t h;
            std::memcpy(&h, p + (r * src.cols + k0 + j) * 2, 2);
            v[j] = bf16_to_f32(h);
        }
    } else {
        std::memcpy(v, p + (r * src.cols + k0) * 4, static_cast<size_t>(len) * 4);
    }
}

// roundf(x) (halfway cases away from zero) as an integer, |x| < 2^31, with no branch (so a block
// vectorizes, and random data does not mispredict): x - trunc(x) is exact, in (-1, 1), and twice
// it truncates to +-1 exactly where that fraction reaches +-0.5.
inline int32_t round_half_away(float x) {
    const int32_t t = static_cast<int32_t>(x);
    return t + static_cast<int32_t>(2.0f * (x - static_cast<float>(t)));
}
}  // namespace

uint16_t f32_to_f16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
    if (x >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: inf
    if (x < 0x38800000u) {  // below 2^-14: an f16 subnormal (or zero), in units of 2^-24
        float a;
        std::memcpy(&a, &x, 4);
        return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
    }
    x -= 112u << 23;                  // rebias the exponent (127 -> 15)
    x += 0xfffu + ((x >> 13) & 1u);   // round the 13 dropped bits to nearest even
    return static_cast<uint16_t>(sign | (x >> 13));
}

size_t weight_quant_bytes(weight_dtype d, int64_t rows, int64_t cols) {
    const int64_t groups = (rows + QUANT_GROUP_ROWS - 1) / QUANT_GROUP_ROWS;
    return static_cast<size_t>(groups * quant_blocks(cols) * quant_step_bytes(d));
}

weight_matrix weight_quant_view(weight_dtype d, int64_t rows, int64_t cols, const void * mem) {
    weight_matrix w;
    w.dtype = d;
    w.rows = rows;
    w.cols = cols;
    w.layout = WEIGHT_ROWS;
    w.data = mem;
    return w;
}

void weight_quantize_rows(const weight_matrix & src, const weight_matrix & dst, int64_t r0, int64_t r1, const void * piece) {
    const int64_t K = src.cols, nb = quant_blocks(K);
    const uint8_t * p = static_cast<const uint8_t *>(piece ? piece : src.data);
    const int64_t first = piece ? r0 : 0;  // the row p starts with
    float v[QUANT_BLOCK];
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t b = 0; b < nb; ++b) {
            const int64_t len = std::min(QUANT_BLOCK, K - b * QUANT_BLOCK);
            source_values(src, p, r - first, b * QUANT_BLOCK, len, v);
            for (int64_t j = len; j < QUANT_BLOCK; ++j) v[j] = 0.0f;
            uint8_t out[QUANT_BLOCK];
            float d;
            if (dst.dtype == WEIGHT_Q8_0) {  // d = max|v| / 127, q = round(v / d)
                float amax = 0.0f;
                for (float x : v) amax = std::max(amax, std::fabs(x));
                d = amax / 127.0f;
                const float id = d != 0.0f ? 1.0f / d : 0.0f;
                for (int j = 0; j < QUANT_BLOCK; ++j) out[j] = static_cast<uint8_t>(static_cast<int8_t>(round_half_away(v[j] * id)));
            } else {  // d = (the value of largest magnitude) / -8, q = min(15, trunc(v / d + 8.5))
                float amax = 0.0f, mx = 0.0f;
                for (float x : v)
                    if (amax < std::fabs(x)) {
                        amax = std::fabs(x);
                        mx = x;
                    }
                d = mx / -8.0f;
                const float id = d != 0.0f ? 1.0f / d : 0.0f;
                for (int j = 0; j < 16; ++j) {
                    const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(v[j] * id + 8.5f)));
                    const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(v[j + 16] * id + 8.5f)));
                    out[j] = static_cast<uint8_t>(lo | (hi << 4));
                }
            }
            for (int64_t t = 0; t < quant_block_bytes(dst.dtype); t += 4) std::memcpy(quant_byte_ptr(dst, r, b, t), out + t, 4);
            const uint16_t h = f32_to_f16(d);
            uint8_t * sp = quant_scale_ptr(dst, r, b);
            sp[0] = static_cast<uint8_t>(h & 0xff);
            sp[1] = static_cast<uint8_t>(h >> 8);
        }
}

void quantize_input_q8_tail(int8_t * q, float * xd, const float * v, int64_t len) {
    float amax = 0.0f;
    for (int64_t j = 0; j < len; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int64_t j = 0; j < QUANT_BLOCK; ++j) q[j] = j < len ? static_cast<int8_t>(std::nearbyint(v[j] * id)) : 0;
    *xd = d;
}

void quantize_input_q8(int8_t * xq, float * xd, const float * x, int64_t n, int64_t K) {
    const int64_t nb = quant_blocks(K);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t b = 0; b < nb; ++b)
            quantize_input_q8_tail(xq + (i * nb + b) * QUANT_BLOCK, xd + i * nb + b, x + i * K + b * QUANT_BLOCK,
                                   std::min<int64_t>(QUANT_BLOCK, K - b * QUANT_BLOCK));
}

bool weight_format_parse(const char * name, weight_dtype * out) {
    if (!name || std::strcmp(name, "bf16") == 0) *out = WEIGHT_BF16;
    else if (std::strcmp(name, "q8_0") == 0) *out = WEIGHT_Q8_0;
    else if (std::strcmp(name, "q4_0") == 0) *out = WEIGHT_Q4_0;
    else return false;
    return true;
}

const char * weight_dtype_name(weight_dtype d) {
    switch (d) {
        case WEIGHT_F32: return "f32";
        case WEIGHT_BF16: return "bf16";
        case WEIGHT_Q8_0: return "q8_0";
        case WEIGHT_Q4_0: return "q4_0";
    }
    return "?";
}
