/*
 * test-kernels.cpp: every fast path this CPU supports against the pure scalar reference
 * (kernels-ref.cpp): matmul (AVX-512 with BF16 dot products, AVX2; plain and TILED32 matrices, f32
 * and bf16, N = 1..70 inputs, odd widths, biases, row strides; each input alone equals its row of
 * the batch bit for bit), dot, axpy, SiLU-GLU and the bf16
 * rounding, each with its tolerance and why; RMSNorm, softmax, RoPE and attention against direct
 * formulas; the AVX2 exp (SiLU-GLU, the softmax's numerators) against double exp, and SiLU-GLU's
 * thread split bit for bit; SLIPSTREAM_CPU_ISA's cap. The attention kernels against attention_ref:
 * test-attention.cpp.
 */
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread-pool.h"
#include "kernels/kernels.h"
#include "test-util.h"

namespace {

// layout: ROWS, or the tiled copy the model uses on some CPUs (TILED32 on AVX-512 machines,
// TILED4X16 for bf16 on AVX2 ones), checked element by element and then multiplied.
void check_matmul(kernel_path path, weight_dtype dt, int64_t rows, int64_t cols, int64_t n, bool bias, thread_pool * pool,
                  std::mt19937 & rng, weight_layout layout) {
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
    std::vector<uint8_t> tiled_buf;
    weight_matrix wt = w;
    if (layout != WEIGHT_ROWS) {
        tiled_buf.resize(weight_tiled_bytes(w, layout));
        wt = weight_tile(w, layout, tiled_buf.data());
        CHECK(wt.layout == layout);
        for (int64_t r = 0; r < rows; r += 7)
            for (int64_t k = 0; k < cols; k += 5) CHECK(weight_at(wt, r, k) == weight_at(w, r, k));
        std::vector<float> row(static_cast<size_t>(cols)), row_tiled(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; r += 3) {
            weight_row_f32(w, r, row.data());
            weight_row_f32(wt, r, row_tiled.data());
            CHECK(row == row_tiled);
            CHECK(row[static_cast<size_t>(cols - 1)] == weight_at(w, r, cols - 1));
        }
    }
    matmul(y.data(), ldy, x.data(), n, wt, bias ? b.data() : nullptr, pool, path);
    // TILED4X16 runs the row-major kernel's arithmetic: the same bits as ROWS on the same path
    // (except where the AVX512-BF16 kernel takes ROWS bf16 matrices)
    if (layout == WEIGHT_TILED4X16 && !(path == KERNEL_PATH_AVX512 && std::strcmp(kernel_best_path_name(), "avx512bf16") == 0)) {
        std::vector<float> y_rows(static_cast<size_t>(n * ldy), -7.0f);
        matmul(y_rows.data(), ldy, x.data(), n, w, bias ? b.data() : nullptr, pool, path);
        CHECK(std::memcmp(y_rows.data(), y.data(), y.size() * sizeof(float)) == 0);
    }
    // the AVX2 kernel on row ranges that start and end inside 4-row groups (matmul's own split
    // starts at multiples of 32): the same bits
    if (layout == WEIGHT_TILED4X16 && kernel_path_supported(KERNEL_PATH_AVX2) && rows > 2) {
        std::vector<uint16_t> xb(x.size());
        for (size_t k = 0; k < x.size(); ++k) xb[k] = f32_to_bf16(x[k]);
        std::vector<float> y_split(static_cast<size_t>(n * ldy), -7.0f);
        const int64_t cuts[] = {0, 1, rows / 2 | 1, rows};
        for (int c = 0; c + 1 < 4; ++c)
            matmul_rows_avx2(y_split.data(), ldy, x.data(), xb.data(), n, wt, bias ? b.data() : nullptr, cuts[c], cuts[c + 1]);
        std::vector<float> y_rows(static_cast<size_t>(n * ldy), -7.0f);
        matmul_rows_avx2(y_rows.data(), ldy, x.data(), xb.data(), n, w, bias ? b.data() : nullptr, 0, rows);
        CHECK(std::memcmp(y_rows.data(), y_split.data(), y_rows.size() * sizeof(float)) == 0);
    }
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
                     wt.layout == WEIGHT_TILED32 ? " TILED32" : wt.layout == WEIGHT_TILED4X16 ? " TILED4X16" : "", (long long)rows, (long long)cols, (long long)n, max_err, tol);
    CHECK(max_err <= tol);
    // batch invariance (the tile shapes differ with the number of inputs: on AVX2 4 rows x 1 input
    // alone, 4 x 2 in a batch; on AVX-512 TILED32 two 32-row groups x 1 input alone, one group x up
    // to 12 inputs in a batch): each input alone gives its batch row bit for bit
    if (n > 1)
        for (int64_t i = 0; i < n; i += 3) {
            std::vector<float> y1(static_cast<size_t>(ldy), -7.0f);
            matmul(y1.data(), ldy, x.data() + i * cols, 1, wt, bias ? b.data() : nullptr, pool, path);
            CHECK(std::memcmp(y1.data(), y.data() + i * ldy, static_cast<size_t>(rows) * sizeof(float)) == 0);
        }
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
    for (weight_layout layout : {WEIGHT_TILED32, WEIGHT_TILED4X16}) {
        std::vector<uint8_t> dst(weight_tiled_bytes(w, layout), 0);
        const weight_matrix t = weight_tile(w, layout, dst.data(), 0, WEIGHT_GROUP_ROWS);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < cols; ++k) CHECK(weight_at(t, r, k) == static_cast<float>(r * cols + k + 1));
        // the padding: rows to the group, columns to the step
        const int64_t G = weight_layout_group_rows(layout), Kp = weight_padded_cols(t);
        CHECK(dst.size() == static_cast<size_t>((rows + G - 1) / G * G * Kp * 2));
        for (int64_t r = rows; r < (rows + G - 1) / G * G; ++r) CHECK(weight_at(t, r, 0) == 0.0f);
        for (int64_t k = cols; k < Kp; ++k) CHECK(weight_at(t, 0, k) == 0.0f);
    }
    munmap(mem, 2 * page);
}


