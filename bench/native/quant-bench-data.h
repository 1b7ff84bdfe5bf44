/*
 * quant-bench-data.h: the quantized-kernel micro-benchmark's (quant-kernel.cpp) data: random
 * weights, a matrix quantized to q8_0 / q4_0, random activations quantized to the int8 blocks the
 * kernels take (its stopwatch: stopwatch.h).
 */
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "stopwatch.h"

// (rows, cols) f32 weights drawn from N(0, 1) with rng.
inline std::vector<float> random_weights(std::mt19937 & rng, int64_t rows, int64_t cols) {
    std::normal_distribution<float> nd(0, 1);
    std::vector<float> wf(static_cast<size_t>(rows * cols));
    for (auto & v : wf) v = nd(rng);
    return wf;
}

// wf: (rows, cols) f32, quantized to d in mem (resized here); returns the view of it.
inline weight_matrix quantized_matrix(weight_dtype d, const std::vector<float> & wf, int64_t rows, int64_t cols,
                                      std::vector<uint8_t> & mem) {
    mem.assign(weight_quant_bytes(d, rows, cols) + 64, 0);
    const weight_matrix w = weight_quant_view(d, rows, cols, mem.data());
    weight_matrix src;
    src.rows = rows;
    src.cols = cols;
    src.data = wf.data();
    weight_quantize_rows(src, w, 0, rows);
    return w;
}

// n random activation rows of cols, as int8 blocks: xq (n, quant_blocks(cols) * 32), xd (n, quant_blocks(cols)).
inline void quantized_inputs(std::mt19937 & rng, int64_t n, int64_t cols, std::vector<int8_t> & xq, std::vector<float> & xd) {
    std::normal_distribution<float> nd(0, 1);
    std::vector<float> x(static_cast<size_t>(n * cols));
    for (auto & v : x) v = nd(rng);
    const int64_t nb = quant_blocks(cols);
    xq.assign(static_cast<size_t>(n * nb * 32), 0);
    xd.assign(static_cast<size_t>(n * nb), 0.0f);
    quantize_input_q8_avx2(xq.data(), xd.data(), x.data(), n, cols);
}
