/*
 * tokenizer-vocab.h: the one check the engine makes of tokenizer.json (the tokenizer itself runs
 * in TypeScript, native/lib/tokenizer.ts): its vocabulary is not empty and uses no id at or past
 * config.json's vocab_size. The file is read with a size cap and only model.vocab and
 * added_tokens are kept from its JSON (merges and the rest are checked, not stored).
 */
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "config.h"

struct tokenizer_vocab_info {
    int64_t n_entries = 0;  // entries of model.vocab plus added_tokens
    int64_t max_id = -1;
};

// Scans tokenizer.json's text (path for messages) against a model of n_vocab tokens. Throws
// engine_error(BAD_MODEL) naming path when it is not JSON, has no vocabulary, holds an id that is
// not a non-negative integer, or an id >= n_vocab.
tokenizer_vocab_info tokenizer_vocab_scan(const std::string & path, const char * text, size_t len, int64_t n_vocab);

// When dir/tokenizer.json exists: reads it (a regular file of at most FILE_CAP_TOKENIZER bytes)
// and scans it against c.n_vocab.
void check_tokenizer_vocab(const std::string & dir, const model_config & c);