// Worst-case bound on the difference of two f32 sums of the same len terms in different orders
// (each within gamma_len * sum |terms| of the exact sum, gamma_len ~ len * 2^-24).
double sum_order_bound(int64_t len, double abs_sum) { return 2.0 * static_cast<double>(len + 1) * std::ldexp(1.0, -24) * abs_sum; }

// dot_f32_<path> vs dot_f32_ref: the same products summed in another order (SIMD lanes, FMA).
void check_dot(float (*fast)(const float *, const float *, int64_t), const char * name, std::mt19937 & rng) {
    for (int64_t len : {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000}) {
        const std::vector<float> a = randn(static_cast<size_t>(len), rng), b = randn(static_cast<size_t>(len), rng);
        double abs_sum = 0;
        for (int64_t k = 0; k < len; ++k) abs_sum += std::fabs(static_cast<double>(a[k]) * b[k]);
        const double err = std::fabs(static_cast<double>(fast(a.data(), b.data(), len)) - dot_f32_ref(a.data(), b.data(), len));
        if (!(err <= sum_order_bound(len, abs_sum))) std::fprintf(stderr, "%s len %lld: err %g\n", name, (long long)len, err);
        CHECK(err <= sum_order_bound(len, abs_sum));
    }
}

// axpy_f32_<path> vs axpy_f32_ref: y + a*x with one rounding (FMA) vs two (multiply, then add), so
// each element differs by at most one rounding of a*x and one of the sum: 2^-24 (|a x| + |y + a x|) each.
void check_axpy(void (*fast)(float *, float, const float *, int64_t), const char * name, std::mt19937 & rng) {
    for (int64_t len : {1, 5, 8, 15, 16, 17, 40, 129}) {
        const std::vector<float> x = randn(static_cast<size_t>(len), rng), y0 = randn(static_cast<size_t>(len), rng);
        const float a = 0.37f;
        std::vector<float> y_fast = y0, y_ref = y0;
        fast(y_fast.data(), a, x.data(), len);
        axpy_f32_ref(y_ref.data(), a, x.data(), len);
        for (int64_t k = 0; k < len; ++k) {
            const double ax = std::fabs(static_cast<double>(a) * x[k]);
            const double tol = std::ldexp(1.0, -23) * (ax + std::fabs(static_cast<double>(y_ref[k])) + ax);
            if (!(std::fabs(y_fast[k] - y_ref[k]) <= tol)) std::fprintf(stderr, "%s len %lld [%lld]\n", name, (long long)len, (long long)k);
            CHECK(std::fabs(y_fast[k] - y_ref[k]) <= tol);
        }
    }
}

