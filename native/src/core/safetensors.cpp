/*
 * safetensors.cpp: header parsing with every offset checked against the file size, reads of the
 * files (regular files only, opened without blocking; pread, checked for short reads), and folder
 * discovery (single file or model.safetensors.index.json shards, the index read with a size cap).
 */
#include "safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <set>

#include "base/status.h"
#include "file-read.h"
#include "json.h"
#include "kernels/kernels.h"

namespace {

// Headers above this size are refused (the format's own limit is 100 MB).
constexpr uint64_t MAX_HEADER_BYTES = 100ull * 1024 * 1024;
// Values kept from a header or an index (about 9 per tensor: 110K tensors); bounds the JSON tree.
constexpr size_t MAX_HEADER_VALUES = size_t(1) << 20;

st_dtype parse_dtype(const std::string & s) {
    if (s == "F32") return ST_F32;
    if (s == "BF16") return ST_BF16;
    if (s == "F16") return ST_F16;
    return ST_OTHER;
}

size_t dtype_size(const std::string & s) {
    if (s == "F64" || s == "I64" || s == "U64") return 8;
    if (s == "F32" || s == "I32" || s == "U32") return 4;
    if (s == "F16" || s == "BF16" || s == "I16" || s == "U16") return 2;
    if (s == "I8" || s == "U8" || s == "BOOL" || s == "F8_E4M3" || s == "F8_E5M2") return 1;
    return 0;
}

}  // namespace

void st_to_f32(st_dtype dtype, const uint8_t * bytes, float * out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        if (dtype == ST_F32) {
            std::memcpy(&out[i], bytes + 4 * i, 4);
        } else {
            uint16_t h;
            std::memcpy(&h, bytes + 2 * i, 2);
            out[i] = dtype == ST_BF16 ? bf16_to_f32(h) : f16_to_f32(h);
        }
    }
}

std::string st_shape_str(const std::vector<int64_t> & shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

const char * st_dtype_name(st_dtype d) {
    switch (d) {
        case ST_F32: return "F32";
        case ST_BF16: return "BF16";
        case ST_F16: return "F16";
        default: return "other";
    }
}

void st_parse_header(const std::string & path, const uint8_t * bytes, size_t file_size, std::vector<st_tensor> & out,
                     std::map<std::string, std::string> * metadata) {
    if (file_size < 8) bad_model(path, "truncated file: " + std::to_string(file_size) + " bytes, less than the 8-byte header length");
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes, 8);  // little-endian on every supported host
    // (the length's value is not shown: in a file that is not a safetensors file, those 8 bytes are its text)
    if (header_len > MAX_HEADER_BYTES) bad_model(path, "header length (the first 8 bytes) is larger than the 100 MB limit: not a safetensors file");
    if (header_len > file_size - 8)
        bad_model(path, "header length (the first 8 bytes) runs past the end of the file (" + std::to_string(file_size) +
                            " bytes): truncated file or lying header length");
    json_value h;
    try {
        json_options opt;
        opt.max_values = MAX_HEADER_VALUES;
        h = json_parse(reinterpret_cast<const char *>(bytes + 8), header_len, opt);
    } catch (const json_error & e) {
        bad_model(path, std::string("header is not valid JSON (lying header length?): ") + e.what());
    }
    if (h.kind != json_value::OBJECT) bad_model(path, "header is not a JSON object");
    const uint64_t data_size = file_size - 8 - header_len;
    std::set<std::string> seen;
    for (const auto & kv : h.obj) {
        const std::string & name = kv.first;
        if (name == "__metadata__") {
            if (metadata && kv.second.kind == json_value::OBJECT)
                for (const auto & m : kv.second.obj)
                    if (m.second.kind == json_value::STRING) (*metadata)[m.first] = m.second.str;
            continue;
        }
        const json_value & t = kv.second;
        const std::string where = "tensor " + file_value_for_message(name);
        if (!seen.insert(name).second) bad_model(path, where + " appears twice in the header");
        if (t.kind != json_value::OBJECT) bad_model(path, where + ": entry is not an object");
        const json_value * dt = t.get("dtype");
        const json_value * shape = t.get("shape");
        const json_value * offs = t.get("data_offsets");
        if (!dt || dt->kind != json_value::STRING) bad_model(path, where + ": missing dtype");
        if (!shape || shape->kind != json_value::ARRAY) bad_model(path, where + ": missing shape");
        if (!offs || offs->kind != json_value::ARRAY || offs->arr.size() != 2) bad_model(path, where + ": data_offsets must be [begin, end]");
        st_tensor st;
        st.name = name;
        st.file = path;
        st.dtype_name = dt->str;
        st.dtype = parse_dtype(dt->str);
        size_t esize = dtype_size(dt->str);
        if (esize == 0) bad_model(path, where + ": unknown dtype " + file_value_for_message(dt->str));
        uint64_t numel = 1;
        for (const auto & d : shape->arr) {
            if (d.kind != json_value::NUMBER || !d.is_int || d.i < 0) bad_model(path, where + ": shape entries must be non-negative integers");
            if (d.i > 0 && numel > (UINT64_MAX / 16) / static_cast<uint64_t>(d.i)) bad_model(path, where + ": shape is too large");
            numel *= static_cast<uint64_t>(d.i);
            st.shape.push_back(d.i);
        }
        for (const auto & o : offs->arr)
            if (o.kind != json_value::NUMBER || !o.is_int || o.i < 0) bad_model(path, where + ": data_offsets must be non-negative integers");
        uint64_t begin = static_cast<uint64_t>(offs->arr[0].i), end = static_cast<uint64_t>(offs->arr[1].i);
        if (end < begin) bad_model(path, where + ": data_offsets end " + std::to_string(end) + " is before begin " + std::to_string(begin));
        if (end > data_size)
            bad_model(path, where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                          "] out of range: the data section has " + std::to_string(data_size) + " bytes (truncated file?)");
        if (end - begin != numel * esize)
            bad_model(path, where + ": data_offsets span " + std::to_string(end - begin) + " bytes but shape and dtype need " +
                          std::to_string(numel * esize));
        st.offset = 8 + header_len + begin;
        st.nbytes = static_cast<size_t>(end - begin);
        out.push_back(std::move(st));
    }
}

