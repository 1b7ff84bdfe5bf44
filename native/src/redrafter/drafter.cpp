/*
 * drafter.cpp: loading and checking ReDrafter heads (docs/redrafter.md §1): config.json against the
 * base model, then every tensor through the engine's weight loader (core/weight-loader.h), as the
 * model's are.
 */
#include "drafter.h"

#include "base/log.h"
#include "base/status.h"
#include "core/file-read.h"
#include "core/model.h"
#include "core/weight-loader.h"

drafter::drafter() = default;
drafter::~drafter() = default;

std::unique_ptr<drafter> drafter_load(const std::string & dir, const model & base, bool tile) {
    auto d = std::make_unique<drafter>();
    d->dir = dir;
    const std::string cfg_path = dir + "/config.json";
    d->config = drafter_config_load(cfg_path);
    const drafter_config & c = d->config;
    const model_config & b = base.config;
    if (c.n_embd != b.n_embd)
        bad_model(cfg_path, "hidden_size is " + std::to_string(c.n_embd) + " but the base model's hidden size is " + std::to_string(b.n_embd) +
                          " (" + base.dir + "): this drafter was trained for another model");
    if (c.n_vocab != b.n_vocab)
        bad_model(cfg_path, "vocab_size is " + std::to_string(c.n_vocab) + " but the base model's vocabulary has " + std::to_string(b.n_vocab) +
                          " tokens (" + base.dir + "): this drafter was trained for another model");

    if (!path_exists(dir + "/model.safetensors") && !path_exists(dir + "/model.safetensors.index.json") && path_exists(dir + "/model.pt"))
        bad_model(dir, "only model.pt found; convert the drafter to safetensors (model.safetensors)");
    weight_load_params wp;
    wp.tile = tile;
    wp.shape_source = "config.json and the base model";
    wp.expect_elements = drafter_weight_elements(c);  // checked before anything is allocated
    wp.expect_source = cfg_path;
    weight_loader ld(d->weights, dir, wp);
    const int64_t H = c.n_embd, E = c.exit_dim, V = c.n_vocab, N = c.n_layers;

    // rnn_* exactly when rnn (§1.7 loader checklist)
    if (c.rnn) {
        d->rnn_w = ld.matrix({"rnn_w.weight"}, H, H);
        d->rnn_u = ld.matrix({"rnn_u.weight"}, H, H);
        d->rnn_u_bias = ld.vec({"rnn_u.bias"}, H);
    } else if (ld.find({"rnn_w.weight", "rnn_u.weight"})) {
        bad_model(ld.where(), "has rnn_w/rnn_u tensors but config.json says rnn: false");
    }
    // input_proj exactly when E != 2H
    if (E != 2 * H) {
        d->input_proj = ld.matrix({"input_proj.weight", "input_projs.weight"}, E, 2 * H);
        d->input_proj_bias = ld.vec({"input_proj.bias", "input_projs.bias"}, E);
    } else if (ld.find({"input_proj.weight", "input_projs.weight"})) {
        bad_model(ld.where(), "has input_proj but exit_dim == 2 * hidden_size (" + std::to_string(E) + "), where Apple's Drafter has none");
    }
    // the spellings TRT-LLM's converter accepts (docs/redrafter.md §1.7)
    auto names = [](const std::string & suffix) {
        return std::vector<std::string>{"lm_head." + suffix, "lm_heads." + suffix, "0." + suffix};
    };
    for (int64_t i = 0; i < N; ++i) {
        d->res_w.push_back(ld.matrix(names(std::to_string(i) + ".linear.weight"), E, E));
        d->res_b.push_back(ld.vec(names(std::to_string(i) + ".linear.bias"), E));
    }
    d->lm_head = ld.matrix(names(std::to_string(N) + ".weight"), V, E);
    if (ld.find(names(std::to_string(N + 1) + ".weight")) || ld.find(names(std::to_string(N) + ".linear.weight")))
        bad_model(ld.where(), "has more lm_head layers than num_draft_layers = " + std::to_string(N) + " in config.json");

    const st_tensor * head = ld.find(names(std::to_string(N) + ".weight"));
    d->stored_dtype = head->dtype == ST_BF16 ? "bf16" : head->dtype == ST_F16 ? "f16" : "f32";
    ld.finish();
    ENGINE_LOG_INFO("drafter %s: H=%d E=%d N=%d V=%d rnn=%d dtype=%s, %.1f MB", dir.c_str(), c.n_embd, c.exit_dim, c.n_layers,
                    c.n_vocab, c.rnn ? 1 : 0, d->stored_dtype.c_str(), d->weights.bytes / 1e6);
    return d;
}
