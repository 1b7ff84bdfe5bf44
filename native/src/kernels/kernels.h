/*
 * kernels.h: the CPU compute kernels: matmul (f32 and bf16 weights), RMSNorm, RoPE, softmax,
 * SiLU-GLU, masked attention, and the tiled weight layouts. The entry points dispatch at run time
 * to AVX-512 (+BF16), AVX2 or the pure scalar reference (*_ref, kernels-ref.cpp), which the tests
 * hold every fast path to. Math: docs/engine.md. Invariant: a bf16-weight matmul rounds the
 * activations to bf16 (nearest even) in every path, so paths differ only in summation order.
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

struct thread_pool;

// ENGINE_X86_PATHS: 1 where the AVX2 / AVX-512 paths are compiled. CMake builds their files
// (src/kernels/*avx*.cpp, *vnni*.cpp) only for x86-64; on other CPUs (ARM64: Apple silicon,
// Graviton) every CPU feature reads false, so the dispatch runs the scalar reference, and
// kernels/other-cpus/x86-paths-absent.cpp defines the x86 entry points declared below as aborts
// that nothing reaches (each is called only where kernel_path_supported or its *_supported says so).
#if defined(__x86_64__)
#define ENGINE_X86_PATHS 1
#else
#define ENGINE_X86_PATHS 0
#endif

// Q8_0 / Q4_0: blocks of 32 weights along a row with one f16 scale each (llama.cpp's formats;
// quant-formats.cpp, docs/engine.md "Quantized weights"); made at load time or read from a
// quantized folder. Their matmul quantizes the activations to int8 blocks (see QUANT below).
enum weight_dtype : int { WEIGHT_F32 = 0, WEIGHT_BF16 = 1, WEIGHT_Q8_0 = 2, WEIGHT_Q4_0 = 3 };

// WEIGHT_ROWS: plain row-major (rows, cols). The tiled layouts are made at load time for one
// kernel family (weight_preferred_layout): groups of G rows; a group stores its columns in steps of
// P, each step holding the G rows x P values, row-major within the step. Rows pad to a multiple of
// G and columns to P, with zeros. Element (r, k) lives at ((r / G) * (Kp / P) + k / P) * G * P +
// (r % G) * P + k % P (Kp: the padded columns).
//  - WEIGHT_TILED32, for the AVX-512 path: G = 32, P = 2 (bf16: the pair one vdpbf16ps lane
//    multiplies) or 1 (f32); a step is 128 bytes. A tile of 32 rows x C inputs then reads ONE
//    sequential stream and multiplies each 16-row vector by each input's broadcast step: every lane
//    accumulates one output, so no horizontal sums (docs/engine.md, "matmul").
//  - WEIGHT_TILED4X16, for bf16 weights on the AVX2 path: G = 4, P = 16 (one 256-bit load a row
//    and step); a step is 128 bytes. A decode tile of 4 rows reads one sequential stream where row-
//    major storage gives it four short ones (1.6-2.1x the bandwidth on Zen 3, docs/performance.md); the
//    arithmetic is the row-major kernel's, so both layouts give the same bits.
enum weight_layout : int { WEIGHT_ROWS = 0, WEIGHT_TILED32 = 1, WEIGHT_TILED4X16 = 2 };

// A weight matrix W: (rows = out, cols = in), f32 or bf16, not owned (the model's weight arena or a
// caller's buffer).
struct weight_matrix {
    const void * data = nullptr;
    weight_dtype dtype = WEIGHT_F32;
    int64_t rows = 0;  // out
    int64_t cols = 0;  // in
    weight_layout layout = WEIGHT_ROWS;
};

// ---- quantized weights (quant-formats.cpp; the math in docs/engine.md) -----------------------
constexpr int64_t QUANT_BLOCK = 32;
constexpr int64_t QUANT_GROUP_ROWS = 16;
constexpr int64_t QUANT_UNIT_BYTES = 64;  // one 512-bit vector: 4 bytes of each of a group's 16 rows
inline bool weight_is_quant(weight_dtype d) { return d == WEIGHT_Q8_0 || d == WEIGHT_Q4_0; }
inline int64_t quant_blocks(int64_t cols) { return (cols + QUANT_BLOCK - 1) / QUANT_BLOCK; }
// Bytes of one block's quants: 32 (Q8_0: int8) or 16 (Q4_0: two 4-bit values a byte).
inline int64_t quant_block_bytes(weight_dtype d) { return d == WEIGHT_Q8_0 ? 32 : 16; }
// Layout (WEIGHT_ROWS for these dtypes): rows in groups of 16; a group stores its blocks in order,
// each block (a "step": Q8_0 544 bytes, Q4_0 288) as its quants in units of 64 bytes, unit u
// holding bytes 4u..4u+3 of each of the 16 rows (row a at 4a), then the 16 rows' f16 scales. So a
// unit is one vector of 16 int32 lanes, lane a = row a's 4 bytes, and a tile of 16 rows reads one
// sequential stream. Rows pad to a multiple of 16 and columns to 32, with zeros.
inline int64_t quant_step_bytes(weight_dtype d) { return QUANT_GROUP_ROWS * (quant_block_bytes(d) + 2); }
// Group g's block b.
inline const uint8_t * quant_step(const weight_matrix & w, int64_t g, int64_t b) {
    return static_cast<const uint8_t *>(w.data) + (g * quant_blocks(w.cols) + b) * quant_step_bytes(w.dtype);
}
// Byte t (0 .. block bytes - 1) of row r's block b quants, and row r's block b scale (f16 bits).
inline uint8_t * quant_byte_ptr(const weight_matrix & w, int64_t r, int64_t b, int64_t t) {
    return const_cast<uint8_t *>(quant_step(w, r / QUANT_GROUP_ROWS, b)) + (t / 4) * QUANT_UNIT_BYTES + (r % QUANT_GROUP_ROWS) * 4 + t % 4;
}
inline uint8_t * quant_scale_ptr(const weight_matrix & w, int64_t r, int64_t b) {
    return const_cast<uint8_t *>(quant_step(w, r / QUANT_GROUP_ROWS, b)) + QUANT_GROUP_ROWS * quant_block_bytes(w.dtype) +
           (r % QUANT_GROUP_ROWS) * 2;
}
inline uint16_t quant_scale(const weight_matrix & w, int64_t r, int64_t b) {
    const uint8_t * p = quant_scale_ptr(w, r, b);
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
// Bytes of a quantized (rows, cols) matrix.
size_t weight_quant_bytes(weight_dtype d, int64_t rows, int64_t cols);
// The descriptor of a quantized (rows, cols) matrix stored in mem (weight_quant_bytes of them).
weight_matrix weight_quant_view(weight_dtype d, int64_t rows, int64_t cols, const void * mem);
// Quantizes rows [r0, r1) of src (f32 or bf16, WEIGHT_ROWS, any alignment) into dst (a view of
// zero-filled memory made by weight_quant_view with src's shape). piece: where those rows are read
// (row r0 first, as src lays them out: a piece of the matrix read from its file); null: src.data.
void weight_quantize_rows(const weight_matrix & src, const weight_matrix & dst, int64_t r0, int64_t r1, const void * piece = nullptr);
// "bf16" (= keep as stored), "q8_0", "q4_0"; false for anything else.
bool weight_format_parse(const char * name, weight_dtype * out);
const char * weight_dtype_name(weight_dtype d);
// Element (r, k) of a Q8_0 / Q4_0 matrix, dequantized (quant-ref.cpp).
float quant_weight_at(const weight_matrix & w, int64_t r, int64_t k);
uint16_t f32_to_f16(float f);       // round to nearest even; overflow to inf

// ---- tiled layouts (see WEIGHT_TILED32, WEIGHT_TILED4X16; weight-layouts.cpp) -------------------
constexpr int64_t WEIGHT_GROUP_ROWS = 32;  // TILED32's G (and the row granularity of load and matmul splits)
// TILED32's columns per step: 2 for bf16 (a vdpbf16ps pair), 1 for f32.
inline int64_t weight_step(weight_dtype d) { return d == WEIGHT_BF16 ? 2 : 1; }
// G and P of a layout (ROWS: 1 and 1).
inline int64_t weight_layout_group_rows(weight_layout l) { return l == WEIGHT_TILED32 ? WEIGHT_GROUP_ROWS : l == WEIGHT_TILED4X16 ? 4 : 1; }
inline int64_t weight_layout_step(weight_layout l, weight_dtype d) { return l == WEIGHT_TILED32 ? weight_step(d) : l == WEIGHT_TILED4X16 ? 16 : 1; }
// Columns of w as stored: cols padded to its layout's step.
inline int64_t weight_padded_cols(const weight_matrix & w) {
    const int64_t p = weight_layout_step(w.layout, w.dtype);
    return (w.cols + p - 1) / p * p;
}
// The layout a load gives f32 / bf16 matrices of this dtype on this CPU, for matmul's AUTO path:
// TILED32 where the AVX-512 path reads it at full speed, TILED4X16 for bf16 where the AVX2 path
// multiplies bf16 weights, else ROWS.
weight_layout weight_preferred_layout(weight_dtype d);
// Bytes of src (ROWS layout) re-laid out as `layout` (a tiled one).
size_t weight_tiled_bytes(const weight_matrix & src, weight_layout layout);
// Writes rows [r0, r1) (r1 < 0 or past the last row: to the end) of src (ROWS layout) re-laid out
// as `layout` (a tiled one) to dst, which holds weight_tiled_bytes(src, layout) ZERO-FILLED bytes
// (the padding is not written), and returns its descriptor. Disjoint row ranges write disjoint
// bytes, so a load runs them at the same time. piece: where those rows are read (row r0 first, as
// src lays them out); null: src.data.
weight_matrix weight_tile(const weight_matrix & src, weight_layout layout, void * dst, int64_t r0 = 0, int64_t r1 = -1,
                          const void * piece = nullptr);
// Row r as f32 (out: cols values), any dtype and layout (embedding lookups).
void weight_row_f32(const weight_matrix & w, int64_t r, float * out);
// Element (r, k) as f32, any layout (slow; for the reference path and row lookups).
float weight_at(const weight_matrix & w, int64_t r, int64_t k);

enum kernel_path : int { KERNEL_PATH_AUTO = 0, KERNEL_PATH_REF = 1, KERNEL_PATH_AVX2 = 2, KERNEL_PATH_AVX512 = 3 };

// The environment variable SLIPSTREAM_CPU_ISA caps the instruction sets every kernel and layout
// choice below takes from what the CPU reports, so a bigger CPU runs (and measures) a smaller one's
// paths: "avx512" (no cap), "avxvnni" (AVX2, FMA, F16C and AVX-VNNI: Intel's client cores),
// "avx2", "ref" (the scalar reference). Read once, at the first use. Null when unset; else the line
// the model load logs (*valid false: the value was not one of those and is ignored).
const char * kernel_isa_cap_note(bool * valid);

// The best path this CPU supports ("avx512bf16", "avx512", "avx2", "ref").
const char * kernel_best_path_name();
// The kernels matmuls of weights of dtype d run on this CPU: kernel_best_path_name() for f32 /
// bf16, "avx512vnni" | "avxvnni" | "avx2" | "ref" for Q8_0 / Q4_0.
const char * kernel_path_name(weight_dtype d);
// True when the path can run on this CPU (REF always can).
bool kernel_path_supported(kernel_path path);

// ---- bf16 helpers ---------------------------------------------------------------------------
inline float bf16_to_f32(uint16_t h) {
    uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
}
inline uint16_t f32_to_bf16(float f) {  // round to nearest even; NaN stays NaN
    uint32_t u;
    __builtin_memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}
float f16_to_f32(uint16_t h);

// ---- matmul --------------------------------------------------------------------------------
// y: (n, W.rows) row-major, ldy = row stride of y (>= W.rows); x: (n, W.cols) row-major;
// bias: (W.rows) f32 or null. y = x W^T + bias. pool may be null (single thread).
void matmul(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w, const float * bias,
            thread_pool * pool, kernel_path path = KERNEL_PATH_AUTO);

// Several products sharing one input x in a single thread-pool dispatch (e.g. q/k/v, gate/up).
struct matmul_job {
    float * y;   // (n, w->rows) with row stride ldy
    int64_t ldy;
    const weight_matrix * w;
    const float * bias;  // (w->rows) or null
};
void matmul_multi(const matmul_job * jobs, int n_jobs, const float * x, int64_t n, thread_pool * pool,
                  kernel_path path = KERNEL_PATH_AUTO);

// ---- elementwise and attention (f32) ------------------------------------------------------------
// out, x: (n, dim); weight: (dim). out = x / sqrt(mean(x^2) + eps) * weight. out may alias x.
// Each row's sum of squares is rmsnorm_ref's (in double, j = 0, 1, ... in order), so every row has
// the reference's bits whatever n and the split; rows go 4 at a time (four independent sums) and
// split over pool when it pays.
void rmsnorm(float * out, const float * x, const float * weight, int64_t n, int64_t dim, float eps,
             thread_pool * pool = nullptr);
// In place softmax over one row of length len.
void softmax(float * x, int64_t len);
// gate: (n, ff) becomes silu(gate) * up; up: (n, ff). Row strides ld_gate, ld_up. Rows (and a
// long row's 64-aligned column ranges) split over pool when it pays; every element's result is
// the same whatever the split.
void silu_glu(float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff,
              thread_pool * pool = nullptr);

// RoPE tables: inv_freq (head_dim / 2), HF rotate_half convention (pairs i and i + head_dim/2).
// x: (n, n_heads * head_dim) with row stride ld; positions: (n).
void rope_apply(float * x, int64_t ld, int64_t n, int n_heads, int head_dim, const int32_t * positions,
                const float * inv_freq);
// The same in two halves, so a forward computes the tables once for all layers:
// cos_out, sin_out: (n, head_dim / 2).
void rope_tables(int64_t n, int head_dim, const int32_t * positions, const float * inv_freq, float * cos_out, float * sin_out);
void rope_apply_tables(float * x, int64_t ld, int64_t n, int n_heads, int head_dim, const float * cos_t, const float * sin_t);

// Masked attention for n query rows against kv_len + n cached slots (the batch's own K/V already
// written at slots [kv_len, kv_len + n)).
// q: (n, n_head * head_dim); k_cache, v_cache: (slots, n_head_kv * head_dim) of this layer;
// mask: (n, kv_len + n) row-major, 1 = may attend, or null for causal (row i sees slots <= kv_len + i);
// out: (n, n_head * head_dim). Scale 1/sqrt(head_dim). A row that may attend to nothing gets zeros.
// AUTO runs the AVX-512 kernel (head_dim a multiple of 16 up to 128) where the CPU has it, else the
// generic kernel (attention_keyblocks below: the results of one (row, head) at a time with the
// dispatched dot / axpy); KERNEL_PATH_REF runs attention_ref.
void attention(float * out, const float * q, const float * k_cache, const float * v_cache, int64_t kv_len,
               int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
               kernel_path path = KERNEL_PATH_AUTO);

// ---- K/V stored as bf16 -----------------------------------------------------------------------
// The KV cache and the pool's blocks hold K/V as f32 (f32 models) or bf16 (bf16 / f16 models and
// quantized weights made from them): docs/engine.md "K/V dtype". A forward rounds each new K/V
// row to bf16 once, when it writes it (f32_to_bf16: nearest even); attention widens each element
// back to f32 as it reads it (exact: a 16-bit shift) and accumulates in f32.
enum kv_dtype : int { KV_F32 = 0, KV_BF16 = 1 };
inline size_t kv_dtype_bytes(kv_dtype d) { return d == KV_BF16 ? 2 : 4; }
const char * kv_dtype_name(kv_dtype d);  // "f32" | "bf16"
// "f32" / "bf16"; false for anything else.
bool kv_dtype_parse(const char * name, kv_dtype * out);
// attention() with bf16 K/V: k_cache, v_cache: (slots, n_head_kv * head_dim) bf16, the rest as
// above. AUTO runs the AVX-512 tile kernel where attention() on f32 K/V does (each row widened as it
// loads, so its results are the f32 kernel's on the widened copies), else the generic kernel, its
// results those of the bf16 dot / axpy below per key (AVX2 where the CPU has it); either way a
// row's output is the same in any batch. KERNEL_PATH_REF runs the bf16 attention_ref.
void attention(float * out, const float * q, const uint16_t * k_cache, const uint16_t * v_cache, int64_t kv_len,
               int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
               kernel_path path = KERNEL_PATH_AUTO);
// The dot product of a (f32) and b (bf16), len elements; y (f32) += a * x (bf16). Dispatched.
float dot_f32_bf16(const float * a, const uint16_t * b, int64_t len);
void axpy_f32_bf16(float * y, float a, const uint16_t * x, int64_t len);

// ---- K/V read through a block table --------------------------------------------------------------
// Sessions read the KV pool's full blocks in place instead of copying them (docs/engine.md "The
// KV block pool", kv-share.h): attention then reads through this view. One layer's K
// or V as attention reads it: slot j < shared is row j % KV_VIEW_BLOCK of blocks[j / KV_VIEW_BLOCK]
// (KV_VIEW_BLOCK rows of kv_dim elements, e.g. one layer's K inside a pool block), slot j >= shared
// is own + j * kv_dim (a contiguous cache, its scratch slots included). shared: a multiple of
// KV_VIEW_BLOCK. With shared = 0 it is the contiguous cache.
constexpr int64_t KV_VIEW_BLOCK = 16;
template <class T>
struct kv_view {
    const T * own = nullptr;            // (slots, kv_dim)
    const T * const * blocks = nullptr;  // (shared / KV_VIEW_BLOCK) pointers, each to (KV_VIEW_BLOCK, kv_dim)
    int64_t shared = 0;
};
template <class T>
inline const T * kv_view_row(const kv_view<T> & v, int64_t j, int64_t kv_dim) {
    return j < v.shared ? v.blocks[j / KV_VIEW_BLOCK] + (j % KV_VIEW_BLOCK) * kv_dim : v.own + j * kv_dim;
}
// attention() reading K and V through views (f32 or bf16), the same numbers in the same order as
// attention() on contiguous K/V (bit for bit: only the rows' addresses differ): the AVX-512 tile
// kernel where attention() takes it, else the generic kernel; REF runs attention_paged_ref.
void attention_paged(float * out, const float * q, const kv_view<float> & k, const kv_view<float> & v, int64_t kv_len,
                     int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
                     kernel_path path = KERNEL_PATH_AUTO);
void attention_paged(float * out, const float * q, const kv_view<uint16_t> & k, const kv_view<uint16_t> & v, int64_t kv_len,
                     int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask, thread_pool * pool,
                     kernel_path path = KERNEL_PATH_AUTO);
// True when attention() and attention_paged() run the AVX-512 tile kernel for this shape on this
// CPU (AUTO path: AVX-512, head_dim a multiple of 16 up to 128, n_head a multiple of n_head_kv),
// f32 and bf16 K/V alike; false: the generic kernel.
bool attention_runs_tiles(int n_head, int n_head_kv, int head_dim);
void attention_paged_ref(float * out, const float * q, const kv_view<float> & k, const kv_view<float> & v, int64_t kv_len,
                         int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask);
void attention_paged_ref(float * out, const float * q, const kv_view<uint16_t> & k, const kv_view<uint16_t> & v,
                         int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask);

// Beam search's per-row log-probabilities (docs/redrafter.md §1.5; topk-logprobs.cpp): row: (n_vocab)
// in place: x -= max; x[x < k-th largest] = TOPK_LOG_0; x = log_softmax(x). scratch: any vector
// (resized to top_k). Returns the value every masked entry ends at (TOPK_LOG_0 - logsumexp), or NaN
// when none was masked.
constexpr float TOPK_LOG_0 = -50000.0f;  // Apple's LOG_0
float topk_logprobs_row(float * row, int n_vocab, int top_k, std::vector<float> & scratch);

// y += a * x over len floats; the dot product of a and b (len floats). Dispatched.
void axpy_f32(float * y, float a, const float * x, int64_t len);
float dot_f32(const float * a, const float * b, int64_t len);
// dst (count) = src rounded to bf16 (nearest even). Dispatched.
void convert_f32_to_bf16(uint16_t * dst, const float * src, int64_t count);

// ---- quantized matmul: activations as int8 blocks ---------------------------------------------
// x: (n, K) f32 -> xq: (n, quant_blocks(K) * 32) int8, xd: (n, quant_blocks(K)) f32 scales: per
// block d = max|x| / 127, q = nearest-even(x / d) (0 when d = 0); the pad is zero.
void quantize_input_q8(int8_t * xq, float * xd, const float * x, int64_t n, int64_t K);
// One block of it: len (1..32) values of v -> q (32, zero past len), *xd.
void quantize_input_q8_tail(int8_t * q, float * xd, const float * v, int64_t len);
// The same, 8 lanes at a time, bit-equal (quant-avx2.cpp). AVX2.
void quantize_input_q8_avx2(int8_t * xq, float * xd, const float * x, int64_t n, int64_t K);
// The activations' block offsets some kernels start each block's integer sum from: xc (n,
// quant_blocks(K)) int32, xc[i, b] = -c * (sum of x's int8 block b), c = 8 for Q4_0 (whose kernels
// multiply the unsigned nibble u = q_w + 8) or 128 for Q8_0 on VNNI (the weight q_w XOR 0x80 =
// q_w + 128). Scalar; n K additions.
void quant_input_offsets(int32_t * xc, const int8_t * xq, int64_t n, int64_t K, int32_t c);
// The activations packed for the AVX-512 VNNI kernel, so its tiles find every broadcast at a fixed
// offset from one pointer: inputs in packs of P = quant_pack_width(n) (8, or n where fewer), and per
// pack and block b the pieces (4 bytes: int32) of the P inputs side by side.
//   q (packs, nb, QUANT_PIECES, P) int32: q[t, b, p, c] = bytes 4p..4p+3 of input P t + c's block b
//   d (packs, nb, P) f32: its scale; o (packs, nb, P) int32: its offset (quant_input_offsets)
// packs = quant_packs(n); slots past the last input are never read. A single input's packed layout
// is the one quantize_input_q8 and quant_input_offsets make (xq, xd, xc as they are).
constexpr int64_t QUANT_PACK = 8;
constexpr int64_t QUANT_PIECES = QUANT_BLOCK / 4;
inline int64_t quant_pack_width(int64_t n) { return n < QUANT_PACK ? n : QUANT_PACK; }
inline int64_t quant_packs(int64_t n) { return (n + QUANT_PACK - 1) / QUANT_PACK; }
struct quant_packed_inputs {
    const int32_t * q;
    const float * d;
    const int32_t * o;
};
// Pack t of x (nb blocks per input, packs of QUANT_PACK; with fewer inputs there is only pack 0).
inline quant_packed_inputs quant_packed_at(const quant_packed_inputs & x, int64_t t, int64_t nb) {
    return {x.q + t * nb * QUANT_PIECES * QUANT_PACK, x.d + t * nb * QUANT_PACK, x.o + t * nb * QUANT_PACK};
}
// Inputs [i0, i1) of n in xq, xd (as quantize_input_q8 made them, all n inputs) into q and d, sized
// for all n inputs as above; and of xc (quant_input_offsets) into o.
void quant_pack_inputs(int32_t * q, float * d, const int8_t * xq, const float * xd, int64_t n, int64_t i0, int64_t i1, int64_t nb);
void quant_pack_offsets(int32_t * o, const int32_t * xc, int64_t n, int64_t i0, int64_t i1, int64_t nb);
// Rows [r0, r1) of y = x W^T + bias, W Q8_0 / Q4_0, x given as quantize_input_q8 made it. Every
// output is one fixed sequence of operations, whatever n, the row range and the kernel:
//   acc = 0; for each block b in order: acc = fma(d_w[b] * d_x[b], (float) s_b, acc); y = acc + bias
// with s_b the exact integer dot product of the block's int8 quants and d_w[b] * d_x[b] one f32
// product (docs/engine.md "Quantized weights"). So the result does not depend on the batch, and
// every kernel equals the reference bit for bit. The SIMD kernels below also take xc: the offsets
// above for their format (c = quant_offsets_c; null where c is 0).
void matmul_rows_quant_ref(float * y, int64_t ldy, const int8_t * xq, const float * xd, int64_t n, const weight_matrix & w,
                           const float * bias, int64_t r0, int64_t r1);
// AVX2 + FMA + F16C (quant-avx2.cpp), any n.
void matmul_rows_quant_avx2(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                            const weight_matrix & w, const float * bias, int64_t r0, int64_t r1);
// AVX512F/BW/VL + AVX512_VNNI + F16C (quant-vnni.cpp), any n: quant_vnni_supported(). matmul()
// runs it on the AVX-512 path (AUTO on such CPUs); KERNEL_PATH_AVX2 runs an AVX2-width kernel.
bool quant_vnni_supported();
// x packed (quant_pack_inputs, with the offsets of w's format).
void matmul_rows_quant_vnni(float * y, int64_t ldy, const quant_packed_inputs & x, int64_t n, const weight_matrix & w, const float * bias,
                            int64_t r0, int64_t r1);
// AVX2 + FMA + F16C + AVX-VNNI (quant-avxvnni.cpp), any n: quant_avxvnni_supported(). matmul()
// runs it instead of the AVX2 kernel on the AVX2 path where the CPU has AVX-VNNI.
bool quant_avxvnni_supported();
void matmul_rows_quant_avxvnni(float * y, int64_t ldy, const int8_t * xq, const float * xd, const int32_t * xc, int64_t n,
                               const weight_matrix & w, const float * bias, int64_t r0, int64_t r1);
// The c of the offsets each kernel takes for a format (0: none): Q4_0 8 on all, Q8_0 128 on the two
// vpdpbusd kernels (vnni: quant-vnni.cpp and quant-avxvnni.cpp; AVX2 multiplies |q_w| by the
// activation carrying q_w's sign: no offset).
inline int32_t quant_offsets_c(weight_dtype d, bool vnni) { return d == WEIGHT_Q4_0 ? 8 : vnni ? 128 : 0; }

// ---- the scalar reference (kernels-ref.cpp): same arguments as the dispatched kernels ---------------
// matmul: rows [r0, r1) of y = x W^T + bias for all n inputs, accumulated in double.
void matmul_rows_ref(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w,
                     const float * bias, int64_t r0, int64_t r1);
// attention: one (row, head) at a time, straight from the formula, single-threaded.
void attention_ref(float * out, const float * q, const float * k_cache, const float * v_cache, int64_t kv_len,
                   int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask);
// the same with bf16 K/V: each element widened to f32 where the f32 version reads it, so it equals
// attention_ref on the widened copies bit for bit.
void attention_ref(float * out, const float * q, const uint16_t * k_cache, const uint16_t * v_cache, int64_t kv_len,
                   int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask);
float dot_f32_bf16_ref(const float * a, const uint16_t * b, int64_t len);
void axpy_f32_bf16_ref(float * y, float a, const uint16_t * x, int64_t len);
void silu_glu_ref(float * gate, int64_t ld_gate, const float * up, int64_t ld_up, int64_t n, int64_t ff);
void rmsnorm_ref(float * out, const float * x, const float * weight, int64_t n, int64_t dim, float eps);
float dot_f32_ref(const float * a, const float * b, int64_t len);
void axpy_f32_ref(float * y, float a, const float * x, int64_t len);

// ---- the fast paths (kernels-avx2.cpp, kernels-avx512*.cpp): called by the dispatch and the tests;
// each requires its instruction set (kernel_path_supported, or avx512bf16 where named) ------------
// Rows [r0, r1) of y = x W^T + bias for all n inputs. xb: (n, cols) bf16 copy of x (rounded), read
// for bf16 weights; matmul_rows_avx2 takes ROWS matrices, and bf16 ones in TILED4X16 too. xs: for
// n >= 2 inputs and bf16 weights, split_bf16_inputs_avx2 of xb, or null (then made here, per call).
void matmul_rows_avx2(float * y, int64_t ldy, const float * x, const uint16_t * xb, int64_t n,
                      const weight_matrix & w, const float * bias, int64_t r0, int64_t r1, const float * xs = nullptr);
// xs: (n, cols / 16 * 16) f32 = each 16-value step of xb's rows (n, cols) as its 8 even then its 8 odd
// values, widened (exact): the AVX2 bf16 kernel's several-input tiles read them as they are.
void split_bf16_inputs_avx2(float * xs, const uint16_t * xb, int64_t n, int64_t cols);
void matmul_rows_avx512_f32(float * y, int64_t ldy, const float * x, int64_t n, const weight_matrix & w,
                            const float * bias, int64_t r0, int64_t r1);
// xb: row stride ldxb (cols for ROWS matrices; cols rounded up to even, the pad zero, for TILED32). AVX512-BF16.
void matmul_rows_avx512_bf16(float * y, int64_t ldy, const uint16_t * xb, int64_t ldxb, int64_t n,
                             const weight_matrix & w, const float * bias, int64_t r0, int64_t r1);
float dot_f32_avx2(const float * a, const float * b, int64_t len);
float dot_f32_avx512(const float * a, const float * b, int64_t len);
void axpy_f32_avx2(float * y, float a, const float * x, int64_t len);
// The same operations as dot_f32_avx2 / axpy_f32_avx2 in the same order, x or b widened from
// bf16: on widened copies they give the f32 versions' results bit for bit.
float dot_f32_bf16_avx2(const float * a, const uint16_t * b, int64_t len);
void axpy_f32_bf16_avx2(float * y, float a, const uint16_t * x, int64_t len);
void axpy_f32_avx512(float * y, float a, const float * x, int64_t len);
// The generic attention (attention-keyblocks.cpp) works on blocks of keys widened to f32 (kb:
// (count, hd), row j at kb + j * hd). Its inner loops, each result bit-equal to the one-row helper
// it stands for:
//   dots:  s[i * lds + j] = dot(q[i], kb + j * hd, hd) for i < nq, j < count;
//   axpys: y (len) += a[j] * (x[j] + off)[0..len) for j = 0..count-1 in that order (a: (count)).
using attention_dots_fn = void (*)(float * s, int64_t lds, const float * const * q, int64_t nq, const float * kb,
                                   int64_t count, int64_t hd);
using attention_axpys_fn = void (*)(float * y, const float * a, const float * const * x, int64_t off, int64_t count,
                                    int64_t len);
// axpys2: axpys for two outputs with their own weights over the same rows, or null (two axpys).
using attention_axpys2_fn = void (*)(float * y0, float * y1, const float * a0, const float * a1, const float * const * x,
                                     int64_t off, int64_t count, int64_t len);
struct attention_block_ops {
    attention_dots_fn dots;
    attention_axpys_fn axpys;
    attention_axpys2_fn axpys2;
    // dst (count, hd) f32 = (rows[j] + off)[0..hd) widened from bf16; null: a scalar loop
    void (*widen_bf16)(float * dst, const uint16_t * const * rows, int64_t off, int64_t count, int64_t hd);
    void (*exp_shifted)(float * s, int64_t len, float shift);  // exp_shifted_avx2, or null: std::exp per element
    // s[j] *= scale for j < len, returning the largest that is not NaN (-inf if none); s[j] *= a.
    // Null: scalar loops (the same numbers: the products are elementwise, max is exact).
    float (*scale_max)(float * s, int64_t len, float scale);
    void (*scale)(float * s, int64_t len, float a);
    // dots / axpys / axpys2 reading bf16 rows straight from the cache ((rows[j] + off)[0..hd), each
    // 8 values widened in a register: the same bits as on a widened copy), for tasks of few queries;
    // null where not offered (the widened copy then).
    void (*dots_bf16)(float * s, int64_t lds, const float * const * q, int64_t nq, const uint16_t * const * rows, int64_t off,
                      int64_t count, int64_t hd);
    void (*axpys_bf16)(float * y, const float * a, const uint16_t * const * x, int64_t off, int64_t count, int64_t len);
    void (*axpys2_bf16)(float * y0, float * y1, const float * a0, const float * a1, const uint16_t * const * x, int64_t off,
                        int64_t count, int64_t len);
};
// attention() / attention_paged() for K/V rows given per slot: k_rows[j], v_rows[j] (j < kv_len + n)
// point at slot j's row of n_head_kv * head_dim elements. The same numbers as one (row, head) at a
// time with ops' one-row dot and axpy per visible key in slot order (docs/engine.md, "Attention by
// key blocks").
void attention_keyblocks(float * out, const float * q, const float * const * k_rows, const float * const * v_rows,
                         int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask,
                         thread_pool * pool, const attention_block_ops & ops);
void attention_keyblocks(float * out, const float * q, const uint16_t * const * k_rows, const uint16_t * const * v_rows,
                         int64_t kv_len, int64_t n, int n_head, int n_head_kv, int head_dim, const uint8_t * mask,
                         thread_pool * pool, const attention_block_ops & ops);
// attention-avx2.cpp: dots = dot_f32_avx2 per (query, key), two queries x four keys (or one x
// eight) side by side with one horizontal sum for eight results; axpys = successive axpy_f32_avx2,
// the output held in registers across all rows (64 floats at a time).
void attention_dots_avx2(float * s, int64_t lds, const float * const * q, int64_t nq, const float * kb, int64_t count,
                         int64_t hd);
void axpys_f32_avx2(float * y, const float * a, const float * const * x, int64_t off, int64_t count, int64_t len);
// The same with four queries x four keys first, on CPUs with AVX-512VL (its 32 registers; the same
// 256-bit operations, so the same bits).
void attention_dots_avx512vl(float * s, int64_t lds, const float * const * q, int64_t nq, const float * kb, int64_t count,
                             int64_t hd);
// widen_bf16, scale_max and scale on AVX2.
void attention_widen_bf16_avx2(float * dst, const uint16_t * const * rows, int64_t off, int64_t count, int64_t hd);
float attention_scale_max_avx2(float * s, int64_t len, float scale);
void attention_scale_avx2(float * s, int64_t len, float a);
// Two outputs over the same value rows, each row loaded once for both (AVX-512VL's registers: 64
// floats of each at a time; AVX2's: 32).
void axpys2_f32_avx512vl(float * y0, float * y1, const float * a0, const float * a1, const float * const * x, int64_t off,
                         int64_t count, int64_t len);
void axpys2_f32_avx2(float * y0, float * y1, const float * a0, const float * a1, const float * const * x, int64_t off,
                     int64_t count, int64_t len);
// The dots / axpys / axpys2 above on bf16 rows (rows[j] + off) instead of a widened block (the
// block ops' dots_bf16, axpys_bf16, axpys2_bf16).
void attention_dots_bf16_avx2(float * s, int64_t lds, const float * const * q, int64_t nq, const uint16_t * const * rows,
                              int64_t off, int64_t count, int64_t hd);
void attention_dots_bf16_avx512vl(float * s, int64_t lds, const float * const * q, int64_t nq, const uint16_t * const * rows,
                                  int64_t off, int64_t count, int64_t hd);
void axpys_bf16_avx2(float * y, const float * a, const uint16_t * const * x, int64_t off, int64_t count, int64_t len);
void axpys2_bf16_avx512vl(float * y0, float * y1, const float * a0, const float * a1, const uint16_t * const * x, int64_t off,
                          int64_t count, int64_t len);
void axpys2_bf16_avx2(float * y0, float * y1, const float * a0, const float * a1, const uint16_t * const * x, int64_t off,
                      int64_t count, int64_t len);
// AVX512-BF16.
void convert_f32_to_bf16_avx512(uint16_t * dst, const float * src, int64_t count);
// One row: g (len) = silu(g) * u (len).
void silu_glu_avx512(float * g, const float * u, int64_t len);
// exp-avx2.cpp (AVX2+FMA): the same row with exp256, every element through the 8 lanes (the tail too).
void silu_glu_avx2(float * g, const float * u, int64_t len);
// s (len) = exp(s - shift) with exp256; s < shift - 88 (and -inf) gives exactly 0.
void exp_shifted_avx2(float * s, int64_t len, float shift);
// The arguments of attention() and attention_paged() (above), as the AVX-512 tile kernel takes
// them: K and V as one row pointer per slot (contiguous caches and views alike), T float or bf16.
template <class T>
struct attention_args {
    float * out;          // (n, n_head * head_dim)
    const float * q;      // (n, n_head * head_dim)
    const T * const * k;  // (kv_len + n) rows: slot j's K, n_head_kv * head_dim elements
    const T * const * v;  // (kv_len + n) rows: slot j's V
    int64_t kv_len, n;
    int n_head, n_head_kv, head_dim;
    const uint8_t * mask;  // (n, kv_len + n) or null (causal)
    float scale;           // 1 / sqrt(head_dim)
};
// Query rows [i0, i1), all query heads of KV head hk; false when head_dim is not supported. bf16
// rows are widened to f32 as they load (exact), so bf16 K/V give the f32 kernel's bits on the
// widened copies.
bool attention_tile_avx512(const attention_args<float> & a, int hk, int64_t i0, int64_t i1);
bool attention_tile_avx512(const attention_args<uint16_t> & a, int hk, int64_t i0, int64_t i1);