st_file::~st_file() {
    if (fd >= 0) ::close(fd);
}

namespace {

// Reads up to n bytes at off into dst, over partial reads and EINTR: the bytes read before the
// end of the file (fewer than n only there), or -1 with errno set.
int64_t pread_all(int fd, uint8_t * dst, size_t n, uint64_t off) {
    size_t done = 0;
    while (done < n) {
        const size_t chunk = std::min(n - done, size_t(1) << 30);  // Linux reads at most ~2 GiB a call
        const ssize_t r = ::pread(fd, dst + done, chunk, static_cast<off_t>(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        done += static_cast<size_t>(r);
    }
    return static_cast<int64_t>(done);
}

// Reads [off, off + n) of f into dst; what names the bytes in messages. Throws engine_error(IO).
void read_range(const st_file & f, uint64_t off, size_t n, void * dst, const std::string & what) {
    const int64_t got = pread_all(f.fd, static_cast<uint8_t *>(dst), n, off);
    if (got < 0) throw engine_error(ERROR_IO, f.path + ": cannot read " + what + ": " + std::strerror(errno));
    if (static_cast<size_t>(got) < n)
        throw engine_error(ERROR_IO, f.path + ": cannot read " + what + ": the file ends before them (it had " + std::to_string(f.size) +
                                         " bytes when it was opened: truncated since?)");
}

}  // namespace

std::unique_ptr<st_file> st_open(const std::string & path) {
    auto f = std::make_unique<st_file>();
    f->path = path;
    regular_file rf;
    open_regular_file(path, rf);  // a FIFO or directory is refused here, without blocking
    f->size = static_cast<size_t>(rf.size);
    f->fd = rf.fd;
    rf.fd = -1;  // f closes it
    if (f->size < 8) bad_model(path, "truncated file: " + std::to_string(f->size) + " bytes, less than the 8-byte header length");
    std::vector<uint8_t> head(8);
    read_range(*f, 0, 8, head.data(), "the header length (the first 8 bytes)");
    uint64_t header_len = 0;
    std::memcpy(&header_len, head.data(), 8);
    // a length st_parse_header refuses is not read (it says why)
    if (header_len <= MAX_HEADER_BYTES && header_len <= f->size - 8) {
        head.resize(8 + static_cast<size_t>(header_len));
        read_range(*f, 8, static_cast<size_t>(header_len), head.data() + 8, "the header");
    }
    st_parse_header(path, head.data(), f->size, f->tensors, &f->metadata);  // throws; f's destructor closes the file
    for (auto & t : f->tensors) t.owner = f.get();
    return f;
}

void st_read(const st_tensor & t, size_t from, size_t n, void * dst) {
    if (n == 0) return;
    if (!t.owner || from > t.nbytes || n > t.nbytes - from)
        throw engine_error(ERROR_INVALID_ARGUMENT, t.file + ": tensor " + file_value_for_message(t.name) + ": a read outside its bytes");
    const uint64_t off = t.offset + from;
    read_range(*t.owner, off, n, dst, "tensor " + file_value_for_message(t.name) + " (bytes " + std::to_string(off) + " to " + std::to_string(off + n) + ")");
}

json_value st_parse_index(const std::string & path, const char * text, size_t len, std::vector<std::string> & shard_names) {
    json_value index;
    try {
        json_options opt;
        opt.max_values = MAX_HEADER_VALUES;
        opt.keep = {{"weight_map"}};
        index = json_parse(text, len, opt);
    } catch (const json_error & e) {
        bad_model(path, std::string("not valid JSON: ") + e.what());
    }
    const json_value * wm = index.get("weight_map");
    if (!wm || wm->kind != json_value::OBJECT) bad_model(path, "missing weight_map");
    std::set<std::string> names;
    for (const auto & kv : wm->obj) {
        const std::string where = "weight_map[" + file_value_for_message(kv.first) + "]";
        if (kv.second.kind != json_value::STRING) bad_model(path, where + " is not a file name");
        const std::string & fn = kv.second.str;
        // a plain *.safetensors name in the folder; being an identifier, it may appear in messages
        const std::string ext = ".safetensors";
        const bool plain = fn.size() > ext.size() && fn.compare(fn.size() - ext.size(), ext.size(), ext) == 0 &&
                           file_value_for_message(fn)[0] == '\'' && fn[0] != '.';
        if (!plain) bad_model(path, where + " names an invalid file " + file_value_for_message(fn) + " (a *.safetensors file in the folder)");
        if (names.insert(fn).second) shard_names.push_back(fn);
    }
    return index;
}

const st_tensor * st_collection::find(const std::string & name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
}

std::unique_ptr<st_collection> st_open_folder(const std::string & dir) {
    auto c = std::make_unique<st_collection>();
    const std::string index_path = dir + "/model.safetensors.index.json";
    const std::string single = dir + "/model.safetensors";
    std::vector<std::string> shard_names;
    json_value index;
    bool sharded = false;
    if (path_exists(index_path)) {
        sharded = true;
        const std::string text = read_capped_file(index_path, FILE_CAP_SHARD_INDEX);
        index = st_parse_index(index_path, text.data(), text.size(), shard_names);
    } else if (path_exists(single)) {
        shard_names.push_back("model.safetensors");
    } else {
        throw engine_error(ERROR_BAD_MODEL, dir + ": no model.safetensors or model.safetensors.index.json");
    }
    for (const auto & fn : shard_names) {
        c->files.push_back(st_open(dir + "/" + fn));
        for (const auto & t : c->files.back()->tensors) {
            if (!c->by_name.emplace(t.name, &t).second) bad_model(t.file, "tensor '" + t.name + "' also appears in another shard");
        }
    }
    if (sharded) {
        const json_value * wm = index.get("weight_map");
        for (const auto & kv : wm->obj) {
            const st_tensor * t = c->find(kv.first);
            if (!t) bad_model(index_path, "tensor " + file_value_for_message(kv.first) + " listed in weight_map is missing from " + dir + "/" + kv.second.str);
            if (t->file != dir + "/" + kv.second.str)
                bad_model(index_path, "tensor " + file_value_for_message(kv.first) + " is in " + t->file + ", not in " + dir + "/" + kv.second.str);
        }
    }
    return c;
}
