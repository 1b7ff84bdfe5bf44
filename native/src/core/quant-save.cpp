/*
 * quant-save.cpp: the writer of a saved quantized folder's model.safetensors (quant-save.h): the
 * header (tensors sorted by name, data contiguous with no holes, the header padded with spaces to a
 * multiple of 8 bytes as the format allows), then the tensors, the quantized ones converted row by
 * row from the engine's memory (quant_row_to_file), the others read from the source file and copied.
 */
#include "quant-save.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "base/status.h"
#include "quant-file.h"
#include "safetensors.h"

namespace {

std::string json_quote(const std::string & s) {
    std::string out = "\"";
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += static_cast<char>(ch);
        } else if (ch < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += static_cast<char>(ch);
        }
    }
    return out + "\"";
}

struct out_tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    uint64_t nbytes = 0;
    const weight_matrix * quant = nullptr;  // written from memory, else from src
    const st_tensor * src = nullptr;
};

struct file_closer {
    void operator()(std::FILE * f) const { std::fclose(f); }
};

[[noreturn]] void io_error(const std::string & path, const char * what, int e) {
    throw engine_error(ERROR_IO, path + ": cannot " + what + ": " + std::strerror(e));
}

}  // namespace

void quant_save_weights(const std::string & src_dir, const weight_store & store, weight_dtype folder, const std::string & path) {
    if (store.quantized.empty() || !weight_is_quant(folder))
        throw engine_error(ERROR_INVALID_ARGUMENT, "the model's weights are not quantized: load it with weights q8_0 or q4_0 to save them");
    std::map<std::string, const weight_matrix *> quant;
    for (const auto & q : store.quantized) quant[q.first] = &q.second;
    const std::unique_ptr<st_collection> src = st_open_folder(src_dir);
    std::vector<out_tensor> out;
    std::string meta = "{\"format\":\"pt\",\"" + std::string(QUANT_META_FOLDER) + "\":\"" + weight_dtype_name(folder) + "\"";
    for (const auto & kv : src->by_name) {
        out_tensor t;
        t.name = kv.first;
        auto q = quant.find(kv.first);
        if (q != quant.end()) {
            const weight_matrix & w = *q->second;
            t.quant = &w;
            t.dtype = "U8";
            t.shape = {w.rows, quant_file_row_bytes(w.dtype, w.cols)};
            t.nbytes = static_cast<uint64_t>(w.rows) * static_cast<uint64_t>(t.shape[1]);
            meta += "," + json_quote(QUANT_META_TENSOR_PREFIX + kv.first) + ":\"" + weight_dtype_name(w.dtype) + "\"";
            quant.erase(q);
        } else {
            t.src = kv.second;
            t.dtype = kv.second->dtype_name;
            t.shape = kv.second->shape;
            t.nbytes = kv.second->nbytes;
        }
        out.push_back(std::move(t));
    }
    if (!quant.empty())
        throw engine_error(ERROR_IO, src_dir + ": tensor '" + quant.begin()->first + "' is no longer in the folder's files (changed since the load?)");
    std::string header = "{\"__metadata__\":" + meta + "}";
    uint64_t offset = 0;
    for (const auto & t : out) {
        header += "," + json_quote(t.name) + ":{\"dtype\":" + json_quote(t.dtype) + ",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.shape[i]);
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.nbytes) + "]}";
        offset += t.nbytes;
    }
    header += "}";
    while (header.size() % 8 != 0) header += ' ';

    const std::string tmp = path + ".tmp";
    std::unique_ptr<std::FILE, file_closer> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) io_error(tmp, "create", errno);
    // on any failure: the temporary file goes, the error names it
    auto fail = [&](const std::string & what) {
        const int e = errno;
        f.reset();
        ::unlink(tmp.c_str());
        io_error(tmp, what.c_str(), e);
    };
    auto put = [&](const void * p, size_t n) {
        if (n && std::fwrite(p, 1, n, f.get()) != n) fail("write");
    };
    const uint64_t header_len = header.size();
    uint8_t len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(header_len >> (8 * i));  // little-endian
    put(len_bytes, 8);
    put(header.data(), header.size());
    std::vector<uint8_t> buf;
    for (const auto & t : out) {
        if (!t.quant) {
            buf.resize(t.src->nbytes);  // norms and biases: small
            st_read(*t.src, 0, t.src->nbytes, buf.data());
            put(buf.data(), buf.size());
            continue;
        }
        const weight_matrix & w = *t.quant;
        const size_t row_bytes = static_cast<size_t>(t.shape[1]);
        const int64_t rows_per_write = std::max<int64_t>(1, int64_t(1 << 20) / static_cast<int64_t>(row_bytes));
        buf.resize(static_cast<size_t>(rows_per_write) * row_bytes);
        for (int64_t r0 = 0; r0 < w.rows; r0 += rows_per_write) {
            const int64_t r1 = std::min(w.rows, r0 + rows_per_write);
            for (int64_t r = r0; r < r1; ++r) quant_row_to_file(w, r, buf.data() + static_cast<size_t>(r - r0) * row_bytes);
            put(buf.data(), static_cast<size_t>(r1 - r0) * row_bytes);
        }
    }
    if (std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0) fail("write");
    f.reset();
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("rename it to " + path);
}
