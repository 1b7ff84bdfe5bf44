/*
 * weight-loader.h: the one way a model (model.cpp) or a drafter (redrafter/drafter.cpp) gets its
 * weights out of a folder's safetensors files: every tensor checked (present, shape, dtype) with
 * errors naming the file and the tensor; matrices read as stored (F32/BF16), converted (F16 to
 * f32), re-laid out (TILED32, TILED4X16) where this CPU's matmul prefers it (kernels.h), or
 * quantized to Q8_0 / Q4_0 when the caller asks, or read as Q8_0 / Q4_0 blocks from a saved
 * quantized folder (quant-file.h), copied into the arena with no arithmetic. The files are read,
 * never mapped (safetensors.h), and closed when the load finishes.
 */
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "safetensors.h"
#include "weight-arena.h"

// What a loaded model or drafter owns of its weights.
struct weight_store {
    std::vector<std::unique_ptr<float[]>> owned;  // F16 matrices converted to f32 (kept as such when not tiled)
    weight_arena tiled;                           // the matrices (tiled, quantized or as stored), in load (= forward) order on 2 MB pages
    uint64_t bytes = 0;                           // all weights as kept in memory
    // The Q8_0 / Q4_0 matrices (quantized at load or read from a saved folder), by the name of
    // their tensor in the files, in load order: what quant-save.cpp writes.
    std::vector<std::pair<std::string, weight_matrix>> quantized;
};

struct weight_load_params {
    bool tile = true;      // re-lay out matrices as weight_preferred_layout() says (TILED32, TILED4X16)
    const volatile int * abort = nullptr;  // checked before each tensor: *abort != 0 throws engine_error(CANCELLED)
    st_dtype want = ST_OTHER;    // every tensor must be stored in this dtype (ST_OTHER: any of F32, BF16, F16)
    std::string want_source;     // where `want` comes from, for messages ("config.json says float32")
    std::string shape_source = "config.json";  // what implies the shapes, for messages
    // Weight elements the config implies (config_weight_elements) and the file it comes from; 0 =
    // not checked. When the files hold fewer, nothing is allocated: see weight_loader.
    uint64_t expect_elements = 0;
    std::string expect_source;
    // WEIGHT_Q8_0 / WEIGHT_Q4_0: the folder is a saved quantized one in this format (saved_source
    // says where that comes from, "config.json says slipstream_weights q8_0"): every matrix asked
    // for with a quantized format must be a U8 tensor of blocks (quant-file.h) in that format, and
    // every file's __metadata__ must name it. WEIGHT_BF16: not a saved folder (a file whose
    // __metadata__ says it is one is refused).
    weight_dtype saved = WEIGHT_BF16;
    std::string saved_source;
};

// Before anything is allocated, the constructor compares params.expect_elements with the elements
// the files hold. When they hold fewer, the config cannot match them: every later matrix() and
// vec() only checks its tensor (returning an empty matrix or vector), so the first tensor that
// disagrees is still named, and finish() reports the totals if none did.
class weight_loader {
  public:
    // Opens dir's model.safetensors, or the shards its model.safetensors.index.json names, into store.
    weight_loader(weight_store & store, const std::string & dir, weight_load_params params);

    // The first of names (alternative spellings) that is present, or null.
    const st_tensor * find(const std::vector<std::string> & names) const;
    // The first of names present, checked against shape and the dtype rules; throws engine_error(BAD_MODEL).
    const st_tensor & tensor(const std::vector<std::string> & names, const std::vector<int64_t> & shape);
    // A matrix (rows, cols) as the kernels take it. quant WEIGHT_Q8_0 / WEIGHT_Q4_0: quantized
    // from its f32/bf16/f16 data into the arena (quant-formats.cpp), or in a saved folder
    // (params.saved) its blocks copied into the arena and checked (a wrong shape or format, a NaN,
    // infinite or impossible scale: BAD_MODEL naming the tensor), the source pages released as
    // soon as it is done; anything else: as stored (or tiled, see above).
    weight_matrix matrix(const std::vector<std::string> & names, int64_t rows, int64_t cols, weight_dtype quant = WEIGHT_BF16);
    // A vector (len) as f32 (norm weights, biases).
    std::vector<float> vec(const std::vector<std::string> & names, int64_t len);

    // The file a tensor of this folder is looked for in (model.safetensors or the shard index), for messages.
    const std::string & where() const { return where_; }
    // Checks the element count (see the constructor) and closes the files: nothing refers to them
    // afterwards (every matrix was read into memory of its own), so they may be truncated,
    // rewritten or deleted while the model is loaded.
    void finish();

  private:
    weight_matrix saved_matrix(const std::vector<std::string> & names, int64_t rows, int64_t cols, weight_dtype quant);

    weight_store & store_;
    std::unique_ptr<st_collection> files_;  // open until finish()
    weight_load_params params_;
    std::string where_;
    uint64_t file_elements_ = 0;  // elements of the F32/BF16/F16 tensors in the files
    bool check_only_ = false;     // the files hold fewer elements than params_.expect_elements
    std::map<std::string, std::string> quant_of_;  // tensor name -> its format, from the files' __metadata__
};
