/*
 * drafter-config.h: a ReDrafter drafter folder's config.json (docs/redrafter.md §1): vocab_size,
 * hidden_size, exit_dim, num_draft_layers, rnn, each checked against its valid range and the sizes
 * they imply computed overflow-safe, before anything is allocated. The checks against the base
 * model (same vocabulary and hidden size) are drafter_load's (drafter.h).
 */
#pragma once
#include <cstdint>
#include <string>

struct drafter_config {
    int n_vocab = 0;    // V: vocab_size (== base model's)
    int n_embd = 0;     // H: hidden_size (== base model's)
    int exit_dim = 0;   // E: width of the residual MLP
    int n_layers = 0;   // N: num_draft_layers (residual blocks)
    bool rnn = true;    // true: s = SiLU(W e + U s + b_U); false: s = s + e
};

// Valid ranges (inclusive): vocab_size and hidden_size as a model's (config.h), exit_dim
// 1..131072 (twice the largest hidden size), num_draft_layers 1..64.
constexpr int64_t DRAFTER_MAX_EXIT_DIM = int64_t(1) << 17;
constexpr int64_t DRAFTER_MAX_LAYERS = 64;

// Parses a drafter config.json's text (path used in messages). Throws engine_error(BAD_MODEL).
drafter_config drafter_config_parse(const std::string & path, const std::string & text);
// Reads path (a regular file of at most FILE_CAP_CONFIG bytes) and parses it.
drafter_config drafter_config_load(const std::string & path);
// Weight elements the config implies (rnn_w, rnn_u and its bias when rnn; input_proj and its bias
// when exit_dim != 2 * hidden_size; the residual blocks; lm_head).
uint64_t drafter_weight_elements(const drafter_config & c);
