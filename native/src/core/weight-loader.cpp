/*
 * weight-loader.cpp: checked tensors out of safetensors mappings, into the forms the kernels take
 * (see weight-loader.h). The re-layout of a large matrix is most of a load, so it runs in two
 * halves on two threads.
 */
#include "weight-loader.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <thread>

#include "base/fault-inject.h"
#include "base/status.h"
#include "file-read.h"
#include "quant-file.h"

namespace {

size_t element_size(weight_dtype d) { return d == WEIGHT_BF16 ? 2 : 4; }

// True when the scalar code may read w.data as an array of its element type.
bool aligned(const weight_matrix & w) { return reinterpret_cast<uintptr_t>(w.data) % element_size(w.dtype) == 0; }

// Drops the whole pages of [p, p + n) from this process's resident set (a read-only file mapping
// reads them again from the file if touched), so a load that copies tensor by tensor keeps only
// about one tensor of the file resident.
void release_pages(const void * p, size_t n) {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t a = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page, b = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
    if (b > a) ::madvise(reinterpret_cast<void *>(a), b - a, MADV_DONTNEED);
}

// Runs f(r0, r1) over [0, rows) in two halves on two threads (the copies are most of a load).
template <typename F>
void split_rows(int64_t rows, F f) {
    const int64_t half = std::min(rows, (rows / 2 + WEIGHT_GROUP_ROWS - 1) / WEIGHT_GROUP_ROWS * WEIGHT_GROUP_ROWS);
    std::thread helper([&] { f(half, rows); });
    f(int64_t(0), half);
    helper.join();
}

// split_rows for a matrix read from a file mapping (src: nbytes, rows of equal size): each half
// runs f(r0, r1, half) in pieces of about 16 MB of the source and drops a piece's file pages as
// soon as it is done, so a large matrix (a 151,936-row embedding: 272 MB of bf16) never has all
// its file pages resident next to its copy. Then the whole tensor's (the pages the pieces' edges share).
template <typename F>
void split_rows_releasing(int64_t rows, const void * src, size_t nbytes, F f) {
    constexpr size_t PIECE_BYTES = size_t(16) << 20;
    const int64_t G = WEIGHT_GROUP_ROWS;
    const size_t row_bytes = nbytes / static_cast<size_t>(std::max<int64_t>(rows, 1));
    const int64_t per = std::max<int64_t>(G, static_cast<int64_t>(PIECE_BYTES / std::max<size_t>(row_bytes, 1)) / G * G);
    const uint8_t * s = static_cast<const uint8_t *>(src);
    split_rows(rows, [&](int64_t r0, int64_t r1) {
        for (int64_t a = r0; a < r1; a += per) {
            const int64_t b = std::min(r1, a + per);
            f(a, b, r0 == 0 ? 0 : 1);
            release_pages(s + static_cast<size_t>(a) * row_bytes, static_cast<size_t>(b - a) * row_bytes);
        }
    });
    release_pages(src, nbytes);
}

}  // namespace

weight_loader::weight_loader(weight_store & store, const std::string & dir, weight_load_params params)
    : store_(store), params_(std::move(params)) {
    store_.files = st_open_folder(dir, params_.populate);
    where_ = store_.files->files.size() == 1 ? store_.files->files[0]->path : dir + "/model.safetensors.index.json";
    const std::string prefix = QUANT_META_TENSOR_PREFIX;
    for (const auto & f : store_.files->files) {
        auto folder = f->metadata.find(QUANT_META_FOLDER);
        if (weight_is_quant(params_.saved)) {
            const std::string want = weight_dtype_name(params_.saved);
            if (folder == f->metadata.end() || folder->second != want)
                bad_model(f->path, std::string("__metadata__ ") + QUANT_META_FOLDER + " is " +
                                       (folder == f->metadata.end() ? "absent" : file_value_for_message(folder->second)) + " but " +
                                       params_.saved_source + ": not the file `slipstream quantize` wrote for this folder");
        } else if (folder != f->metadata.end()) {
            bad_model(f->path, std::string("__metadata__ says the file holds ") + file_value_for_message(folder->second) + " blocks (" +
                                   QUANT_META_FOLDER + ") but " + params_.shape_source + " has no " + QUANT_CONFIG_KEY +
                                   ": a quantized folder needs both");
        }
        for (const auto & kv : f->metadata)
            if (kv.first.compare(0, prefix.size(), prefix) == 0) quant_of_[kv.first.substr(prefix.size())] = kv.second;
        for (const auto & t : f->tensors) {
            if (t.dtype != ST_OTHER) {
                file_elements_ += t.nbytes / (t.dtype == ST_F32 ? 4 : 2);
                continue;
            }
            auto q = quant_of_.find(t.name);
            weight_dtype d;
            if (q != quant_of_.end() && weight_format_parse(q->second.c_str(), &d) && weight_is_quant(d) && t.shape.size() == 2)
                file_elements_ += static_cast<uint64_t>(t.shape[0]) * static_cast<uint64_t>(t.shape[1] / quant_file_block_bytes(d)) * QUANT_BLOCK;
        }
    }
    check_only_ = params_.expect_elements > file_elements_;
}

