/*
 * fuzz-safetensors-index.cpp: st_parse_index on arbitrary text as model.safetensors.index.json.
 * Accepted indexes name only plain *.safetensors files in the folder (no '/', no "..").
 */
#include <string>
#include <vector>

#include "base/status.h"
#include "core/json.h"
#include "core/safetensors.h"
#include "fuzz-target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    std::vector<std::string> shards;
    try {
        st_parse_index("fuzz.index.json", reinterpret_cast<const char *>(data), size, shards);
    } catch (const engine_error & e) {
        ENGINE_ASSERT(std::string(e.what()).rfind("fuzz.index.json: ", 0) == 0);
        return 0;
    }
    for (const auto & s : shards) {
        ENGINE_ASSERT(s.find('/') == std::string::npos && s.size() > 12 && s.compare(s.size() - 12, 12, ".safetensors") == 0);
        ENGINE_ASSERT(s[0] != '.');
    }
    return 0;
}
