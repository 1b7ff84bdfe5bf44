/*
 * test-kernels.cpp: every matmul path this CPU supports (AVX-512 with BF16 dot products, AVX2),
 * on plain and TILED32 (re-laid out) matrices, equals the plain reference path, for f32 and bf16 weights, N = 1..70 inputs (tile remainders),
 * widths that are not multiples of the vector length, biases and row strides; plus RMSNorm,
 * softmax, RoPE and attention against direct formulas.
 */
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/thread-pool.h"
#include "kernels/kernels.h"
#include "test-util.h"

namespace {

std::vector<float> randn(size_t n, std::mt19937 & rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto & x : v) x = d(rng);
    return v;
}

void check_matmul(kernel_path path, weight_dtype dt, int64_t rows, int64_t cols, int64_t n, bool bias, thread_pool * pool,
                  std::mt19937 & rng, bool tiled) {
    std::vector<float> wf = randn(static_cast<size_t>(rows * cols), rng, 0.1f);
    std::vector<uint16_t> wb(wf.size());
    for (size_t i = 0; i < wf.size(); ++i) wb[i] = f32_to_bf16(wf[i]);
    weight_matrix w;
    w.rows = rows;
    w.cols = cols;
    w.dtype = dt;
    w.data = dt == WEIGHT_F32 ? static_cast<const void *>(wf.data()) : static_cast<const void *>(wb.data());
    std::vector<float> x = randn(static_cast<size_t>(n * cols), rng);
    std::vector<float> b = randn(static_cast<size_t>(rows), rng);
    const int64_t ldy = rows + 3;  // a row stride wider than the output
    std::vector<float> y_ref(static_cast<size_t>(n * ldy), -7.0f), y(static_cast<size_t>(n * ldy), -7.0f);
    matmul(y_ref.data(), ldy, x.data(), n, w, bias ? b.data() : nullptr, nullptr, KERNEL_PATH_REF);
    // the TILED32 copy (the layout the model uses on AVX-512 machines) when this path reads it
    std::vector<uint8_t> tiled_buf;
    weight_matrix wt = w;
    if (tiled && path == KERNEL_PATH_AVX512 && weight_tiling_preferred(dt)) {
        tiled_buf.resize(weight_tiled_bytes(w));
        wt = weight_tile(w, tiled_buf.data());
        for (int64_t r = 0; r < rows; r += 7)
            for (int64_t k = 0; k < cols; k += 5) CHECK(weight_at(wt, r, k) == weight_at(w, r, k));
    }
    matmul(y.data(), ldy, x.data(), n, wt, bias ? b.data() : nullptr, pool, path);
    double max_err = 0, max_ref = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t r = 0; r < ldy; ++r) {
            float a = y[i * ldy + r], e = y_ref[i * ldy + r];
            if (r >= rows) {
                CHECK(a == -7.0f);  // padding untouched
                continue;
            }
            max_err = std::max(max_err, static_cast<double>(std::fabs(a - e)));
            max_ref = std::max(max_ref, static_cast<double>(std::fabs(e)));
        }
    // only the summation order differs: f32 accumulation over `cols` terms
    const double tol = 2e-6 * std::sqrt(static_cast<double>(cols)) * (max_ref + 1.0);
    if (!(max_err <= tol))
        std::fprintf(stderr, "path %d dtype %d%s rows %lld cols %lld n %lld: max err %g > %g\n", path, dt,
                     wt.layout == WEIGHT_TILED32 ? " tiled" : "", (long long)rows, (long long)cols, (long long)n, max_err, tol);
    CHECK(max_err <= tol);
}

// A matrix smaller than a tile group whose data ends at an inaccessible page: re-laying out rows
// [0, r1) with r1 past its last row (as a load split in halves asks for small matrices) must read
// only its own rows, and pad the rest of the group with zeros.
void check_tile_stays_inside_source() {
    const long page = sysconf(_SC_PAGESIZE);
    uint8_t * mem = static_cast<uint8_t *>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    CHECK(mem != MAP_FAILED);
    CHECK(mprotect(mem + page, page, PROT_NONE) == 0);
    const int64_t rows = 5, cols = 6;
    uint16_t * src = reinterpret_cast<uint16_t *>(mem + page) - rows * cols;  // ends at the guard page
    for (int64_t i = 0; i < rows * cols; ++i) src[i] = f32_to_bf16(static_cast<float>(i + 1));
    weight_matrix w;
    w.rows = rows;
    w.cols = cols;
    w.dtype = WEIGHT_BF16;
    w.data = src;
    std::vector<uint8_t> dst(weight_tiled_bytes(w), 0);
    const weight_matrix t = weight_tile(w, dst.data(), 0, WEIGHT_GROUP_ROWS);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < cols; ++k) CHECK(weight_at(t, r, k) == static_cast<float>(r * cols + k + 1));
    for (int64_t r = rows; r < WEIGHT_GROUP_ROWS; ++r) CHECK(weight_at(t, r, 0) == 0.0f);
    munmap(mem, 2 * page);
}

}  // namespace

