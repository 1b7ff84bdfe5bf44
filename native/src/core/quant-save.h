/*
 * quant-save.h: writes a loaded model's quantized weights as one safetensors file in the layout of
 * a saved quantized folder (quant-file.h, docs/engine.md "Saved quantized folders"): every matrix
 * the loader made Q8_0 / Q4_0 as U8 blocks, every other tensor of the source folder byte for byte
 * as it was, __metadata__ naming the formats. The rest of the folder (config.json with
 * slipstream_weights, the tokenizer files) is the caller's (`slipstream quantize`).
 */
#pragma once
#include <string>

#include "weight-loader.h"

// src_dir: the folder the weights were loaded from (its tensors not in store.quantized are copied);
// folder: the layers' format (q8_0 | q4_0). Writes path + ".tmp", then renames it to path.
// Throws engine_error: INVALID_ARGUMENT when nothing is quantized, IO_ERROR naming the file.
void quant_save_weights(const std::string & src_dir, const weight_store & store, weight_dtype folder, const std::string & path);