const st_tensor * weight_loader::find(const std::vector<std::string> & names) const {
    for (const auto & n : names)
        if (const st_tensor * t = store_.files->find(n)) return t;
    return nullptr;
}

const st_tensor & weight_loader::tensor(const std::vector<std::string> & names, const std::vector<int64_t> & shape) {
    if (params_.abort && *params_.abort) throw engine_error(ERROR_CANCELLED, "model load cancelled");
    const st_tensor * t = find(names);
    if (!t) bad_model(where_, "missing tensor '" + names[0] + "' (expected shape " + st_shape_str(shape) + ")");
    if (t->shape != shape)
        bad_model(t->file, "tensor '" + t->name + "' has shape " + st_shape_str(t->shape) + ", expected " + st_shape_str(shape) +
                               " (from " + params_.shape_source + ")");
    if (t->dtype == ST_OTHER)
        bad_model(t->file, "tensor '" + t->name + "' has unsupported dtype " + t->dtype_name + " (supported: F32, BF16, F16)");
    if (params_.want != ST_OTHER && t->dtype != params_.want)
        bad_model(t->file, "tensor '" + t->name + "' has dtype " + t->dtype_name + " but " + params_.want_source);
    return *t;
}

weight_matrix weight_loader::saved_matrix(const std::vector<std::string> & names, int64_t rows, int64_t cols, weight_dtype quant) {
    if (params_.abort && *params_.abort) throw engine_error(ERROR_CANCELLED, "model load cancelled");
    const st_tensor * tp = find(names);
    if (!tp) bad_model(where_, "missing tensor '" + names[0] + "' (a " + weight_dtype_name(quant) + " matrix of shape " + st_shape_str({rows, cols}) + ")");
    const st_tensor & t = *tp;
    const auto q = quant_of_.find(t.name);
    if (t.dtype_name != "U8" || q == quant_of_.end())
        bad_model(t.file, "tensor '" + t.name + "' has dtype " + t.dtype_name + (q == quant_of_.end() ? " and no format in __metadata__" : "") +
                              ", but " + params_.saved_source + ": its matrices are U8 tensors of " + weight_dtype_name(quant) +
                              " blocks, each named in __metadata__ (" + QUANT_META_TENSOR_PREFIX + t.name + ")");
    weight_dtype stored = WEIGHT_BF16;
    if (!weight_format_parse(q->second.c_str(), &stored) || !weight_is_quant(stored))
        bad_model(t.file, "tensor '" + t.name + "' has the unknown format " + file_value_for_message(q->second) +
                              " in __metadata__ (known: q8_0, q4_0)");
    if (stored != quant)
        bad_model(t.file, "tensor '" + t.name + "' holds " + weight_dtype_name(stored) + " blocks but the engine keeps it as " +
                              weight_dtype_name(quant) + " (" + params_.saved_source + ")");
    const int64_t row_bytes = quant_file_row_bytes(quant, cols);
    if (t.shape != std::vector<int64_t>{rows, row_bytes})
        bad_model(t.file, "tensor '" + t.name + "' has shape " + st_shape_str(t.shape) + ", expected " + st_shape_str({rows, row_bytes}) +
                              " (a (" + std::to_string(rows) + ", " + std::to_string(cols) + ") matrix from " + params_.shape_source + " in " +
                              weight_dtype_name(quant) + " blocks of " + std::to_string(quant_file_block_bytes(quant)) + " bytes)");
    if (check_only_) return weight_matrix{};
    if (fault_hit("alloc:weights")) throw std::bad_alloc();
    const size_t bytes = weight_quant_bytes(quant, rows, cols);
    const weight_matrix w = weight_quant_view(quant, rows, cols, store_.tiled.take(bytes));
    quant_bad_block bad[2];
    split_rows_releasing(rows, t.data, t.nbytes, [&](int64_t r0, int64_t r1, int half) {
        const quant_bad_block b = quant_rows_from_file(t.data, w, r0, r1);
        if (bad[half].row < 0) bad[half] = b;  // each half's first
    });
    for (const auto & b : bad)
        if (b.row >= 0) bad_model(t.file, "tensor '" + t.name + "' has a corrupt " + weight_dtype_name(quant) + " block at " + quant_bad_block_str(b));
    store_.bytes += bytes;
    store_.quantized.emplace_back(t.name, w);
    return w;
}

