/*
 * test-config-ranges.cpp: config.json fields outside their valid ranges (docs/engine.md, "What
 * config.json may say") fail the load with BAD_MODEL naming config.json, the field and the range,
 * before anything is allocated: num_hidden_layers 1000000 (which once allocated 464 MB first) and
 * 2^31-1 (once reported as out of memory), rope_theta 0 or negative, rms_norm_eps <= 0,
 * max_position_embeddings 1, and the rest of the table; a config that describes more weights than
 * the file holds fails without allocating a weight (shown with the allocation faults armed); the
 * drafter's config.json likewise.
 */

#include <string>
#include <vector>

#include "base/fault-inject.h"
#include "base/status.h"
#include "core/weight-loader.h"
#include "engine.h"
#include "redrafter/drafter-config.h"
#include "load-outcome.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {


// config (JSON text as tiny_config writes it) with "key": value replaced, or added when absent;
// value is raw JSON.
std::string set_field(const std::string & c, const std::string & key, const std::string & value) {
    const std::string k = "\"" + key + "\": ";
    size_t p = c.find(k);
    if (p == std::string::npos) return c.substr(0, c.size() - 1) + ", " + k + value + "}";
    size_t start = p + k.size(), end = start;
    int depth = 0;
    for (; end < c.size(); ++end) {
        const char ch = c[end];
        if (ch == '[' || ch == '{') ++depth;
        if ((ch == ']' || ch == '}') && depth-- == 0) break;
        if (ch == ',' && depth == 0) break;
    }
    return c.substr(0, start) + value + c.substr(end);
}

std::string config_with(const tiny_spec & s, const std::string & key, const std::string & value) {
    return set_field(tiny_config(s), key, value);
}

struct fixture : tiny_folders {
    // The field set to value must fail with BAD_MODEL naming config.json and every part.
    void expect_refused(const std::string & key, const std::string & value, const std::vector<std::string> & parts) {
        const std::string dir = folder(config_with(spec, key, value));
        const load_outcome o = load_folder(dir);
        bool ok = o.status == ENGINE_STATUS_BAD_MODEL && contains(o.message, dir + "/config.json");
        for (const auto & p : parts) ok = ok && contains(o.message, p);
        if (!ok) std::fprintf(stderr, "%s = %s: got %s '%s'\n", key.c_str(), value.c_str(), engine_status_code(o.status), o.message.c_str());
        CHECK(ok);
    }
};

void check_model_ranges(fixture & f) {
    // the unmodified folder loads
    CHECK(load_folder(f.folder(tiny_config(f.spec))).status == ENGINE_STATUS_OK);

    // the defects of issue #12: refused from config.json alone, with almost no memory touched
    const long rss0 = max_rss_kb();
    f.expect_refused("num_hidden_layers", "1000000", {"'num_hidden_layers' is 1000000", "1..1024"});
    f.expect_refused("num_hidden_layers", "2147483647", {"'num_hidden_layers' is 2147483647", "1..1024"});
    const long grew_mb = (max_rss_kb() - rss0) / 1024;
    std::fprintf(stderr, "peak RSS grew %ld MB over the num_hidden_layers cases\n", grew_mb);
    CHECK(grew_mb < 32);
    f.expect_refused("rope_theta", "0", {"'rope_theta' is 0", "(1, 1000000000000]"});
    f.expect_refused("rope_theta", "-10000", {"'rope_theta' is -10000"});
    f.expect_refused("rms_norm_eps", "-1", {"'rms_norm_eps' is -1", "(0, 1]"});
    f.expect_refused("rms_norm_eps", "0", {"'rms_norm_eps' is 0"});
    f.expect_refused("rms_norm_eps", "1e-60", {"'rms_norm_eps' is too small for a float"});
    f.expect_refused("max_position_embeddings", "1", {"'max_position_embeddings' is 1", "64..16777216"});

    // the rest of the table
    f.expect_refused("vocab_size", "0", {"'vocab_size' is 0", "1..4194304"});
    f.expect_refused("vocab_size", "4.5", {"'vocab_size' is 4.5"});
    f.expect_refused("vocab_size", "\"40\"", {"'vocab_size' is not a number"});
    f.expect_refused("hidden_size", "65537", {"'hidden_size' is 65537", "1..65536"});
    f.expect_refused("intermediate_size", "-3", {"'intermediate_size' is -3", "1..262144"});
    f.expect_refused("num_attention_heads", "1025", {"'num_attention_heads' is 1025", "1..1024"});
    f.expect_refused("num_key_value_heads", "8", {"'num_key_value_heads' is 8", "1..4"});
    f.expect_refused("num_key_value_heads", "3", {"not a multiple of num_key_value_heads"});
    f.expect_refused("head_dim", "7", {"'head_dim' is 7", "even"});
    f.expect_refused("head_dim", "2048", {"'head_dim' is 2048", "2..1024"});
    f.expect_refused("max_position_embeddings", "99999999999", {"'max_position_embeddings' is 99999999999"});
    f.expect_refused("tie_word_embeddings", "\"yes\"", {"'tie_word_embeddings' must be true or false"});
    f.expect_refused("bos_token_id", "40", {"'bos_token_id' holds 40", "0..39"});
    f.expect_refused("eos_token_id", "[2, -1]", {"'eos_token_id' holds -1"});
    f.expect_refused("sliding_window", "-1", {"'sliding_window' is -1"});
    f.expect_refused("rope_scaling", "{\"rope_type\": \"linear\", \"factor\": 0}", {"'factor' is 0", "[0.001, 1024]"});
    f.expect_refused("rope_scaling",
                     "{\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, "
                     "\"original_max_position_embeddings\": 1e30}",
                     {"'original_max_position_embeddings' is 1e+30", "1..16777216"});
    f.expect_refused("rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4}", {"unsupported rope scaling type 'yarn'"});
    f.expect_refused("rope_parameters", "{\"rope_type\": \"default\", \"rope_theta\": -5}", {"'rope_theta' is -5"});
    f.expect_refused("rope_scaling", "7", {"'rope_scaling' must be an object or null"});
    f.expect_refused("hidden_act", "\"gelu\"", {"unsupported hidden_act 'gelu'"});
    // every field in range, but the KV cache of a whole context (1024 layers x 1024 KV heads x
    // head_dim 1024 x 16M tokens) would not fit the address space
    {
        std::string c = tiny_config(f.spec);
        for (const char * key : {"num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim"}) c = set_field(c, key, "1024");
        c = set_field(c, "max_position_embeddings", "16777216");
        const load_outcome o = load_folder(f.folder(c));
        CHECK(o.status == ENGINE_STATUS_BAD_MODEL && contains(o.message, "the KV cache of max_position_embeddings (16777216) tokens") &&
              contains(o.message, "70368744177664-byte limit"));
    }
}

