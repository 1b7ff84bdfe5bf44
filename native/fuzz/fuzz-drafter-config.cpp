/*
 * fuzz-drafter-config.cpp: drafter_config_parse on arbitrary text as a drafter's config.json.
 * An accepted config has every field inside its documented range.
 */
#include <string>

#include "base/status.h"
#include "core/config.h"
#include "fuzz-target.h"
#include "redrafter/drafter-config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    drafter_config c;
    try {
        c = drafter_config_parse("fuzz/config.json", std::string(reinterpret_cast<const char *>(data), size));
    } catch (const engine_error & e) {
        ENGINE_ASSERT(std::string(e.what()).rfind("fuzz/config.json: ", 0) == 0);
        return 0;
    }
    ENGINE_ASSERT(c.n_vocab >= 1 && c.n_vocab <= CONFIG_MAX_VOCAB && c.n_embd >= 1 && c.n_embd <= CONFIG_MAX_HIDDEN);
    ENGINE_ASSERT(c.exit_dim >= 1 && c.exit_dim <= DRAFTER_MAX_EXIT_DIM && c.n_layers >= 1 && c.n_layers <= DRAFTER_MAX_LAYERS);
    ENGINE_ASSERT(drafter_weight_elements(c) > 0);
    return 0;
}
