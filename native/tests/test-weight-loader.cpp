/*
 * test-weight-loader.cpp: the one weight loader (core/weight-loader.h) that models and drafters
 * share: F32, BF16 and F16 matrices come out with their stored values, as stored or re-laid out,
 * in aligned memory wherever the header puts their data; a matrix read in several pieces comes out
 * whole (as stored, re-laid out, quantized); nothing refers to the file after the load; errors
 * name the file and the tensor; the abort flag cancels a load.
 */
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/weight-loader.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {

struct raw_tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::string bytes;
};

uint16_t f32_to_f16(float f) {  // exact for the small integers and halves used here
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) == 0) return static_cast<uint16_t>(u >> 16);
    const uint32_t sign = (u >> 16) & 0x8000, exp = ((u >> 23) & 0xff) - 127 + 15, mant = (u >> 13) & 0x3ff;
    return static_cast<uint16_t>(sign | (exp << 10) | mant);
}

// A value per element that every dtype holds exactly: (r * cols + k) / 2 - 3.
float value(int64_t r, int64_t k, int64_t cols) { return static_cast<float>(r * cols + k) / 2.0f - 3.0f; }

raw_tensor matrix(const std::string & name, const std::string & dtype, int64_t rows, int64_t cols) {
    raw_tensor t{name, dtype, {rows, cols}, ""};
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < cols; ++k) {
            const float v = value(r, k, cols);
            if (dtype == "F32") t.bytes.append(reinterpret_cast<const char *>(&v), 4);
            else {
                const uint16_t h = dtype == "BF16" ? f32_to_bf16(v) : f32_to_f16(v);
                t.bytes.append(reinterpret_cast<const char *>(&h), 2);
            }
        }
    return t;
}

// A model.safetensors whose data section starts at 8 + header length; misalign picks that length's
// remainder mod 8, so the data of every tensor may be aligned (0) or not (e.g. 1).
std::string write_folder(const std::vector<raw_tensor> & ts, size_t misalign) {
    std::string header = "{", data;
    for (const auto & t : ts) {
        if (header.size() > 1) header += ",";
        header += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.shape[i]);
        header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," + std::to_string(data.size() + t.bytes.size()) + "]}";
        data += t.bytes;
        while (data.size() % 8) data += '\0';  // every tensor starts 8-aligned within the data section
    }
    header += "}";
    while (header.size() % 8 != misalign) header += ' ';
    const uint64_t len = header.size();
    const std::string dir = make_temp_dir();
    write_file(dir + "/model.safetensors", std::string(reinterpret_cast<const char *>(&len), 8) + header + data);
    return dir;
}

bool values_ok(const weight_matrix & w) {
    bool ok = true;
    for (int64_t r = 0; r < w.rows; ++r)
        for (int64_t k = 0; k < w.cols; ++k) ok = ok && weight_at(w, r, k) == value(r, k, w.cols);
    return ok;
}

bool aligned(const weight_matrix & w) { return reinterpret_cast<uintptr_t>(w.data) % (w.dtype == WEIGHT_BF16 ? 2 : 4) == 0; }

// Runs fn and returns the engine_error's message ("" when nothing was thrown); kind gets its kind.
template <typename F>
std::string error_of(F && fn, error_kind * kind = nullptr) {
    try {
        fn();
    } catch (const engine_error & e) {
        if (kind) *kind = e.kind;
        return e.what();
    }
    return "";
}

bool contains(const std::string & s, const std::string & part) { return s.find(part) != std::string::npos; }

raw_tensor vector9() {
    raw_tensor t = matrix("vec", "F32", 1, 9);
    t.shape = {9};
    return t;
}

const std::vector<raw_tensor> k_tensors = {
    matrix("f32", "F32", 37, 5), matrix("bf16", "BF16", 33, 6), matrix("f16", "F16", 3, 7), vector9(),
    raw_tensor{"i32", "I32", {2, 2}, std::string(16, '\0')},
};