int main() {
    check_tile_stays_inside_source();
    std::mt19937 rng(42);
    thread_pool pool(2);
    const kernel_path paths[] = {KERNEL_PATH_AVX2, KERNEL_PATH_AVX512};
    std::fprintf(stderr, "best path: %s\n", kernel_best_path_name());
    int tested_paths = 0;
    for (kernel_path path : paths) {
        if (!kernel_path_supported(path)) {
            std::fprintf(stderr, "path %d not supported here: skipped\n", path);
            continue;
        }
        ++tested_paths;
        for (weight_dtype dt : {WEIGHT_F32, WEIGHT_BF16})
            for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 25, 33, 64, 70})
                for (auto rc : {std::pair<int64_t, int64_t>{1, 1}, {5, 17}, {37, 64}, {64, 96}, {131, 200}, {300, 1000}})
                    for (bool tiled : {false, true})
                        check_matmul(path, dt, rc.first, rc.second, n, (n + rc.first) % 2 == 0, n % 3 == 0 ? &pool : nullptr,
                                     rng, tiled);
    }
    CHECK(tested_paths > 0 || std::string(kernel_best_path_name()) == "ref");

    // bf16 rounding: round to nearest even
    CHECK(f32_to_bf16(1.0f) == 0x3f80);
    CHECK(bf16_to_f32(f32_to_bf16(1.00390625f)) == 1.0f);       // halfway, rounds to even (down)
    CHECK(bf16_to_f32(f32_to_bf16(1.01171875f)) == 1.015625f);  // halfway, rounds to even (up)
    CHECK(f16_to_f32(0x3c00) == 1.0f);
    CHECK(f16_to_f32(0xc000) == -2.0f);
    CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));

    // rmsnorm
    std::vector<float> x = {1, 2, 3, 4}, w = {1, 0.5f, 2, 1}, out(4);
    rmsnorm(out.data(), x.data(), w.data(), 1, 4, 0.0f);
    const float inv = 1.0f / std::sqrt(30.0f / 4.0f);
    for (int i = 0; i < 4; ++i) CHECK_CLOSE(out[i], x[i] * inv * w[i], 1e-6);

    // softmax
    std::vector<float> sm = {1, 2, 3};
    softmax(sm.data(), 3);
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK_CLOSE(sm[2], std::exp(3.0) / z, 1e-6);

    // rope: rotate_half pairs (i, i + d/2) by position * inv_freq[i]
    std::vector<float> q = {1, 0, 0, 1};  // one head, head_dim 4
    std::vector<float> inv_freq = {1.0f, 0.5f};
    int32_t pos = 2;
    rope_apply(q.data(), 4, 1, 1, 4, &pos, inv_freq.data());
    CHECK_CLOSE(q[0], std::cos(2.0), 1e-6);
    CHECK_CLOSE(q[2], std::sin(2.0), 1e-6);
    CHECK_CLOSE(q[1], -std::sin(1.0), 1e-6);
    CHECK_CLOSE(q[3], std::cos(1.0), 1e-6);

    // attention: one query over 3 slots, mask hides the middle one; GQA 2 heads over 1 kv head
    const int hd = 2;
    std::vector<float> K = {1, 0, 0, 1, 1, 1}, V = {1, 2, 3, 4, 5, 6};  // (3 slots, 1 kv head * 2)
    std::vector<float> qa = {1, 0, 0, 1};                               // (1, 2 heads * 2)
    std::vector<float> att(4);
    uint8_t mask[3] = {1, 0, 1};
    attention(att.data(), qa.data(), K.data(), V.data(), 2, 1, 2, 1, hd, mask, nullptr);
    const double s = 1.0 / std::sqrt(2.0);
    // head 0: scores (1, -, 1) * s -> equal weights over slots 0 and 2
    CHECK_CLOSE(att[0], 3.0, 1e-5);
    CHECK_CLOSE(att[1], 4.0, 1e-5);
    // head 1: scores (0, -, 1) * s
    const double p0 = 1.0 / (1.0 + std::exp(s)), p2 = 1.0 - p0;
    CHECK_CLOSE(att[2], p0 * 1 + p2 * 5, 1e-5);
    CHECK_CLOSE(att[3], p0 * 2 + p2 * 6, 1e-5);
    return test_summary("test-kernels");
}