// silu_glu_avx512 / silu_glu_avx2 vs silu_glu_ref: the vector exp is Cephes' polynomial (a few ulp
// off std::exp), then the same divide and multiply: relative error under 1e-6 of the output, or
// 1e-30 absolute near 0.
void check_silu_glu(void (*fast)(float *, const float *, int64_t), const char * name, std::mt19937 & rng) {
    for (int64_t len : {1, 7, 8, 9, 15, 16, 17, 100, 1000}) {
        std::vector<float> g = randn(static_cast<size_t>(len), rng, 4.0f), u = randn(static_cast<size_t>(len), rng);
        if (len == 100) g[3] = -90.0f, g[4] = 90.0f, g[5] = 0.0f;  // exp's ends and the middle
        std::vector<float> g_fast = g, g_ref = g;
        fast(g_fast.data(), u.data(), len);
        silu_glu_ref(g_ref.data(), len, u.data(), len, 1, len);
        for (int64_t k = 0; k < len; ++k) {
            const double tol = 1e-6 * std::fabs(static_cast<double>(g_ref[k])) + 1e-30;
            if (!(std::fabs(g_fast[k] - g_ref[k]) <= tol))
                std::fprintf(stderr, "%s len %lld [%lld]: %g vs %g\n", name, (long long)len, (long long)k, g_fast[k], g_ref[k]);
            CHECK(std::fabs(g_fast[k] - g_ref[k]) <= tol);
        }
    }
}

// exp_shifted_avx2 (the softmax's exp(s - max)) against double exp: relative error under 3e-7
// (~2.5 ulp) on [-87, 88]; below -88 (and -inf) exactly 0; and a value's result is the same at any
// place in a row of any length (the tails run through the same 8 lanes: batch invariance).
void check_exp_shifted(std::mt19937 & rng) {
    std::uniform_real_distribution<float> d(-87.0f, 88.0f);
    std::vector<float> s(4000);
    for (auto & v : s) v = d(rng);
    s[0] = -88.5f, s[1] = -INFINITY, s[2] = 0.0f, s[3] = -1e-8f, s[4] = 1.0f;
    std::vector<float> e = s;
    exp_shifted_avx2(e.data(), static_cast<int64_t>(e.size()), 0.0f);
    CHECK(e[0] == 0.0f && e[1] == 0.0f && e[2] == 1.0f);
    double worst = 0;
    for (size_t k = 2; k < s.size(); ++k) worst = std::max(worst, std::fabs(e[k] / std::exp(static_cast<double>(s[k])) - 1.0));
    std::fprintf(stderr, "exp_shifted_avx2: worst relative error %.3g on [-87, 88]\n", worst);
    CHECK(worst < 3e-7);
    // shifted: exp(s - 5) on the first values equals exp of the difference computed first
    std::vector<float> a(s.begin() + 2, s.begin() + 40), b = a;
    exp_shifted_avx2(a.data(), static_cast<int64_t>(a.size()), 5.0f);
    for (auto & v : b) v -= 5.0f;
    exp_shifted_avx2(b.data(), static_cast<int64_t>(b.size()), 0.0f);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    float untouched = 3.0f;  // an empty row writes nothing
    exp_shifted_avx2(&untouched, 0, 0.0f);
    CHECK(untouched == 3.0f);
    for (int64_t len = 1; len <= 19; ++len)
        for (int64_t off : {0, 1, 5, 8}) {
            std::vector<float> part(s.begin() + 2 + off, s.begin() + 2 + off + len);
            exp_shifted_avx2(part.data(), len, 0.0f);
            CHECK(std::memcmp(part.data(), e.data() + 2 + off, static_cast<size_t>(len) * sizeof(float)) == 0);
        }
}

// silu_glu split over the pool (rows, or 64-aligned column ranges) == silu_glu in one piece, bit for
// bit, for decode (1 row), tree (16) and prefill (200) shapes and a row length that is not a
// multiple of 8 or 64; strided rows leave the gaps between them alone.
void check_silu_glu_split(thread_pool * pool, std::mt19937 & rng) {
    for (int64_t n : {1, 3, 16, 200})
        for (int64_t ff : {4864, 4869, 100}) {
            const int64_t ld = ff + 3;
            const std::vector<float> g = randn(static_cast<size_t>(n * ld), rng, 3.0f), u = randn(static_cast<size_t>(n * ld), rng);
            std::vector<float> one = g, split = g;
            silu_glu(one.data(), ld, u.data(), ld, n, ff);
            silu_glu(split.data(), ld, u.data(), ld, n, ff, pool);
            CHECK(std::memcmp(one.data(), split.data(), one.size() * sizeof(float)) == 0);
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = ff; j < ld; ++j) CHECK(split[static_cast<size_t>(i * ld + j)] == g[static_cast<size_t>(i * ld + j)]);
        }
}

