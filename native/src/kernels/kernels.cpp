/*
 * kernels.cpp: run-time dispatch of matmul, attention, SiLU-GLU and the dot/axpy helpers to the
 * best path this CPU supports, and the split of a matmul's rows / the AVX-512 attention's (KV head,
 * row tile) pairs (f32 and bf16 K/V, contiguous or through a block table) / RMSNorm's rows into
 * thread-pool tasks. The generic attention (head sizes the AVX-512 kernel does not take, and CPUs
 * without AVX-512) is attention-keyblocks.cpp, given its inner loops here. Path functions live in
 * kernels-avx512*.cpp, kernels-avx2.cpp, attention-avx2.cpp and kernels-ref.cpp.
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "base/thread-pool.h"
#include "kernels.h"

namespace {

// What the CPU reports, capped by SLIPSTREAM_CPU_ISA (kernels.h, kernel_isa_cap_note).
struct cpu_features {
    bool avx2 = false, avx512 = false, avx512bf16 = false, avx512vnni = false, avxvnni = false, f16c = false;
    char cap_note[160] = "";  // kernel_isa_cap_note's line; empty without SLIPSTREAM_CPU_ISA
    bool cap_valid = true;
    cpu_features() {
#if ENGINE_X86_PATHS
        __builtin_cpu_init();
        avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
        f16c = (ecx >> 29) & 1u;  // CPUID.1:ECX.F16C (every AVX2 CPU so far has it)
        avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
        avx512bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
        avx512vnni = avx512 && __builtin_cpu_supports("avx512vnni");
        // CPUID.(7, 1):EAX.AVX-VNNI (bit 4; an AVX2 CPU has leaf 7, and an unknown subleaf reads 0)
        __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(1));
        avxvnni = avx2 && ((eax >> 4) & 1u);
#endif  // other CPUs: every feature false, the reference path (kernels.h, ENGINE_X86_PATHS)
        const char * cap = std::getenv("SLIPSTREAM_CPU_ISA");
        if (!cap || !*cap) return;
        const bool below_avx512 = std::strcmp(cap, "avxvnni") == 0 || std::strcmp(cap, "avx2") == 0 || std::strcmp(cap, "ref") == 0;
        cap_valid = below_avx512 || std::strcmp(cap, "avx512") == 0;
        if (below_avx512) {
            avx512 = avx512bf16 = avx512vnni = false;
            if (std::strcmp(cap, "avxvnni") != 0) avxvnni = false;
            if (std::strcmp(cap, "ref") == 0) avx2 = false;
        }
        if (cap_valid) std::snprintf(cap_note, sizeof(cap_note), "SLIPSTREAM_CPU_ISA=%s: the kernels use no more than %s", cap, cap);
        else std::snprintf(cap_note, sizeof(cap_note), "SLIPSTREAM_CPU_ISA=%.40s is not one of avx512, avxvnni, avx2, ref: ignored", cap);
    }
};

const cpu_features & cpu() {
    static const cpu_features f;
    return f;
}

kernel_path resolve(kernel_path p) {
    if (p != KERNEL_PATH_AUTO) {
        ENGINE_ASSERT(kernel_path_supported(p));
        return p;
    }
    if (cpu().avx512) return KERNEL_PATH_AVX512;
    if (cpu().avx2) return KERNEL_PATH_AVX2;
    return KERNEL_PATH_REF;
}

using dot_fn = float (*)(const float *, const float *, int64_t);
using axpy_fn = void (*)(float *, float, const float *, int64_t);
const dot_fn g_dot = cpu().avx512 ? dot_f32_avx512 : cpu().avx2 ? dot_f32_avx2 : dot_f32_ref;
const axpy_fn g_axpy = cpu().avx512 ? axpy_f32_avx512 : cpu().avx2 ? axpy_f32_avx2 : axpy_f32_ref;
// bf16 K/V: AVX2 wherever the CPU has it (AVX-512 CPUs too: no AVX-512 version is written)
using dot_bf16_fn = float (*)(const float *, const uint16_t *, int64_t);
using axpy_bf16_fn = void (*)(float *, float, const uint16_t *, int64_t);
const dot_bf16_fn g_dot_bf16 = cpu().avx2 ? dot_f32_bf16_avx2 : dot_f32_bf16_ref;
const axpy_bf16_fn g_axpy_bf16 = cpu().avx2 ? axpy_f32_bf16_avx2 : axpy_f32_bf16_ref;

// The generic attention's inner loops (attention-keyblocks.cpp) on blocks of widened keys: the
// AVX2 ones where the one-row helper dispatched above is AVX2's, else a loop over that helper (the
// same bits either way). bf16 K/V widened to f32 run the f32 helpers: on widened copies
// dot_f32_avx2 / axpy_f32_avx2 equal dot_f32_bf16_avx2 / axpy_f32_bf16_avx2 bit for bit, and
// the reference ones alike (test-attention-bf16).
template <dot_fn Dot>
void dots_loop(float * s, int64_t lds, const float * const * q, int64_t nq, const float * kb, int64_t count, int64_t hd) {
    for (int64_t i = 0; i < nq; ++i)
        for (int64_t j = 0; j < count; ++j) s[i * lds + j] = Dot(q[i], kb + j * hd, hd);
}
template <axpy_fn Axpy>
void axpys_loop(float * y, const float * a, const float * const * x, int64_t off, int64_t count, int64_t len) {
    for (int64_t j = 0; j < count; ++j) Axpy(y, a[j], x[j] + off, len);
}
attention_block_ops block_ops_for(dot_fn dot) {
    void (*const exp)(float *, int64_t, float) = cpu().avx2 ? exp_shifted_avx2 : nullptr;  // every row alike
    if (dot == dot_f32_avx2) {
        if (cpu().avx512)
            return {attention_dots_avx512vl, axpys_f32_avx2, axpys2_f32_avx512vl, attention_widen_bf16_avx2, exp, attention_scale_max_avx2,
                    attention_scale_avx2, attention_dots_bf16_avx512vl, axpys_bf16_avx2, axpys2_bf16_avx512vl};
        return {attention_dots_avx2, axpys_f32_avx2, axpys2_f32_avx2, attention_widen_bf16_avx2, exp, attention_scale_max_avx2,
                attention_scale_avx2, attention_dots_bf16_avx2, axpys_bf16_avx2, axpys2_bf16_avx2};
    }
    const auto widen = cpu().avx2 ? attention_widen_bf16_avx2 : nullptr;
    const auto scale_max = cpu().avx2 ? attention_scale_max_avx2 : nullptr;
    const auto scale = cpu().avx2 ? attention_scale_avx2 : nullptr;
    if (dot == dot_f32_avx512)
        return {dots_loop<dot_f32_avx512>, axpys_loop<axpy_f32_avx512>, nullptr, widen, exp, scale_max, scale, nullptr, nullptr, nullptr};
    return {dots_loop<dot_f32_ref>, axpys_loop<axpy_f32_ref>, nullptr, widen, exp, scale_max, scale, nullptr, nullptr, nullptr};
}
const attention_block_ops g_block_ops = block_ops_for(g_dot);
const attention_block_ops g_block_ops_bf16 = block_ops_for(g_dot_bf16 == dot_f32_bf16_avx2 ? dot_f32_avx2 : dot_f32_ref);

// One task: rows [r0, r1) of one job.
struct row_task {
    int job;
    int64_t r0, r1;
};

// The bf16-rounded copies of a matmul's input x: (n, K).
struct bf16_input {
    const uint16_t * rows = nullptr;    // row stride K (ROWS matrices)
    const uint16_t * paired = nullptr;  // row stride K rounded up to even, pad zero (TILED32 steps read pairs)
    int64_t paired_stride = 0;
    const float * split = nullptr;  // (n, K / 16 * 16): split_bf16_inputs_avx2 of rows, for the AVX2 kernel's several inputs
};

// The int8-block copy of a matmul's input x for quantized weights: xq (n, quant_blocks(K) * 32), xd (n, quant_blocks(K)),
// with the block offsets (kernels.h, quant_input_offsets) the kernels need for each weight format present.
struct q8_input {
    const int8_t * q = nullptr;
    const float * d = nullptr;
    const int32_t * off_q8 = nullptr;  // (n, quant_blocks(K)), c = 128: VNNI's Q8_0
    const int32_t * off_q4 = nullptr;  // c = 8: Q4_0
    // the same packed for the AVX-512 VNNI kernel (kernels.h, quant_packed_inputs), where it runs:
    // one q and d, with each format's offsets
    quant_packed_inputs packed_q8{}, packed_q4{};
};

// The kernels a quantized product runs on this path: AVX-512 VNNI (quant-vnni.cpp) on the AVX-512
// path where the CPU has it, else AVX-VNNI (quant-avxvnni.cpp) where the CPU has that, else AVX2
// (quant-avx2.cpp), else the reference. All four give the same bits.
enum quant_kernels { QUANT_REF, QUANT_AVX2, QUANT_AVXVNNI, QUANT_VNNI };
quant_kernels quant_kernels_for(kernel_path p) {
    if (p == KERNEL_PATH_REF || !cpu().avx2 || !cpu().f16c) return QUANT_REF;
    if (p == KERNEL_PATH_AVX512 && cpu().avx512vnni) return QUANT_VNNI;
    return cpu().avxvnni ? QUANT_AVXVNNI : QUANT_AVX2;
}
// The kernels that start Q8_0's sums from offsets (kernels.h, quant_offsets_c)
bool quant_vpdpbusd(quant_kernels k) { return k == QUANT_VNNI || k == QUANT_AVXVNNI; }
bool quant_avx2(kernel_path p) { return quant_kernels_for(p) != QUANT_REF; }  // AVX2 quantizes the activations

void run_rows(kernel_path p, const matmul_job & j, const float * x, const bf16_input & xb, const q8_input & xq, int64_t n,
              int64_t r0, int64_t r1) {
    const weight_matrix & w = *j.w;
    if (weight_is_quant(w.dtype)) {
        const quant_kernels k = quant_kernels_for(p);
        const int32_t * off = w.dtype == WEIGHT_Q4_0 ? xq.off_q4 : xq.off_q8;
        if (k == QUANT_VNNI) matmul_rows_quant_vnni(j.y, j.ldy, w.dtype == WEIGHT_Q4_0 ? xq.packed_q4 : xq.packed_q8, n, w, j.bias, r0, r1);
        else if (k == QUANT_AVXVNNI) matmul_rows_quant_avxvnni(j.y, j.ldy, xq.q, xq.d, off, n, w, j.bias, r0, r1);
        else if (k == QUANT_AVX2) matmul_rows_quant_avx2(j.y, j.ldy, xq.q, xq.d, off, n, w, j.bias, r0, r1);
        else matmul_rows_quant_ref(j.y, j.ldy, xq.q, xq.d, n, w, j.bias, r0, r1);
        return;
    }
    if (w.layout == WEIGHT_TILED4X16) {  // made for bf16 on the AVX2 kernel (weight_preferred_layout)
        if (p != KERNEL_PATH_REF && w.dtype == WEIGHT_BF16) matmul_rows_avx2(j.y, j.ldy, x, xb.rows, n, w, j.bias, r0, r1, xb.split);
        else matmul_rows_ref(j.y, j.ldy, x, n, w, j.bias, r0, r1);
        return;
    }
    const bool tiled = w.layout == WEIGHT_TILED32;
    switch (p) {
        case KERNEL_PATH_AVX512:
            if (w.dtype == WEIGHT_F32) matmul_rows_avx512_f32(j.y, j.ldy, x, n, w, j.bias, r0, r1);
            else if (cpu().avx512bf16) {
                if (tiled) matmul_rows_avx512_bf16(j.y, j.ldy, xb.paired, xb.paired_stride, n, w, j.bias, r0, r1);
                else matmul_rows_avx512_bf16(j.y, j.ldy, xb.rows, w.cols, n, w, j.bias, r0, r1);
            } else if (!tiled) matmul_rows_avx2(j.y, j.ldy, x, xb.rows, n, w, j.bias, r0, r1, xb.split);
            else matmul_rows_ref(j.y, j.ldy, x, n, w, j.bias, r0, r1);
            break;
        case KERNEL_PATH_AVX2:
            // TILED32 matrices exist only where the AVX-512 path is preferred; forced AVX2 (tests) reads them slowly
            if (!tiled) matmul_rows_avx2(j.y, j.ldy, x, xb.rows, n, w, j.bias, r0, r1, xb.split);
            else matmul_rows_ref(j.y, j.ldy, x, n, w, j.bias, r0, r1);
            break;
        default: matmul_rows_ref(j.y, j.ldy, x, n, w, j.bias, r0, r1); break;
    }
}

// Whether the AVX-512 tile kernel takes this shape on resolved path p (else the generic kernel).
bool tile_takes(kernel_path p, int n_head, int n_head_kv, int head_dim) {
    return p == KERNEL_PATH_AVX512 && head_dim % 16 == 0 && head_dim <= 128 && n_head_kv > 0 && n_head % n_head_kv == 0;
}

// The AVX-512 tile kernel over a's rows: one task per (KV head, tile of query rows). A tile's
// scores, (rows * group, slots), stay under ~256 KB (L2); with a pool, rows are split further
// until there are 2 tasks per thread.
template <class T>
void attention_tiles(const attention_args<T> & a, thread_pool * pool) {
    const int64_t n = a.n, total = a.kv_len + a.n, group = a.n_head / a.n_head_kv;
    const int64_t tp = (total + 15) / 16 * 16;
    int64_t rows = std::max<int64_t>(1, std::min<int64_t>(n, 65536 / (group * tp)));
    const int threads = pool ? pool->n_threads() : 1;
    const bool small = static_cast<double>(n) * a.n_head * static_cast<double>(total) * a.head_dim < 65536.0;
    const bool parallel = threads > 1 && !small;
    if (parallel) {
        const int64_t want_tiles = std::min<int64_t>(n, (2 * threads + a.n_head_kv - 1) / a.n_head_kv);
        rows = std::min(rows, (n + want_tiles - 1) / want_tiles);
    }
    const int64_t tiles = (n + rows - 1) / rows;
    const int64_t n_tasks = tiles * a.n_head_kv;
    auto task = [&](int64_t t) {
        const int hk = static_cast<int>(t % a.n_head_kv);
        const int64_t i0 = (t / a.n_head_kv) * rows;
        attention_tile_avx512(a, hk, i0, std::min(i0 + rows, n));
    };
    if (!parallel || n_tasks < 2) {
        for (int64_t t = 0; t < n_tasks; ++t) task(t);
        return;
    }
    pool->parallel_for(static_cast<int>(n_tasks), [&](int t, int) { task(t); });
}

// Attention for K/V of T (float or bf16 bits) whose slot j's rows are krow(j) / vrow(j): a
// contiguous cache's or a view's, gathered into row pointers (in the calling thread's buffers,
// which the tasks on any thread read), so both give the same bits. The AVX-512 tile kernel where
// it takes the shape on path p, else the generic kernel with the dtype's block ops.
template <class T, class KRow, class VRow>
void attention_slots(float * out, const float * q, KRow krow, VRow vrow, int64_t kv_len, int64_t n, int n_head, int n_head_kv,
                     int head_dim, const uint8_t * mask, thread_pool * pool, kernel_path p, const attention_block_ops & ops) {
    if (n <= 0) return;
    const int64_t total = kv_len + n;
    thread_local std::vector<const T *> k_rows, v_rows;
    k_rows.resize(static_cast<size_t>(total));
    v_rows.resize(static_cast<size_t>(total));
    for (int64_t j = 0; j < total; ++j) {
        k_rows[j] = krow(j);
        v_rows[j] = vrow(j);
    }
    if (!tile_takes(p, n_head, n_head_kv, head_dim)) {
        attention_keyblocks(out, q, k_rows.data(), v_rows.data(), kv_len, n, n_head, n_head_kv, head_dim, mask, pool, ops);
        return;
    }
    attention_tiles(attention_args<T>{out, q, k_rows.data(), v_rows.data(), kv_len, n, n_head, n_head_kv, head_dim, mask,
                                      1.0f / std::sqrt(static_cast<float>(head_dim))},
                    pool);
}

// attention() on contiguous K/V of T.
template <class T>
void attention_contiguous(float * out, const float * q, const T * k_cache, const T * v_cache, int64_t kv_len, int64_t n, int n_head,
                          int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool, kernel_path p,
                          const attention_block_ops & ops) {
    const int64_t kv_dim = static_cast<int64_t>(n_head_kv) * head_dim;
    attention_slots<T>(out, q, [&](int64_t j) { return k_cache + j * kv_dim; }, [&](int64_t j) { return v_cache + j * kv_dim; }, kv_len, n,
                       n_head, n_head_kv, head_dim, mask, pool, p, ops);
}

// attention_paged for K/V of T (float or bf16 bits): the kernel attention() runs for the shape.
template <class T>
void attention_paged_t(float * out, const float * q, const kv_view<T> & k, const kv_view<T> & v, int64_t kv_len, int64_t n,
                       int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool, kernel_path path,
                       const attention_block_ops & ops) {
    const kernel_path p = resolve(path);
    if (p == KERNEL_PATH_REF) {
        attention_paged_ref(out, q, k, v, kv_len, n, n_head, n_head_kv, head_dim, mask);
        return;
    }
    const int64_t kv_dim = static_cast<int64_t>(n_head_kv) * head_dim;
    attention_slots<T>(out, q, [&](int64_t j) { return kv_view_row(k, j, kv_dim); }, [&](int64_t j) { return kv_view_row(v, j, kv_dim); },
                       kv_len, n, n_head, n_head_kv, head_dim, mask, pool, p, ops);
}
}  // namespace

bool attention_runs_tiles(int n_head, int n_head_kv, int head_dim) { return tile_takes(resolve(KERNEL_PATH_AUTO), n_head, n_head_kv, head_dim); }

void attention_paged(float * out, const float * q, const kv_view<float> & k, const kv_view<float> & v, int64_t kv_len,
                     int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
                     kernel_path path) {
    attention_paged_t(out, q, k, v, kv_len, n, n_head, n_head_kv, head_dim, mask, pool, path, g_block_ops);
}

void attention_paged(float * out, const float * q, const kv_view<uint16_t> & k, const kv_view<uint16_t> & v, int64_t kv_len,
                     int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
                     kernel_path path) {
    attention_paged_t(out, q, k, v, kv_len, n, n_head, n_head_kv, head_dim, mask, pool, path, g_block_ops_bf16);
}

const char * kernel_best_path_name() {
    if (cpu().avx512bf16) return "avx512bf16";
    if (cpu().avx512) return "avx512";
    if (cpu().avx2) return "avx2";
    return "ref";
}

const char * kernel_path_name(weight_dtype d) {
    if (!weight_is_quant(d)) return kernel_best_path_name();
    switch (quant_kernels_for(resolve(KERNEL_PATH_AUTO))) {
        case QUANT_VNNI: return "avx512vnni";
        case QUANT_AVXVNNI: return "avxvnni";
        case QUANT_AVX2: return "avx2";
        default: return "ref";
    }
}

weight_layout weight_preferred_layout(weight_dtype d) {
    if (d != WEIGHT_F32 && d != WEIGHT_BF16) return WEIGHT_ROWS;
    if (cpu().avx512 && (d == WEIGHT_F32 || cpu().avx512bf16)) return WEIGHT_TILED32;
    // bf16 weights without AVX512-BF16 go to the AVX2 kernel (resolve(), run_rows)
    if (d == WEIGHT_BF16 && cpu().avx2) return WEIGHT_TILED4X16;
    return WEIGHT_ROWS;
}

bool quant_vnni_supported() { return cpu().avx512vnni && cpu().avx2 && cpu().f16c; }
bool quant_avxvnni_supported() { return cpu().avxvnni && cpu().f16c; }

const char * kernel_isa_cap_note(bool * valid) {
    if (valid) *valid = cpu().cap_valid;
    return cpu().cap_note[0] ? cpu().cap_note : nullptr;
}

bool kernel_path_supported(kernel_path path) {
    switch (path) {
        case KERNEL_PATH_AUTO:
        case KERNEL_PATH_REF: return true;
        case KERNEL_PATH_AVX2: return cpu().avx2;
        case KERNEL_PATH_AVX512: return cpu().avx512;
    }
    return false;
}

float dot_f32(const float * a, const float * b, int64_t len) { return g_dot(a, b, len); }

void attention(float * out, const float * q, const float * k_cache, const float * v_cache, int64_t kv_len,
               int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
               kernel_path path) {
    const kernel_path p = resolve(path);
    if (p == KERNEL_PATH_REF) {
        attention_ref(out, q, k_cache, v_cache, kv_len, n, n_head, n_head_kv, head_dim, mask);
        return;
    }
    attention_contiguous(out, q, k_cache, v_cache, kv_len, n, n_head, n_head_kv, head_dim, mask, pool, p, g_block_ops);
}

void attention(float * out, const float * q, const uint16_t * k_cache, const uint16_t * v_cache, int64_t kv_len,
               int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
               kernel_path path) {
    const kernel_path p = resolve(path);
    if (p == KERNEL_PATH_REF) {
        attention_ref(out, q, k_cache, v_cache, kv_len, n, n_head, n_head_kv, head_dim, mask);
        return;
    }
    attention_contiguous(out, q, k_cache, v_cache, kv_len, n, n_head, n_head_kv, head_dim, mask, pool, p, g_block_ops_bf16);
}

float dot_f32_bf16(const float * a, const uint16_t * b, int64_t len) { return g_dot_bf16(a, b, len); }
void axpy_f32_bf16(float * y, float a, const uint16_t * x, int64_t len) { g_axpy_bf16(y, a, x, len); }

void silu_glu(float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff, thread_pool * pool) {
    // one piece: rows [i0, i1), columns [c0, c1) (c0 a multiple of 64: the vector paths' lanes and
    // tails fall where they would for the whole row)
    auto piece = [&](int64_t i0, int64_t i1, int64_t c0, int64_t c1) {
        for (int64_t i = i0; i < i1; ++i) {
            float * g = gate + i * ld_gate + c0;
            const float * u = up + i * ld_up + c0;
            if (cpu().avx512) silu_glu_avx512(g, u, c1 - c0);
            else if (cpu().avx2) silu_glu_avx2(g, u, c1 - c0);
            else silu_glu_ref(g, 0, u, 0, 1, c1 - c0);
        }
    };
    const int threads = pool ? pool->n_threads() : 1;
    // Below ~32K elements (a decode step's 4864) a dispatch costs more than it saves.
    if (threads == 1 || static_cast<double>(n) * static_cast<double>(ff) < 32768.0) {
        piece(0, n, 0, ff);
        return;
    }
    // about 8 tasks per thread: groups of rows, or 64-aligned column ranges of fewer rows
    const int64_t want = 8 * static_cast<int64_t>(threads);
    const int64_t rows_per = std::max<int64_t>(1, n / want);
    const int64_t row_tasks = (n + rows_per - 1) / rows_per;
    const int64_t col_split = std::max<int64_t>(1, std::min<int64_t>(want / row_tasks, ff / 1024));
    const int64_t cols_per = (ff / col_split + 63) / 64 * 64;
    const int64_t col_tasks = (ff + cols_per - 1) / cols_per;
    pool->parallel_for(static_cast<int>(row_tasks * col_tasks), [&](int t, int) {
        const int64_t r = t / col_tasks, c = t % col_tasks;
        piece(r * rows_per, std::min(n, (r + 1) * rows_per), c * cols_per, std::min(ff, (c + 1) * cols_per));
    });
}
// R rows from row i: rmsnorm_ref's arithmetic per row, the R sums of squares advancing together
// (a row's one chain of double adds waits ~3-4 cycles an element; R chains overlap).
template <int R>
static void rmsnorm_rows(float * out, const float * x, const float * weight, int64_t i, int64_t dim, float eps) {
    double ss[R] = {};
    for (int64_t j = 0; j < dim; ++j)
        for (int r = 0; r < R; ++r) {
            const double v = x[(i + r) * dim + j];
            ss[r] += v * v;
        }
    for (int r = 0; r < R; ++r) {
        const float inv = 1.0f / std::sqrt(static_cast<float>(ss[r] / static_cast<double>(dim)) + eps);
        const float * xi = x + (i + r) * dim;
        float * oi = out + (i + r) * dim;
        for (int64_t j = 0; j < dim; ++j) oi[j] = weight[j] * (xi[j] * inv);
    }
}

void rmsnorm(float * out, const float * x, const float * weight, int64_t n, int64_t dim, float eps, thread_pool * pool) {
    auto rows = [&](int64_t i0, int64_t i1) {
        int64_t i = i0;
        for (; i + 4 <= i1; i += 4) rmsnorm_rows<4>(out, x, weight, i, dim, eps);
        for (; i < i1; ++i) rmsnorm_rows<1>(out, x, weight, i, dim, eps);
    };
    const int threads = pool ? pool->n_threads() : 1;
    // as silu_glu: below ~32K elements (or 8 rows) a dispatch costs more than it saves
    if (threads == 1 || n < 8 || static_cast<double>(n) * static_cast<double>(dim) < 32768.0) {
        rows(0, n);
        return;
    }
    // tasks of 4 rows (or more: about 8 tasks a thread)
    const int64_t per = std::max<int64_t>(4, (n / (8 * threads) + 3) / 4 * 4);
    pool->parallel_for(static_cast<int>((n + per - 1) / per), [&](int t, int) { rows(t * per, std::min(n, (t + 1) * per)); });
}

void axpy_f32(float * y, float a, const float * x, int64_t len) { g_axpy(y, a, x, len); }

void convert_f32_to_bf16(uint16_t * dst, const float * src, int64_t count) {
    if (cpu().avx512bf16) {
        convert_f32_to_bf16_avx512(dst, src, count);
        return;
    }
    for (int64_t k = 0; k < count; ++k) dst[k] = f32_to_bf16(src[k]);
}

void matmul_multi(const matmul_job * jobs, int n_jobs, const float * x, int64_t n, thread_pool * pool, kernel_path path) {
    if (n <= 0 || n_jobs <= 0) return;
    const kernel_path p = resolve(path);
    const int64_t K = jobs[0].w->cols;
    bool any_bf16 = false, any_tiled4x16 = false, any_quant = false, any_q8 = false, any_q4 = false;
    int64_t total_rows = 0;
    for (int j = 0; j < n_jobs; ++j) {
        ENGINE_ASSERT(jobs[j].w->cols == K);
        any_bf16 |= jobs[j].w->dtype == WEIGHT_BF16;
        any_tiled4x16 |= jobs[j].w->layout == WEIGHT_TILED4X16;
        any_quant |= weight_is_quant(jobs[j].w->dtype);
        any_q8 |= jobs[j].w->dtype == WEIGHT_Q8_0;
        any_q4 |= jobs[j].w->dtype == WEIGHT_Q4_0;
        total_rows += jobs[j].w->rows;
    }
    // bf16-rounded copies of x for the SIMD bf16 paths: (n, K); with an odd K the tiled kernels
    // need rows padded to even with a zero (they read column pairs)
    thread_local std::vector<uint16_t> xb_buf, xb_pad_buf;
    bf16_input xb;
    if (any_bf16 && p != KERNEL_PATH_REF) {
        xb_buf.resize(static_cast<size_t>(n * K));
        convert_f32_to_bf16(xb_buf.data(), x, n * K);
        xb.rows = xb.paired = xb_buf.data();
        xb.paired_stride = K;
        if (K % 2 != 0) {
            xb_pad_buf.assign(static_cast<size_t>(n * (K + 1)), 0);
            for (int64_t i = 0; i < n; ++i) std::copy_n(xb_buf.data() + i * K, K, xb_pad_buf.data() + i * (K + 1));
            xb.paired = xb_pad_buf.data();
            xb.paired_stride = K + 1;
        }
        // several inputs on the AVX2 bf16 kernel (run_rows: TILED4X16 matrices, or ROWS ones without
        // AVX512-BF16): their split copy, made once for all jobs and rows
        thread_local std::vector<float> split_buf;
        if (n >= 2 && (any_tiled4x16 || !cpu().avx512bf16)) {
            split_buf.resize(static_cast<size_t>(n * (K / 16 * 16)));
            split_bf16_inputs_avx2(split_buf.data(), xb_buf.data(), n, K);
            xb.split = split_buf.data();
        }
    }
    // the int8 blocks of x for quantized weights, made once for all jobs and rows
    thread_local std::vector<int8_t> xq_buf;
    thread_local std::vector<float> xd_buf;
    q8_input xq;
    if (any_quant) {
        const int64_t nb = quant_blocks(K);
        xq_buf.resize(static_cast<size_t>(n * nb * QUANT_BLOCK));
        xd_buf.resize(static_cast<size_t>(n * nb));
        xq.q = xq_buf.data();
        xq.d = xd_buf.data();
        // the offsets each format's kernel starts from (0 for the reference and AVX2's Q8_0)
        thread_local std::vector<int32_t> off_q8_buf, off_q4_buf;
        const quant_kernels qk = quant_kernels_for(p);
        const int32_t c8 = qk == QUANT_REF ? 0 : quant_offsets_c(WEIGHT_Q8_0, quant_vpdpbusd(qk));
        const int32_t c4 = qk == QUANT_REF ? 0 : quant_offsets_c(WEIGHT_Q4_0, quant_vpdpbusd(qk));
        if (any_q8 && c8) off_q8_buf.resize(static_cast<size_t>(n * nb));
        if (any_q4 && c4) off_q4_buf.resize(static_cast<size_t>(n * nb));
        int32_t * const off_q8_all = any_q8 && c8 ? off_q8_buf.data() : nullptr;
        int32_t * const off_q4_all = any_q4 && c4 ? off_q4_buf.data() : nullptr;
        xq.off_q8 = off_q8_all;
        xq.off_q4 = off_q4_all;
        // their packed copies for the AVX-512 VNNI kernel (one input is packed as it is)
        thread_local std::vector<int32_t> packed_q_buf, packed_off_q8_buf, packed_off_q4_buf;
        thread_local std::vector<float> packed_d_buf;
        const bool pack = qk == QUANT_VNNI && n > 1;
        int32_t * packed_q = nullptr, * packed_off_q8 = nullptr, * packed_off_q4 = nullptr;
        float * packed_d = nullptr;
        if (qk == QUANT_VNNI && n == 1) {
            static_assert(QUANT_PIECES * 4 == QUANT_BLOCK, "a block's pieces are its bytes");
            packed_q = reinterpret_cast<int32_t *>(xq_buf.data());  // std::vector's memory: aligned for any scalar
            packed_d = xd_buf.data();
            packed_off_q8 = off_q8_all;
            packed_off_q4 = off_q4_all;
        }
        if (pack) {
            const size_t packed_blocks = static_cast<size_t>(quant_packs(n) * nb * QUANT_PACK);
            packed_q_buf.resize(packed_blocks * QUANT_PIECES);
            packed_d_buf.resize(packed_blocks);
            packed_q = packed_q_buf.data();
            packed_d = packed_d_buf.data();
            if (off_q8_all) packed_off_q8_buf.resize(packed_blocks), packed_off_q8 = packed_off_q8_buf.data();
            if (off_q4_all) packed_off_q4_buf.resize(packed_blocks), packed_off_q4 = packed_off_q4_buf.data();
        }
        xq.packed_q8 = {packed_q, packed_d, packed_off_q8};
        xq.packed_q4 = {packed_q, packed_d, packed_off_q4};
        // rows [i0, i1) of x quantized (with their offsets): each row's blocks are the same whoever
        // makes them, so the pieces go to the pool for a prefill's hundreds of rows (through these
        // pointers: in a worker, the names of the buffers above are that thread's own)
        int8_t * const xq_all = xq_buf.data();
        float * const xd_all = xd_buf.data();
        auto make = [&](int64_t i0, int64_t i1) {
            const int64_t rows = i1 - i0;
            int8_t * q = xq_all + i0 * nb * QUANT_BLOCK;
            float * d = xd_all + i0 * nb;
            if (quant_avx2(p)) quantize_input_q8_avx2(q, d, x + i0 * K, rows, K);
            else quantize_input_q8(q, d, x + i0 * K, rows, K);
            if (off_q8_all) quant_input_offsets(off_q8_all + i0 * nb, q, rows, K, c8);
            if (off_q4_all) quant_input_offsets(off_q4_all + i0 * nb, q, rows, K, c4);
            if (!pack) return;
            quant_pack_inputs(packed_q, packed_d, xq_all, xd_all, n, i0, i1, nb);
            if (packed_off_q8) quant_pack_offsets(packed_off_q8, off_q8_all, n, i0, i1, nb);
            if (packed_off_q4) quant_pack_offsets(packed_off_q4, off_q4_all, n, i0, i1, nb);
        };
        const int64_t per = 8;  // rows a task
        if (!pool || pool->n_threads() == 1 || n < 2 * per) make(0, n);
        else pool->parallel_for(static_cast<int>((n + per - 1) / per), [&](int t, int) { make(t * per, std::min(n, (t + 1) * per)); });
    }
    const int threads = pool ? pool->n_threads() : 1;
    thread_local std::vector<row_task> tasks;
    tasks.clear();
    // Guided split over all jobs' rows, in order: each task takes 1/(2 * threads) of the rows left
    // (a multiple of the tiles' 32 rows), never less than 32 rows, so the threads start on long
    // sequential streams and finish together on short tasks.
    const int64_t G = WEIGHT_GROUP_ROWS;
    int64_t left = total_rows;
    for (int j = 0; j < n_jobs; ++j)
        for (int64_t r = 0; r < jobs[j].w->rows;) {
            const int64_t size = std::min(std::max<int64_t>(G, (left / (2 * threads) + G - 1) / G * G), jobs[j].w->rows - r);
            tasks.push_back({j, r, r + size});
            r += size;
            left -= size;
        }
    // Below 64K multiply-adds (a 256 x 256 matrix and one input, a few microseconds) a dispatch costs
    // more than it saves; from there on the second thread pays (the shipped model's decode step,
    // whose products are 64K-360K: docs/performance.md, 2026-12-06).
    const bool small = static_cast<double>(n) * static_cast<double>(total_rows) * static_cast<double>(K) < 65536.0;
    if (!pool || threads == 1 || tasks.size() == 1 || small) {
        for (const auto & t : tasks) run_rows(p, jobs[t.job], x, xb, xq, n, t.r0, t.r1);
        return;
    }
    const row_task * task_list = tasks.data();  // tasks is this thread's; the workers get the pointer
    pool->parallel_for(static_cast<int>(tasks.size()), [&](int t, int) {
        const row_task & rt = task_list[t];
        run_rows(p, jobs[rt.job], x, xb, xq, n, rt.r0, rt.r1);
    });
}

void matmul(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w, const float * bias,
            thread_pool * pool, kernel_path path) {
    matmul_job j{y, ldy, &w, bias};
    matmul_multi(&j, 1, x, n, pool, path);
}