void check_values(size_t misalign, bool tile) {
    const std::string dir = write_folder(k_tensors, misalign);
    weight_store store;
    weight_load_params p;
    p.tile = tile;
    weight_loader ld(store, dir, p);
    const weight_matrix f = ld.matrix({"f32"}, 37, 5), b = ld.matrix({"bf16"}, 33, 6), h = ld.matrix({"f16"}, 3, 7);
    CHECK(values_ok(f) && values_ok(b) && values_ok(h));
    CHECK(aligned(f) && aligned(b) && aligned(h));
    CHECK(f.dtype == WEIGHT_F32 && b.dtype == WEIGHT_BF16 && h.dtype == WEIGHT_F32);  // F16 computes as f32
    CHECK(store.bytes == uint64_t(37 * 5 * 4 + 33 * 6 * 2 + 3 * 7 * 4));
    const std::vector<float> v = ld.vec({"missing-spelling", "vec"}, 9);  // the second spelling is found
    CHECK(v.size() == 9 && v[8] == value(0, 8, 9));
    ld.finish();
    CHECK(::truncate((dir + "/model.safetensors").c_str(), 0) == 0);  // the matrices are the loader's own
    CHECK(values_ok(f) && values_ok(b) && values_ok(h));
    remove_dir(dir);
}

// A matrix over several of the loader's pieces (about 1 MB) in each of its two halves: 2048 rows
// of 300 f32 are 864 rows a piece. As stored, re-laid out and quantized, every row comes from the
// right place of the right piece: the values, and the quantized bytes of the whole matrix
// quantized in memory.
void check_pieces() {
    const int64_t rows = 2048, cols = 300;
    const raw_tensor big = matrix("big", "F32", rows, cols);
    const std::string dir = write_folder({big}, 0);
    for (bool tile : {false, true}) {
        weight_store store;
        weight_load_params p;
        p.tile = tile;
        weight_loader ld(store, dir, p);
        CHECK(values_ok(ld.matrix({"big"}, rows, cols)));
        ld.finish();
    }
    for (weight_dtype q : {WEIGHT_Q8_0, WEIGHT_Q4_0}) {
        weight_store store;
        weight_loader ld(store, dir, weight_load_params{});
        const weight_matrix w = ld.matrix({"big"}, rows, cols, q);
        ld.finish();
        weight_matrix src;
        src.rows = rows;
        src.cols = cols;
        src.dtype = WEIGHT_F32;
        src.data = big.bytes.data();
        std::vector<uint8_t> ref(weight_quant_bytes(q, rows, cols), 0);
        weight_quantize_rows(src, weight_quant_view(q, rows, cols, ref.data()), 0, rows);
        CHECK(std::memcmp(ref.data(), w.data, ref.size()) == 0);
    }
    remove_dir(dir);
}

void check_errors() {
    const std::string dir = write_folder(k_tensors, 0);
    const std::string file = dir + "/model.safetensors";
    weight_store store;
    weight_loader ld(store, dir, weight_load_params{});
    std::string e = error_of([&] { ld.matrix({"nope"}, 2, 3); });
    CHECK(contains(e, file) && contains(e, "missing tensor 'nope' (expected shape [2, 3])"));
    e = error_of([&] { ld.matrix({"f32"}, 5, 37); });
    CHECK(contains(e, file) && contains(e, "tensor 'f32' has shape [37, 5], expected [5, 37] (from config.json)"));
    e = error_of([&] { ld.matrix({"i32"}, 2, 2); });
    CHECK(contains(e, file) && contains(e, "tensor 'i32' has unsupported dtype I32"));

    weight_store store2;
    weight_load_params want;
    want.want = ST_BF16;
    want.want_source = "config.json says bfloat16";
    weight_loader ld2(store2, dir, want);
    error_kind kind = ERROR_IO;
    e = error_of([&] { ld2.matrix({"f32"}, 37, 5); }, &kind);
    CHECK(kind == ERROR_BAD_MODEL && contains(e, file) && contains(e, "tensor 'f32' has dtype F32 but config.json says bfloat16"));

    volatile int abort = 1;
    weight_store store3;
    weight_load_params ap;
    ap.abort = &abort;
    weight_loader ld3(store3, dir, ap);
    e = error_of([&] { ld3.vec({"vec"}, 9); }, &kind);
    CHECK(kind == ERROR_CANCELLED && contains(e, "cancelled"));
}

}  // namespace

int main() {
    for (size_t misalign : {size_t(0), size_t(1), size_t(2)})
        for (bool tile : {false, true}) check_values(misalign, tile);
    check_pieces();
    check_errors();
    return test_summary("test-weight-loader");
}