// rmsnorm (rows 4 at a time, split over the pool) == rmsnorm_ref bit for bit: row counts that leave
// 1-3 rows after the fours, a split into tasks, in place (out == x) and a row length not a multiple
// of 8. Random rows would not notice a sum of squares taken in another order (double sums rarely
// round to different floats), so a row built for it comes too: (1 + 2^-12)^2 is a float midpoint,
// and the 511 x (2^-27)^2 after it are each below half a double ulp of it, so in order the mean is
// that midpoint (rounding to even, down), while summed from the end they pass it (rounding up); with
// dim 512 the two means' 1 / sqrt differ in the first element's output.
void check_rmsnorm_rows(thread_pool * pool, std::mt19937 & rng) {
    auto compare = [&](const std::vector<float> & x, const std::vector<float> & w, int64_t n, int64_t dim, float eps) {
        std::vector<float> ref(x.size()), one(x.size()), split(x.size()), in_place = x;
        rmsnorm_ref(ref.data(), x.data(), w.data(), n, dim, eps);
        rmsnorm(one.data(), x.data(), w.data(), n, dim, eps);
        rmsnorm(split.data(), x.data(), w.data(), n, dim, eps, pool);
        rmsnorm(in_place.data(), in_place.data(), w.data(), n, dim, eps, pool);
        CHECK(std::memcmp(ref.data(), one.data(), ref.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(ref.data(), split.data(), ref.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(ref.data(), in_place.data(), ref.size() * sizeof(float)) == 0);
    };
    for (int64_t n : {1, 3, 4, 7, 16, 37, 200})
        for (int64_t dim : {896, 1001}) compare(randn(static_cast<size_t>(n * dim), rng, 3.0f), randn(static_cast<size_t>(dim), rng), n, dim, 1e-6f);
    const int64_t dim = 512, n = 69;  // 17 fours and a single row; 69 x 512 elements split over the pool
    std::vector<float> row(static_cast<size_t>(dim), std::ldexp(1.0f, -27));
    row[0] = 1.0f + std::ldexp(1.0f, -12);
    double forward = 0, backward = 0;
    for (int64_t j = 0; j < dim; ++j) forward += static_cast<double>(row[static_cast<size_t>(j)]) * row[static_cast<size_t>(j)];
    for (int64_t j = dim - 1; j >= 0; --j) backward += static_cast<double>(row[static_cast<size_t>(j)]) * row[static_cast<size_t>(j)];
    const float in_order = row[0] * (1.0f / std::sqrt(static_cast<float>(forward / dim))),
                from_end = row[0] * (1.0f / std::sqrt(static_cast<float>(backward / dim)));
    CHECK(in_order != from_end);  // the row tells the two orders apart
    std::vector<float> x;
    for (int64_t i = 0; i < n; ++i) x.insert(x.end(), row.begin(), row.end());
    compare(x, std::vector<float>(static_cast<size_t>(dim), 1.0f), n, dim, 0.0f);
}

// convert_f32_to_bf16_avx512 (vcvtneps2bf16) vs f32_to_bf16: both round to nearest even, so every
// normal value, halfway cases included, converts bit for bit the same; NaN stays NaN. The one
// difference: the instruction treats f32 subnormals (|x| < 2^-126) as zero and returns a signed zero
// (the last count % 16 values go through f32_to_bf16 itself).
void check_bf16_convert(std::mt19937 & rng) {
    std::vector<float> src = randn(1000, rng, 100.0f);
    src[0] = 1.00390625f, src[1] = 1.01171875f, src[2] = -0.0f, src[3] = 3.0e38f, src[4] = 1e-40f, src[5] = INFINITY;
    src[7] = -1e-40f, src[8] = 1.17549435e-38f;  // subnormals and the smallest normal
    src[6] = NAN;
    std::vector<uint16_t> fast(src.size());
    for (size_t count : {size_t(1), size_t(15), size_t(16), size_t(17), src.size()}) {
        convert_f32_to_bf16_avx512(fast.data(), src.data(), static_cast<int64_t>(count));
        for (size_t k = 0; k < count; ++k) {
            if (std::isnan(src[k])) CHECK(std::isnan(bf16_to_f32(fast[k])));
            else if (std::fpclassify(src[k]) == FP_SUBNORMAL && k < count / 16 * 16) CHECK(fast[k] == (std::signbit(src[k]) ? 0x8000 : 0x0000));
            else CHECK(fast[k] == f32_to_bf16(src[k]));
        }
    }
}

// split_bf16_inputs_avx2: each 16-value step of a row as its 8 even then its 8 odd values, exactly
// widened; a row's last cols % 16 values left out (the kernel's tail reads them from xb).
void check_split_inputs(std::mt19937 & rng) {
    for (const int64_t cols : {16, 37, 64}) {
        const int64_t n = 3, K16 = cols / 16 * 16;
        const std::vector<float> x = randn(static_cast<size_t>(n * cols), rng, 2.0f);
        std::vector<uint16_t> xb(x.size());
        for (size_t k = 0; k < x.size(); ++k) xb[k] = f32_to_bf16(x[k]);
        std::vector<float> xs(static_cast<size_t>(n * K16 + 1), -7.0f);
        split_bf16_inputs_avx2(xs.data(), xb.data(), n, cols);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < K16; k += 16)
                for (int64_t j = 0; j < 8; ++j) {
                    CHECK(xs[static_cast<size_t>(i * K16 + k + j)] == bf16_to_f32(xb[static_cast<size_t>(i * cols + k + 2 * j)]));
                    CHECK(xs[static_cast<size_t>(i * K16 + k + 8 + j)] == bf16_to_f32(xb[static_cast<size_t>(i * cols + k + 2 * j + 1)]));
                }
        CHECK(xs.back() == -7.0f);  // nothing written past (n, K16)
    }
}

// SLIPSTREAM_CPU_ISA (ctest runs this test as the CPU is and capped at avxvnni and avx2): a cap
// leaves no path above it, and its note says so.
void check_isa_cap() {
    const char * cap = std::getenv("SLIPSTREAM_CPU_ISA");
    bool valid = false;
    const char * note = kernel_isa_cap_note(&valid);
    if (!cap || !*cap) {
        CHECK(note == nullptr);
        return;
    }
    std::fprintf(stderr, "%s\n", note ? note : "(no note)");
    CHECK(note != nullptr && valid);
    const std::string c = cap;
    if (c == "avxvnni" || c == "avx2" || c == "ref") {
        CHECK(!kernel_path_supported(KERNEL_PATH_AVX512));
        CHECK(!quant_vnni_supported());
        CHECK(std::string(kernel_path_name(WEIGHT_Q8_0)) != "avx512vnni");
        CHECK(weight_preferred_layout(WEIGHT_BF16) != WEIGHT_TILED32);
    }
    if (c == "avx2" || c == "ref") CHECK(!quant_avxvnni_supported());
    if (c == "ref") CHECK(!kernel_path_supported(KERNEL_PATH_AVX2) && std::string(kernel_best_path_name()) == "ref");
}

}  // namespace

