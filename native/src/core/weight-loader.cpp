/*
 * weight-loader.cpp: checked tensors out of safetensors files, into the forms the kernels take
 * (see weight-loader.h). A matrix's bytes are read from its file (st_read) a piece at a time into
 * a small buffer and copied from there into their final form, so no more than a few pieces of the
 * file are in memory next to the weights. The copies are most of a load, so a large matrix runs in
 * two halves on two threads.
 */
#include "weight-loader.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <thread>
#include <vector>

#include "base/fault-inject.h"
#include "base/status.h"
#include "file-read.h"
#include "quant-file.h"

namespace {

size_t element_size(weight_dtype d) { return d == WEIGHT_BF16 ? 2 : 4; }

// Runs f(r0, r1) over [0, rows) in two halves on two threads (the copies are most of a load). An
// exception from either half is rethrown once both are done (the first half's first).
template <typename F>
void split_rows(int64_t rows, F f) {
    const int64_t half = std::min(rows, (rows / 2 + WEIGHT_GROUP_ROWS - 1) / WEIGHT_GROUP_ROWS * WEIGHT_GROUP_ROWS);
    std::exception_ptr failed[2];
    std::thread helper([&] {
        try {
            f(half, rows);
        } catch (...) {
            failed[1] = std::current_exception();
        }
    });
    try {
        f(int64_t(0), half);
    } catch (...) {
        failed[0] = std::current_exception();
    }
    helper.join();
    for (const auto & e : failed)
        if (e) std::rethrow_exception(e);
}

// Bytes of one of t's rows (rows of equal size).
size_t row_bytes_of(const st_tensor & t, int64_t rows) { return t.nbytes / static_cast<size_t>(std::max<int64_t>(rows, 1)); }

// split_rows for a matrix t of the files (rows of equal size): each half reads its rows in pieces
// of about 1 MB into a buffer of its own and runs f(r0, r1, half, piece) on each (piece: rows r0 ..
// r1 as the file lays them out, row r0 first). So only two pieces of the file are in memory at a
// time, each in its thread's cache when f copies it, and the buffer's pages are reused, not faulted
// in afresh for each piece.
template <typename F>
void split_rows_reading(const st_tensor & t, int64_t rows, F f) {
    constexpr size_t PIECE_BYTES = size_t(1) << 20;
    const int64_t G = WEIGHT_GROUP_ROWS;
    const size_t row_bytes = row_bytes_of(t, rows);
    const int64_t per = std::max<int64_t>(G, static_cast<int64_t>(PIECE_BYTES / std::max<size_t>(row_bytes, 1)) / G * G);
    split_rows(rows, [&](int64_t r0, int64_t r1) {
        std::vector<uint8_t> piece(static_cast<size_t>(std::min(per, std::max<int64_t>(r1 - r0, 0))) * row_bytes);
        for (int64_t a = r0; a < r1; a += per) {
            const int64_t b = std::min(r1, a + per);
            st_read(t, static_cast<size_t>(a) * row_bytes, static_cast<size_t>(b - a) * row_bytes, piece.data());
            f(a, b, r0 == 0 ? 0 : 1, piece.data());
        }
    });
}

}  // namespace

weight_loader::weight_loader(weight_store & store, const std::string & dir, weight_load_params params)
    : store_(store), params_(std::move(params)) {
    files_ = st_open_folder(dir);
    where_ = files_->files.size() == 1 ? files_->files[0]->path : dir + "/model.safetensors.index.json";
    const std::string prefix = QUANT_META_TENSOR_PREFIX;
    for (const auto & f : files_->files) {
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
        if (const st_tensor * t = files_->find(n)) return t;
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
    split_rows_reading(t, rows, [&](int64_t r0, int64_t r1, int half, const uint8_t * piece) {
        const quant_bad_block b = quant_rows_from_file(piece, w, r0, r1);
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
    weight_matrix w;  // as the kernels take it: F16 computes as f32 (converted below)
    w.rows = rows;
    w.cols = cols;
    w.dtype = t.dtype == ST_BF16 ? WEIGHT_BF16 : WEIGHT_F32;
    if (weight_is_quant(quant) && t.dtype != ST_F16) {  // straight from the file's bytes (any alignment): the pieces read
        const size_t bytes = weight_quant_bytes(quant, rows, cols);
        const weight_matrix q = weight_quant_view(quant, rows, cols, store_.tiled.take(bytes));
        split_rows_reading(t, rows, [&](int64_t r0, int64_t r1, int, const uint8_t * piece) { weight_quantize_rows(w, q, r0, r1, piece); });
        store_.bytes += bytes;
        store_.quantized.emplace_back(t.name, q);
        return q;
    }
    if (t.dtype == ST_F16) {  // F16 -> f32 copy, which the rest starts from
        std::unique_ptr<float[]> buf(new float[count]);
        split_rows_reading(t, rows, [&](int64_t r0, int64_t r1, int, const uint8_t * piece) {
            st_to_f32(ST_F16, piece, buf.get() + r0 * cols, (r1 - r0) * cols);
        });
        w.data = buf.get();
        store_.owned.push_back(std::move(buf));
        if (weight_is_quant(quant)) {
            const size_t bytes = weight_quant_bytes(quant, rows, cols);
            const weight_matrix q = weight_quant_view(quant, rows, cols, store_.tiled.take(bytes));
            split_rows(rows, [&](int64_t r0, int64_t r1) { weight_quantize_rows(w, q, r0, r1); });
            store_.owned.pop_back();
            store_.bytes += bytes;
            store_.quantized.emplace_back(t.name, q);
            return q;
        }
    }
    const bool copied = t.dtype == ST_F16;
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
            split_rows_reading(t, w.rows, [&](int64_t r0, int64_t r1, int, const uint8_t * piece) { weight_tile(w, layout, dst, r0, r1, piece); });
        }
        return tiled;
    }
    if (!copied) {  // kept as stored: read straight into the arena (aligned, in forward order)
        uint8_t * dst = static_cast<uint8_t *>(store_.tiled.take(t.nbytes));
        const size_t row_bytes = row_bytes_of(t, rows);
        split_rows(rows, [&](int64_t r0, int64_t r1) {
            st_read(t, static_cast<size_t>(r0) * row_bytes, static_cast<size_t>(r1 - r0) * row_bytes, dst + static_cast<size_t>(r0) * row_bytes);
        });
        w.data = dst;
    }
    return w;
}

std::vector<float> weight_loader::vec(const std::vector<std::string> & names, int64_t len) {
    const st_tensor & t = tensor(names, {len});
    if (check_only_) return {};
    std::vector<uint8_t> bytes(t.nbytes);
    st_read(t, 0, t.nbytes, bytes.data());
    std::vector<float> out(static_cast<size_t>(len));
    st_to_f32(t.dtype, bytes.data(), out.data(), len);
    store_.bytes += static_cast<uint64_t>(len) * 4;
    return out;
}

void weight_loader::finish() {
    if (check_only_)
        bad_model(params_.expect_source, "describes " + std::to_string(params_.expect_elements) + " weight elements but " + where_ +
                                             " holds " + std::to_string(file_elements_) +
                                             " (vocab_size, hidden_size, intermediate_size, num_hidden_layers or the head counts are too large)");
    files_.reset();
}
