/*
 * file-read.h: how the loaders read a model folder's small files (config.json, tokenizer.json, the
 * shard index) and open its large ones (safetensors, read on demand): only regular files (a FIFO, device
 * or directory is refused without blocking: open with O_NONBLOCK, then fstat the descriptor, so a
 * symlink is resolved and its target checked), and small files only up to a stated size cap, so a
 * 1 GiB config.json is refused before a byte is read. Also the one rule for quoting a file's
 * values in messages (file_value_for_message). Not a general file API: errors are engine_errors
 * that name the file.
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

// The caps (bytes), stated in docs/reliability.md.
constexpr size_t FILE_CAP_CONFIG = size_t(1) << 20;           // config.json (model and drafter): 1 MiB
constexpr size_t FILE_CAP_TOKENIZER = size_t(64) << 20;       // tokenizer.json: 64 MiB
constexpr size_t FILE_CAP_SHARD_INDEX = size_t(32) << 20;     // model.safetensors.index.json: 32 MiB

// A regular file opened read-only (O_NONBLOCK, O_CLOEXEC), with its size; closes in the destructor.
struct regular_file {
    int fd = -1;
    uint64_t size = 0;
    regular_file() = default;
    regular_file(const regular_file &) = delete;
    regular_file & operator=(const regular_file &) = delete;
    ~regular_file();
};

// Opens path if it is a regular file (after resolving symlinks). Throws engine_error(IO) when it
// cannot be opened, engine_error(BAD_MODEL) when it is not a regular file.
void open_regular_file(const std::string & path, regular_file & out);

// True when path exists in any form (a FIFO or directory too; symlinks resolved); never opens it.
bool path_exists(const std::string & path);

// The whole of a regular file of at most cap bytes. Throws engine_error(BAD_MODEL) naming the file,
// its size and the cap when it is larger, engine_error(IO) when it cannot be read.
std::string read_capped_file(const std::string & path, size_t cap);

// A value read from a file, for an error message: quoted when it is an identifier (1 to 64 of
// A-Z a-z 0-9 _ . -: model types, activation names, dtypes, tensor names), otherwise described by
// its length only, so a message never carries free text from a file (a symlink to a secret file
// must not leak it through an error).
std::string file_value_for_message(const std::string & value);