int main() {
    check_isa_cap();
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
                    for (weight_layout layout : {WEIGHT_ROWS, WEIGHT_TILED32, WEIGHT_TILED4X16}) {
                        // TILED32 where the AVX-512 path reads it (elsewhere it would take the reference);
                        // TILED4X16 is made for bf16 only
                        if (layout == WEIGHT_TILED32 && !(path == KERNEL_PATH_AVX512 && weight_preferred_layout(dt) == WEIGHT_TILED32)) continue;
                        if (layout == WEIGHT_TILED4X16 && dt != WEIGHT_BF16) continue;
                        check_matmul(path, dt, rc.first, rc.second, n, (n + rc.first) % 2 == 0, n % 3 == 0 ? &pool : nullptr,
                                     rng, layout);
                    }
    }
    CHECK(tested_paths > 0 || std::string(kernel_best_path_name()) == "ref");

    // the vector helpers' fast paths against the scalar reference
    if (kernel_path_supported(KERNEL_PATH_AVX2)) {
        check_dot(dot_f32_avx2, "dot_f32_avx2", rng);
        check_axpy(axpy_f32_avx2, "axpy_f32_avx2", rng);
        check_silu_glu(silu_glu_avx2, "silu_glu_avx2", rng);
        check_exp_shifted(rng);
        check_split_inputs(rng);
    }
    check_silu_glu_split(&pool, rng);
    check_rmsnorm_rows(&pool, rng);
    if (kernel_path_supported(KERNEL_PATH_AVX512)) {
        check_dot(dot_f32_avx512, "dot_f32_avx512", rng);
        check_axpy(axpy_f32_avx512, "axpy_f32_avx512", rng);
        check_silu_glu(silu_glu_avx512, "silu_glu_avx512", rng);
    }
    if (std::string(kernel_best_path_name()) == "avx512bf16") check_bf16_convert(rng);
    else std::fprintf(stderr, "no AVX512-BF16: the bf16 conversion's fast path is not tested here\n");

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
