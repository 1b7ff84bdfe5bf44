/*
 * drafter-config.cpp: a drafter's config.json, checked (see drafter-config.h). Apple's train.py
 * writes model_type "recurrent_drafting_drafter"; a config without model_type is accepted.
 */
#include "drafter-config.h"

#include "base/status.h"
#include "core/config.h"
#include "core/file-read.h"
#include "core/json.h"

namespace {

int config_int(const std::string & path, const json_value & root, const char * key, int64_t hi) {
    const json_value * v = root.get(key);
    const std::string range = "an integer in 1.." + std::to_string(hi);
    if (!v || v->is_null()) bad_model(path, std::string("missing '") + key + "' (" + range + ")");
    if (v->kind != json_value::NUMBER || !v->is_int || v->i < 1 || v->i > hi) {
        const std::string got = v->kind != json_value::NUMBER ? "is not a number" : v->is_int ? "is " + std::to_string(v->i) : "is not an integer";
        bad_model(path, std::string("'") + key + "' " + got + ": it must be " + range);
    }
    return static_cast<int>(v->i);
}

}  // namespace

drafter_config drafter_config_parse(const std::string & path, const std::string & text) {
    json_value root;
    try {
        json_options opt;
        opt.max_values = CONFIG_MAX_JSON_VALUES;
        root = json_parse(text.data(), text.size(), opt);
    } catch (const json_error & e) {
        bad_model(path, std::string("not valid JSON: ") + e.what());
    }
    if (root.kind != json_value::OBJECT) bad_model(path, "not a JSON object");
    if (const json_value * mt = root.get("model_type")) {
        if (mt->kind != json_value::STRING || mt->str != "recurrent_drafting_drafter")
            bad_model(path, "model_type is " + (mt->kind == json_value::STRING ? file_value_for_message(mt->str) : std::string("not a string")) +
                                ", not 'recurrent_drafting_drafter': this is not a ReDrafter drafter folder");
    }
    drafter_config c;
    c.n_vocab = config_int(path, root, "vocab_size", CONFIG_MAX_VOCAB);
    c.n_embd = config_int(path, root, "hidden_size", CONFIG_MAX_HIDDEN);
    c.exit_dim = config_int(path, root, "exit_dim", DRAFTER_MAX_EXIT_DIM);
    c.n_layers = config_int(path, root, "num_draft_layers", DRAFTER_MAX_LAYERS);
    c.rnn = false;  // DrafterConfig's default
    if (const json_value * r = root.get("rnn")) {
        if (r->kind != json_value::BOOL) bad_model(path, "'rnn' must be true or false");
        c.rnn = r->b;
    }
    return c;
}

drafter_config drafter_config_load(const std::string & path) { return drafter_config_parse(path, read_capped_file(path, FILE_CAP_CONFIG)); }

uint64_t drafter_weight_elements(const drafter_config & c) {
    // the ranges bound every term: H <= 2^16, E <= 2^17, V <= 2^22, N <= 64, so the sum stays below 2^47
    const uint64_t H = c.n_embd, E = c.exit_dim, V = c.n_vocab, N = c.n_layers;
    uint64_t total = V * E + N * (E * E + E);
    if (c.rnn) total += 2 * H * H + H;
    if (E != 2 * H) total += E * 2 * H + E;
    return total;
}