// More weights described than the file holds: the loader checks every tensor but allocates none
// (the allocation faults are armed: any allocation would turn BAD_MODEL into OUT_OF_MEMORY).
void check_no_allocation(fixture & f) {
    fault_arm("alloc:arena,alloc:weights");
    const std::string dir = f.folder(config_with(f.spec, "num_hidden_layers", "1000"));
    load_outcome o = load_folder(dir);
    if (o.status != ENGINE_STATUS_BAD_MODEL) std::fprintf(stderr, "1000 layers: got %s '%s'\n", engine_status_code(o.status), o.message.c_str());
    CHECK(o.status == ENGINE_STATUS_BAD_MODEL && contains(o.message, "missing tensor 'model.layers.2."));
    o = load_folder(f.folder(config_with(f.spec, "intermediate_size", "2400")));
    CHECK(o.status == ENGINE_STATUS_BAD_MODEL && contains(o.message, "mlp.gate_proj.weight") && contains(o.message, "[2400, 16]"));
    fault_arm(nullptr);
    // disarmed, the same allocation path works
    CHECK(load_folder(f.folder(tiny_config(f.spec))).status == ENGINE_STATUS_OK);

    // the loader itself: told to expect more elements than the file holds, it hands out checked but
    // empty matrices and vectors, and finish() names both totals
    weight_store store;
    weight_load_params p;
    p.expect_elements = 1u << 30;
    p.expect_source = "x/config.json";
    weight_loader ld(store, f.dirs.back(), p);
    const weight_matrix w = ld.matrix({"model.embed_tokens.weight"}, f.spec.vocab, f.spec.hidden);
    CHECK(w.data == nullptr && ld.vec({"model.norm.weight"}, f.spec.hidden).empty() && store.bytes == 0);
    std::string msg;
    try {
        ld.finish();
    } catch (const engine_error & e) {
        msg = e.what();
    }
    CHECK(contains(msg, "x/config.json: describes 1073741824 weight elements but") && contains(msg, "model.safetensors holds "));
}

void check_drafter_ranges() {
    auto refused = [](const std::string & json, const std::vector<std::string> & parts) {
        std::string msg;
        try {
            drafter_config_parse("d/config.json", json);
        } catch (const engine_error & e) {
            msg = e.what();
            bool ok = e.kind == ERROR_BAD_MODEL && contains(msg, "d/config.json");
            for (const auto & p : parts) ok = ok && contains(msg, p);
            if (!ok) std::fprintf(stderr, "drafter %s: got '%s'\n", json.c_str(), msg.c_str());
            CHECK(ok);
            return;
        }
        std::fprintf(stderr, "drafter %s: accepted\n", json.c_str());
        CHECK(false);
    };
    const std::string good = "\"vocab_size\": 40, \"hidden_size\": 8, \"exit_dim\": 16, \"rnn\": true";
    CHECK(drafter_config_parse("d/config.json", "{" + good + ", \"num_draft_layers\": 2}").n_layers == 2);
    refused("{" + good + ", \"num_draft_layers\": 65}", {"'num_draft_layers' is 65", "1..64"});
    refused("{" + good + ", \"num_draft_layers\": 0}", {"'num_draft_layers' is 0"});
    refused("{\"vocab_size\": 99999999, \"hidden_size\": 8, \"exit_dim\": 16, \"num_draft_layers\": 1}", {"'vocab_size' is 99999999", "1..4194304"});
    refused("{\"vocab_size\": 40, \"hidden_size\": 8, \"exit_dim\": 1e9, \"num_draft_layers\": 1}", {"'exit_dim' is not an integer", "1..131072"});
    refused("{\"vocab_size\": 40, \"hidden_size\": 8, \"num_draft_layers\": 1}", {"missing 'exit_dim'"});
    refused("{\"model_type\": \"llama\", " + good + ", \"num_draft_layers\": 1}", {"model_type is 'llama'"});
    // the largest config in range: its weight count stays inside 64 bits
    drafter_config c;
    c.n_vocab = 1 << 22;
    c.n_embd = 1 << 16;
    c.exit_dim = 1 << 17;
    c.n_layers = 64;
    c.rnn = true;
    CHECK(drafter_weight_elements(c) == (uint64_t(1) << 39) + 64 * ((uint64_t(1) << 34) + (1 << 17)) + (uint64_t(1) << 33) + (1 << 16));
}

}  // namespace

int main() {
    engine_set_log_level(ENGINE_LOG_ERROR);
    {
        fixture f;
        check_model_ranges(f);
        check_no_allocation(f);
    }
    check_drafter_ranges();
    return test_summary("test-config-ranges");
}
