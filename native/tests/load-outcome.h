/*
 * load-outcome.h: what the C++ tests of bad model folders share: temp folders holding the tiny
 * model (tiny-model.h) with a given config.json, loading a folder through the C API keeping the
 * status and the one-line message, substring checks on messages, and the process's peak RSS (to
 * show that a refused file was not read or allocated first).
 */
#pragma once
#include <sys/resource.h>

#include <string>
#include <vector>

#include "engine.h"
#include "tiny-model.h"

// Temp folders with the tiny model's weights and a config.json of the caller's; removed at the end.
struct tiny_folders {
    tiny_spec spec;
    std::string weights = safetensors_bytes(tiny_tensors(spec, 1), false);
    std::vector<std::string> dirs;
    tiny_folders() = default;
    tiny_folders(const tiny_folders &) = delete;
    tiny_folders & operator=(const tiny_folders &) = delete;
    ~tiny_folders() {
        for (const auto & d : dirs) remove_dir(d);
    }
    std::string folder(const std::string & config) {
        std::string dir = make_temp_dir();
        write_file(dir + "/config.json", config);
        write_file(dir + "/model.safetensors", weights);
        dirs.push_back(dir);
        return dir;
    }
    std::string folder() { return folder(tiny_config(spec)); }
};

struct load_outcome {
    engine_status status;
    std::string message;
};

// Loads dir with default parameters; the model, if any, is freed at once.
inline load_outcome load_folder(const std::string & dir) {
    engine_model * m = nullptr;
    char err[1024] = {0};
    const engine_status st = engine_model_init(dir.c_str(), nullptr, &m, err, sizeof(err));
    if (m) engine_model_free(m);
    return {st, err};
}

inline bool contains(const std::string & s, const std::string & part) { return s.find(part) != std::string::npos; }

// Peak resident set size of this process so far, in KiB.
inline long max_rss_kb() {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}
