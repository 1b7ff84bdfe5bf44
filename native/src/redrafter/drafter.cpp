/*
 * drafter.cpp: loading and checking ReDrafter heads (docs/redrafter.md §1): config.json against the
 * base model, then every tensor through the engine's weight loader (core/weight-loader.h), as the
 * model's are.
 */
#include "drafter.h"

#include <fstream>
#include <sstream>

#include "base/log.h"
#include "base/status.h"
#include "core/json.h"
#include "core/model.h"
#include "core/weight-loader.h"

drafter::drafter() = default;
drafter::~drafter() = default;

namespace {

int config_int(const std::string & path, const json_value & root, const char * key) {
    const json_value * v = root.get(key);
    if (!v) bad_model(path, std::string("missing '") + key + "'");
    if (v->kind != json_value::NUMBER || !v->is_int || v->i <= 0 || v->i > (1 << 30))
        bad_model(path, std::string("'") + key + "' must be a positive integer");
    return (int)v->i;
}

std::string read_file(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw engine_error(ERROR_IO, path + ": cannot open");
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

drafter_config drafter_config_parse(const std::string & path, const std::string & text) {
    json_value root;
    try {
        root = json_parse(text.data(), text.size());
    } catch (const json_error & e) {
        bad_model(path, std::string("not valid JSON: ") + e.what());
    }
    if (root.kind != json_value::OBJECT) bad_model(path, "not a JSON object");
    if (const json_value * mt = root.get("model_type")) {
        if (mt->kind != json_value::STRING || mt->str != "recurrent_drafting_drafter")
            bad_model(path, "model_type is '" + (mt->kind == json_value::STRING ? mt->str : std::string("?")) +
                          "', not 'recurrent_drafting_drafter': this is not a ReDrafter drafter folder");
    }
    drafter_config c;
    c.n_vocab = config_int(path, root, "vocab_size");
    c.n_embd = config_int(path, root, "hidden_size");
    c.exit_dim = config_int(path, root, "exit_dim");
    c.n_layers = config_int(path, root, "num_draft_layers");
    c.rnn = false;  // DrafterConfig's default
    if (const json_value * r = root.get("rnn")) {
        if (r->kind != json_value::BOOL) bad_model(path, "'rnn' must be true or false");
        c.rnn = r->b;
    }
    if (c.n_layers > 64) bad_model(path, "'num_draft_layers' is " + std::to_string(c.n_layers) + " (at most 64)");
    return c;
}

std::unique_ptr<drafter> drafter_load(const std::string & dir, const model & base, bool tile) {
    auto d = std::make_unique<drafter>();
    d->dir = dir;
    const std::string cfg_path = dir + "/config.json";
    d->config = drafter_config_parse(cfg_path, read_file(cfg_path));
    const drafter_config & c = d->config;
    const model_config & b = base.config;
    if (c.n_embd != b.n_embd)
        bad_model(cfg_path, "hidden_size is " + std::to_string(c.n_embd) + " but the base model's hidden size is " + std::to_string(b.n_embd) +
                          " (" + base.dir + "): this drafter was trained for another model");
    if (c.n_vocab != b.n_vocab)
        bad_model(cfg_path, "vocab_size is " + std::to_string(c.n_vocab) + " but the base model's vocabulary has " + std::to_string(b.n_vocab) +
                          " tokens (" + base.dir + "): this drafter was trained for another model");

    if (!std::ifstream(dir + "/model.safetensors") && !std::ifstream(dir + "/model.safetensors.index.json") && std::ifstream(dir + "/model.pt"))
        bad_model(dir, "only model.pt found; convert the drafter to safetensors (model.safetensors)");
    weight_load_params wp;
    wp.tile = tile;
    wp.shape_source = "config.json and the base model";
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