weight_matrix weight_loader::matrix(const std::vector<std::string> & names, int64_t rows, int64_t cols, weight_dtype quant) {
    if (weight_is_quant(params_.saved) && weight_is_quant(quant)) return saved_matrix(names, rows, cols, quant);
    const st_tensor & t = tensor(names, {rows, cols});
    if (check_only_) return weight_matrix{};
    if (fault_hit("alloc:weights")) throw std::bad_alloc();  // as a failed new below would
    const size_t count = static_cast<size_t>(rows * cols);
    weight_matrix w;
    w.rows = rows;
    w.cols = cols;
    if (weight_is_quant(quant) && t.dtype != ST_F16) {  // straight from the mapping (any alignment)
        w.dtype = t.dtype == ST_BF16 ? WEIGHT_BF16 : WEIGHT_F32;
        w.data = t.data;
        const size_t bytes = weight_quant_bytes(quant, rows, cols);
        const weight_matrix q = weight_quant_view(quant, rows, cols, store_.tiled.take(bytes));
        split_rows_releasing(rows, t.data, t.nbytes, [&](int64_t r0, int64_t r1, int) { weight_quantize_rows(w, q, r0, r1); });
        store_.bytes += bytes;
        store_.quantized.emplace_back(t.name, q);
        return q;
    }
    if (t.dtype == ST_F16) {  // F16 -> f32 copy
        std::unique_ptr<float[]> buf(new float[count]);
        for (size_t i = 0; i < count; ++i) {
            uint16_t h;
            std::memcpy(&h, t.data + 2 * i, 2);
            buf[i] = f16_to_f32(h);
        }
        w.dtype = WEIGHT_F32;
        w.data = buf.get();
        store_.owned.push_back(std::move(buf));
    } else {
        w.dtype = t.dtype == ST_BF16 ? WEIGHT_BF16 : WEIGHT_F32;
        w.data = t.data;
    }
    const bool copied = t.dtype == ST_F16;
    if (weight_is_quant(quant)) {  // F16: from its f32 copy
        const size_t bytes = weight_quant_bytes(quant, rows, cols);
        const weight_matrix q = weight_quant_view(quant, rows, cols, store_.tiled.take(bytes));
        split_rows(rows, [&](int64_t r0, int64_t r1) { weight_quantize_rows(w, q, r0, r1); });
        store_.owned.pop_back();
        store_.bytes += bytes;
        store_.quantized.emplace_back(t.name, q);
        return q;
    }
    store_.bytes += count * element_size(w.dtype);
    const weight_layout layout = params_.tile ? weight_preferred_layout(w.dtype) : WEIGHT_ROWS;
    if (layout != WEIGHT_ROWS) {
        // the re-layout reads bytes (memcpy), so the source may be misaligned
        void * dst = store_.tiled.take(weight_tiled_bytes(w, layout));  // zero-filled
        const weight_matrix tiled = weight_tile(w, layout, dst, 0, 0);  // the descriptor; the rows follow
        if (copied) {  // from the F16 -> f32 copy, which is not needed afterwards
            split_rows(w.rows, [&](int64_t r0, int64_t r1) { weight_tile(w, layout, dst, r0, r1); });
            store_.owned.pop_back();
        } else {
            split_rows_releasing(w.rows, t.data, t.nbytes, [&](int64_t r0, int64_t r1, int) { weight_tile(w, layout, dst, r0, r1); });
        }
        return tiled;
    }
    if (!copied && !aligned(w)) {  // kept as stored, in a copy the kernels may read as floats / bf16 words
        std::unique_ptr<float[]> buf(new float[(count * element_size(w.dtype) + 3) / 4]);
        std::memcpy(buf.get(), t.data, count * element_size(w.dtype));
        w.data = buf.get();
        store_.owned.push_back(std::move(buf));
    } else if (!copied) {
        ++in_place_;
    }
    return w;
}

std::vector<float> weight_loader::vec(const std::vector<std::string> & names, int64_t len) {
    const st_tensor & t = tensor(names, {len});
    if (check_only_) return {};
    std::vector<float> out(static_cast<size_t>(len));
    st_to_f32(t, out.data(), len);
    store_.bytes += static_cast<uint64_t>(len) * 4;
    return out;
}

void weight_loader::finish() {
    if (check_only_)
        bad_model(params_.expect_source, "describes " + std::to_string(params_.expect_elements) + " weight elements but " + where_ +
                                             " holds " + std::to_string(file_elements_) +
                                             " (vocab_size, hidden_size, intermediate_size, num_hidden_layers or the head counts are too large)");
    if (in_place_ == 0) store_.files.reset();
    else for (auto & f : store_.files->files) st_detach_from_disk(*f);
}
