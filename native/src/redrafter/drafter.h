/*
 * drafter.h: ReDrafter drafter heads as Apple's train.py saves them (docs/redrafter.md §1):
 * config.json (vocab_size, hidden_size, exit_dim, num_draft_layers, rnn) and model.safetensors
 * (rnn_w, rnn_u, input_proj when exit_dim != 2 * hidden_size, lm_head.{i}.linear, lm_head.{N}).
 * Loaded by the model's weight loader (tiled where this CPU's matmul prefers it); biases are f32.
 * Every shape is checked against the base model; errors name the file and the tensor.
 */
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/weight-loader.h"
#include "drafter-config.h"
#include "kernels/kernels.h"

struct model;

struct drafter {
    std::string dir;
    drafter_config config;
    std::string stored_dtype;  // "f32" | "bf16" | "f16" (of the matrices)
    weight_matrix rnn_w;       // (H, H), no bias; rows = 0 when !rnn
    weight_matrix rnn_u;       // (H, H)
    std::vector<float> rnn_u_bias;  // (H)
    weight_matrix input_proj;  // (E, 2H); rows = 0 when E == 2H
    std::vector<float> input_proj_bias;  // (E) or empty
    std::vector<weight_matrix> res_w;    // N x (E, E)
    std::vector<std::vector<float>> res_b;  // N x (E)
    weight_matrix lm_head;     // (V, E), no bias: the drafter's own head

    weight_store weights;  // what the matrices above point into; weights.bytes: all weights as kept in memory

    drafter();
    ~drafter();
    drafter(const drafter &) = delete;
    drafter & operator=(const drafter &) = delete;
};

// Loads and checks a drafter folder against the base model. Throws engine_error (BAD_MODEL for a
// malformed or mismatched folder, IO_ERROR for unreadable files) naming the file and tensor.
// tile: re-lay out the matrices in the layout this CPU's matmul prefers (as model_load does).
std::unique_ptr<drafter> drafter_load(const std::string & dir, const model & base, bool tile = true);
