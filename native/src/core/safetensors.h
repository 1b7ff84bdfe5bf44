/*
 * safetensors.h: reads .safetensors files: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}}, then raw data. The file (a regular file: a FIFO or a
 * directory is refused without blocking) is mmap'd; tensors point into it. Every offset and size
 * is checked against the file size before use; errors throw engine_error(BAD_MODEL or IO_ERROR)
 * naming the file and, where there is one, the tensor.
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

enum st_dtype : int { ST_F32, ST_BF16, ST_F16, ST_OTHER };
const char * st_dtype_name(st_dtype d);
// "[a, b, c]", for messages about tensor shapes.
std::string st_shape_str(const std::vector<int64_t> & shape);

struct st_tensor {
    std::string name;
    std::string file;        // path of the file holding it (for messages)
    st_dtype dtype = ST_OTHER;
    std::string dtype_name;  // as written in the header
    std::vector<int64_t> shape;
    const uint8_t * data = nullptr;  // into the mapping
    size_t nbytes = 0;
};

// One mmap'd file; unmapped in the destructor.
struct st_file {
    std::string path;
    const uint8_t * base = nullptr;
    size_t size = 0;
    std::vector<st_tensor> tensors;
    std::map<std::string, std::string> metadata;  // the header's __metadata__ (string values)

    st_file() = default;
    st_file(const st_file &) = delete;
    st_file & operator=(const st_file &) = delete;
    ~st_file();
};

// Parses a header held in memory (no file): file_size is the size of the whole file it claims to
// come from. Used by st_open and by the fuzz test. data pointers are base + offset (base may be null).
// metadata (optional): the string entries of the header's __metadata__ (others are ignored).
void st_parse_header(const std::string & path, const uint8_t * bytes, size_t file_size, std::vector<st_tensor> & out,
                     std::map<std::string, std::string> * metadata = nullptr);
std::unique_ptr<st_file> st_open(const std::string & path, bool populate);
// Replaces the file's mapping by an anonymous copy at the same address: pointers into it stay
// valid, and truncating or rewriting the file afterwards cannot touch them (a file mapping of a
// truncated file raises SIGBUS on access, even for pages already read). Throws engine_error(OUT_OF_MEMORY).
void st_detach_from_disk(st_file & f);

// Copies the first n elements of an F32/BF16/F16 tensor to out (n) as f32.
void st_to_f32(const st_tensor & t, float * out, int64_t n);

// All tensors of a model folder: model.safetensors, or the shards named by
// model.safetensors.index.json (its weight_map), by name.
struct st_collection {
    std::vector<std::unique_ptr<st_file>> files;
    std::map<std::string, const st_tensor *> by_name;
    const st_tensor * find(const std::string & name) const;
};
std::unique_ptr<st_collection> st_open_folder(const std::string & dir, bool populate);

struct json_value;
// Parses model.safetensors.index.json's text (path for messages): its weight_map, checked to name
// plain file names, whose distinct shard names go to shard_names in order. Used by st_open_folder
// and the fuzz target. Throws engine_error(BAD_MODEL).
json_value st_parse_index(const std::string & path, const char * text, size_t len, std::vector<std::string> & shard_names);
