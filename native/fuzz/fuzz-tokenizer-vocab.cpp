/*
 * fuzz-tokenizer-vocab.cpp: tokenizer_vocab_scan on arbitrary text as tokenizer.json, against a
 * model of 4096 tokens (the shipped model's). An accepted vocabulary is not empty and its largest
 * id is below the model's vocabulary.
 */
#include <string>

#include "base/status.h"
#include "core/tokenizer-vocab.h"
#include "fuzz-target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    tokenizer_vocab_info info;
    try {
        info = tokenizer_vocab_scan("fuzz/tokenizer.json", reinterpret_cast<const char *>(data), size, 4096);
    } catch (const engine_error & e) {
        ENGINE_ASSERT(std::string(e.what()).rfind("fuzz/tokenizer.json: ", 0) == 0);
        return 0;
    }
    ENGINE_ASSERT(info.n_entries > 0 && info.max_id >= 0 && info.max_id < 4096);
    return 0;
}
