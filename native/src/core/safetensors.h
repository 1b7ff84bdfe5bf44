/*
 * safetensors.h: reads .safetensors files: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}}, then raw data. The file (a regular file: a FIFO or a
 * directory is refused without blocking) is read, not mapped: its header when it is opened, then
 * the ranges of tensor bytes a loader asks for (st_read, pread into the caller's memory). A file
 * truncated while a model loads is then a short read (engine_error IO naming the file and the
 * tensor) rather than SIGBUS on a mapped page past its new end, and nothing refers to the file
 * after the load. Every offset and size is checked against the file size before use; errors throw
 * engine_error(BAD_MODEL or IO_ERROR) naming the file and, where there is one, the tensor.
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

struct st_file;

struct st_tensor {
    std::string name;
    std::string file;        // path of the file holding it (for messages)
    st_dtype dtype = ST_OTHER;
    std::string dtype_name;  // as written in the header
    std::vector<int64_t> shape;
    uint64_t offset = 0;     // of its first byte in the file
    size_t nbytes = 0;
    const st_file * owner = nullptr;  // the file st_read reads (null for a header parsed alone)
};

// One open file; its descriptor is closed in the destructor.
struct st_file {
    std::string path;
    size_t size = 0;  // when it was opened
    int fd = -1;
    std::vector<st_tensor> tensors;
    std::map<std::string, std::string> metadata;  // the header's __metadata__ (string values)

    st_file() = default;
    st_file(const st_file &) = delete;
    st_file & operator=(const st_file &) = delete;
    ~st_file();
};

// Parses a header held in memory (no file): bytes holds at least the file's first 8 + header
// length bytes, file_size is the size of the whole file it claims to come from. Used by st_open
// and by the fuzz test. metadata (optional): the string entries of the header's __metadata__
// (others are ignored).
void st_parse_header(const std::string & path, const uint8_t * bytes, size_t file_size, std::vector<st_tensor> & out,
                     std::map<std::string, std::string> * metadata = nullptr);
// Opens a file and reads its header. Throws engine_error(IO, BAD_MODEL) naming it.
std::unique_ptr<st_file> st_open(const std::string & path);
// Reads n bytes of tensor t, from its byte `from` on, into dst (n). Several threads may read at
// once. Throws engine_error(IO) naming the file and the tensor when the read fails or comes up
// short (the file shrank after it was opened).
void st_read(const st_tensor & t, size_t from, size_t n, void * dst);

// Converts the first n elements of F32/BF16/F16 data (a tensor's bytes) to f32 in out (n).
void st_to_f32(st_dtype dtype, const uint8_t * bytes, float * out, int64_t n);

// All tensors of a model folder: model.safetensors, or the shards named by
// model.safetensors.index.json (its weight_map), by name.
struct st_collection {
    std::vector<std::unique_ptr<st_file>> files;
    std::map<std::string, const st_tensor *> by_name;
    const st_tensor * find(const std::string & name) const;
};
// Opens them (st_open); throws as it does.
std::unique_ptr<st_collection> st_open_folder(const std::string & dir);

struct json_value;
// Parses model.safetensors.index.json's text (path for messages): its weight_map, checked to name
// plain file names, whose distinct shard names go to shard_names in order. Used by st_open_folder
// and the fuzz target. Throws engine_error(BAD_MODEL).
json_value st_parse_index(const std::string & path, const char * text, size_t len, std::vector<std::string> & shard_names);
