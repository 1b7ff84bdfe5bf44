/*
 * test-quant-save.cpp: saved quantized folders (core/quant-save.h, core/quant-file.h, docs/engine.md
 * "Saved quantized folders"). A model quantized at load, saved, and loaded from the saved folder
 * holds the very same bytes in memory (every Q8_0 / Q4_0 matrix, the norms, the biases) for q8_0
 * and q4_0, on the tiny random model (hidden 16: padded blocks; untied head; qwen2 biases) and on
 * stories260K; saving the reloaded model writes the same file again. Broken saved folders give
 * BAD_MODEL naming the file and the tensor: truncated blocks, a NaN / infinite / negative Q8_0
 * scale, an unknown format, a tensor whose format disagrees, a wrong byte count per row, __metadata__
 * disagreeing with config.json; asking for the other quantized format is INVALID_ARGUMENT naming the
 * folder and both formats; saving an unquantized model is INVALID_ARGUMENT.
 */
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "api/engine-internal.h"
#include "core/quant-file.h"
#include "engine.h"
#include "load-outcome.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {

engine_model * load(const std::string & dir, const char * weights, engine_status * st = nullptr, std::string * msg = nullptr) {
    engine_model_params p = engine_model_default_params();
    p.weights = weights;
    p.n_threads = 1;
    engine_model * m = nullptr;
    char err[1024] = {0};
    const engine_status s = engine_model_init(dir.c_str(), &p, &m, err, sizeof err);
    if (st) *st = s;
    if (msg) *msg = err;
    if (s != ENGINE_STATUS_OK && !st) std::fprintf(stderr, "load %s (%s): %s\n", dir.c_str(), weights ? weights : "null", err);
    return m;
}

// config.json's text with "slipstream_weights": fmt added as the first member.
std::string with_saved_key(const std::string & config, const std::string & fmt) {
    std::string c = config;
    const size_t p = c.find('{');
    c.insert(p + 1, "\"slipstream_weights\": \"" + fmt + "\", ");
    return c;
}

// Saves m's weights into a new folder next to a config.json marked with fmt (and the tokenizer, if any).
std::string save_folder(engine_model * m, const std::string & src, const std::string & fmt) {
    const std::string dir = make_temp_dir();
    char err[1024] = {0};
    const engine_status st = engine_model_save_weights(m, (dir + "/model.safetensors").c_str(), err, sizeof err);
    if (st != ENGINE_STATUS_OK) std::fprintf(stderr, "save: %s\n", err);
    CHECK(st == ENGINE_STATUS_OK);
    write_file(dir + "/config.json", with_saved_key(read_file(src + "/config.json"), fmt));
    const std::string tok = read_file(src + "/tokenizer.json");
    if (!tok.empty()) write_file(dir + "/tokenizer.json", tok);
    return dir;
}

bool same_vec(const std::vector<float> & a, const std::vector<float> & b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_matrix(const weight_matrix & a, const weight_matrix & b) {
    if (a.dtype != b.dtype || a.rows != b.rows || a.cols != b.cols || a.layout != b.layout || !weight_is_quant(a.dtype)) return false;
    return std::memcmp(a.data, b.data, weight_quant_bytes(a.dtype, a.rows, a.cols)) == 0;
}

// Everything the forward reads is byte-identical between the two models.
void check_same_weights(const model & a, const model & b, const char * what) {
    bool ok = a.weights.quantized.size() == b.weights.quantized.size() && a.weights.bytes == b.weights.bytes &&
              a.compute_dtype == b.compute_dtype && same_matrix(a.tok_embd, b.tok_embd) && same_matrix(a.output, b.output) &&
              same_vec(a.output_norm, b.output_norm) && a.layers.size() == b.layers.size();
    for (size_t i = 0; ok && i < a.weights.quantized.size(); ++i)
        ok = a.weights.quantized[i].first == b.weights.quantized[i].first && same_matrix(a.weights.quantized[i].second, b.weights.quantized[i].second);
    for (size_t l = 0; ok && l < a.layers.size(); ++l) {
        const layer_weights &x = a.layers[l], &y = b.layers[l];
        ok = same_vec(x.attn_norm, y.attn_norm) && same_vec(x.ffn_norm, y.ffn_norm) && same_vec(x.bq, y.bq) && same_vec(x.bk, y.bk) &&
             same_vec(x.bv, y.bv) && same_matrix(x.wq, y.wq) && same_matrix(x.wk, y.wk) && same_matrix(x.wv, y.wv) && same_matrix(x.wo, y.wo) &&
             same_matrix(x.w_gate, y.w_gate) && same_matrix(x.w_up, y.w_up) && same_matrix(x.w_down, y.w_down);
    }
    if (!ok) std::fprintf(stderr, "%s: the saved folder's weights differ from the quantized-at-load ones\n", what);
    CHECK(ok);
}

// Quantize src at load as fmt, save, reload: same bytes in memory; saving the reloaded model gives the same file.
void round_trip(const std::string & src, const char * fmt, std::vector<std::string> & dirs) {
    const std::string what = src + " " + fmt;
    engine_model * q = load(src, fmt);
    CHECK(q != nullptr);
    if (!q) return;
    const std::string saved = save_folder(q, src, fmt);
    dirs.push_back(saved);
    for (const char * ask : {static_cast<const char *>(nullptr), "bf16", fmt}) {  // as stored, and the same format asked for
        engine_model * r = load(saved, ask);
        CHECK(r != nullptr);
        if (!r) continue;
        check_same_weights(*q->m, *r->m, what.c_str());
        CHECK(r->m->compute_dtype == fmt);
        if (!ask) {
            const std::string again = make_temp_dir();
            dirs.push_back(again);
            char err[512] = {0};
            CHECK(engine_model_save_weights(r, (again + "/model.safetensors").c_str(), err, sizeof err) == ENGINE_STATUS_OK);
            CHECK(read_file(again + "/model.safetensors") == read_file(saved + "/model.safetensors"));
        }
        engine_model_free(r);
    }
    engine_model_free(q);
}

void expect(const char * what, const std::string & dir, const char * weights, engine_status status, const std::vector<std::string> & parts) {
    engine_status st;
    std::string msg;
    engine_model * m = load(dir, weights, &st, &msg);
    bool ok = st == status && m == nullptr;
    for (const auto & p : parts) ok = ok && contains(msg, p);
    if (!ok) std::fprintf(stderr, "%s: got %s '%s'\n", what, engine_status_code(st), msg.c_str());
    CHECK(ok);
    if (m) engine_model_free(m);
}

// A copy of the saved folder dir with model.safetensors replaced by bytes (and config.json by config when given).
std::string variant(const std::string & dir, const std::string & bytes, std::vector<std::string> & dirs, const std::string & config = "") {
    const std::string d = make_temp_dir();
    dirs.push_back(d);
    write_file(d + "/config.json", config.empty() ? read_file(dir + "/config.json") : config);
    write_file(d + "/model.safetensors", bytes);
    return d;
}

// Offset in the file of the first byte of tensor name's data (from the header).
size_t data_offset(const std::string & file, const std::string & name) {
    uint64_t hl;
    std::memcpy(&hl, file.data(), 8);
    const size_t p = file.find("\"" + name + "\":{\"dtype\"");
    const size_t o = file.find("\"data_offsets\":[", p) + 16;
    return 8 + static_cast<size_t>(hl) + std::stoull(file.substr(o));
}

std::string replace_once(std::string s, const std::string & from, const std::string & to) {
    const size_t p = s.find(from);
    CHECK(p != std::string::npos);
    if (p != std::string::npos) s.replace(p, from.size(), to);
    return s;
}

}  // namespace

int main() {
    engine_set_log_level(ENGINE_LOG_WARN);
    std::vector<std::string> dirs;

    // ---- round trips: the same bytes in memory as quantizing at load --------------------------
    tiny_spec untied;
    untied.tie = false;  // the head is its own Q8_0 matrix
    tiny_spec qwen;
    qwen.arch = "qwen2";  // q/k/v biases
    qwen.bias = true;
    qwen.bf16 = true;
    qwen.hidden = 48;  // two blocks a row, the second padded
    qwen.ff = 40;
    qwen.head_dim = 12;
    for (const tiny_spec & s : {tiny_spec(), untied, qwen}) {
        const std::string src = write_tiny_model(s, 7);
        dirs.push_back(src);
        for (const char * fmt : {"q8_0", "q4_0"}) round_trip(src, fmt, dirs);
    }
    const std::string stories = fixtures_dir() + "/models/stories260K";
    for (const char * fmt : {"q8_0", "q4_0"}) round_trip(stories, fmt, dirs);

    // ---- saving needs quantized weights ---------------------------------------------------------
    {
        engine_model * m = load(dirs[0], nullptr);
        char err[512] = {0};
        CHECK(engine_model_save_weights(m, "/tmp/never-written.safetensors", err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT);
        CHECK(contains(err, "not quantized"));
        engine_model_free(m);
    }

    // ---- broken saved folders --------------------------------------------------------------------
    tiny_spec s;
    const std::string src = write_tiny_model(s, 3);
    dirs.push_back(src);
    engine_model * q8m = load(src, "q8_0");
    engine_model * q4m = load(src, "q4_0");
    const std::string q8 = save_folder(q8m, src, "q8_0"), q4 = save_folder(q4m, src, "q4_0");
    dirs.push_back(q8);
    dirs.push_back(q4);
    engine_model_free(q8m);
    engine_model_free(q4m);
    const std::string f8 = read_file(q8 + "/model.safetensors"), f4 = read_file(q4 + "/model.safetensors");
    const std::string down = "model.layers.1.mlp.down_proj.weight";

    // the other quantized format asked for: the folder and both formats named
    expect("q8_0 folder loaded as q4_0", q8, "q4_0", ENGINE_STATUS_INVALID_ARGUMENT, {q8, "saved quantized as q8_0", "q4_0"});
    // truncated blocks
    expect("truncated", variant(q8, f8.substr(0, f8.size() - 5), dirs), nullptr, ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "out of range", "truncated"});
    // a NaN, an infinite and a negative Q8_0 scale; a negative Q4_0 scale is valid
    for (const auto & c : std::vector<std::pair<uint16_t, const char *>>{{0x7e00, "NaN"}, {0x7c00, "infinite"}, {0xbc00, "negative"}}) {
        std::string b = f8;
        const size_t o = data_offset(b, down) + 3 * quant_file_row_bytes(WEIGHT_Q8_0, s.ff);  // row 3, block 0
        b[o] = static_cast<char>(c.first & 0xff);
        b[o + 1] = static_cast<char>(c.first >> 8);
        expect(c.second, variant(q8, b, dirs), nullptr, ENGINE_STATUS_BAD_MODEL, {"model.safetensors", down, "corrupt q8_0 block", "row 3, block 0", c.second});
    }
    {
        std::string b = f4;
        const size_t o = data_offset(b, down);
        b[o + 1] = static_cast<char>(b[o + 1] ^ 0x80);  // flip the scale's sign: still a valid Q4_0 block
        engine_model * m = load(variant(q4, b, dirs), nullptr);
        CHECK(m != nullptr);
        if (m) engine_model_free(m);
        b[o] = 0;
        b[o + 1] = static_cast<char>(0x7c);
        expect("q4_0 inf", variant(q4, b, dirs), nullptr, ENGINE_STATUS_BAD_MODEL, {down, "corrupt q4_0 block", "infinite"});
    }
    // an unknown format (same length, so the header stays consistent)
    expect("unknown format", variant(q8, replace_once(f8, "\"slipstream.quant." + down + "\":\"q8_0\"", "\"slipstream.quant." + down + "\":\"q5_k\""), dirs),
           nullptr, ENGINE_STATUS_BAD_MODEL, {down, "unknown format 'q5_k'"});
    // a tensor whose format disagrees with the folder's
    expect("format disagrees", variant(q8, replace_once(f8, "\"slipstream.quant." + down + "\":\"q8_0\"", "\"slipstream.quant." + down + "\":\"q4_0\""), dirs),
           nullptr, ENGINE_STATUS_BAD_MODEL, {down, "holds q4_0 blocks but the engine keeps it as q8_0"});
    // a wrong byte count per row: a matrix's row is 1 block (34 bytes) but the config implies 2 (68)
    {
        tiny_spec wide = s;
        wide.ff = 40;  // down_proj (hidden, ff): 2 blocks a row
        expect("wrong byte count", variant(q8, f8, dirs, with_saved_key(tiny_config(wide), "q8_0")), nullptr, ENGINE_STATUS_BAD_MODEL,
               {"model.safetensors", "model.layers.0.mlp.gate_proj.weight", "has shape [24, 34], expected [40, 34]"});
        expect("wrong row bytes", variant(q8, replace_once(replace_once(f8, "\"" + down + "\":{\"dtype\":\"U8\",\"shape\":[16,34]", "\"" + down + "\":{\"dtype\":\"U8\",\"shape\":[32,17]"), "", ""), dirs),
               nullptr, ENGINE_STATUS_BAD_MODEL, {down, "has shape [32, 17], expected [16, 34]"});
    }
    // a matrix stored unquantized in a saved folder (the U8 dtype replaced, same size and header length: 16 x 34 bytes = 4 x 34 F32)
    expect("f32 matrix", variant(q8, replace_once(f8, "\"" + down + "\":{\"dtype\":\"U8\",\"shape\":[16,34]", "\"" + down + "\":{\"dtype\":\"F32\",\"shape\":[4,34]"), dirs),
           nullptr, ENGINE_STATUS_BAD_MODEL, {down, "has dtype F32", "U8 tensors of q8_0 blocks"});
    // __metadata__ and config.json disagree, or only one of them says quantized
    expect("metadata q8_0, config q4_0", variant(q8, f8, dirs, with_saved_key(tiny_config(s), "q4_0")), nullptr, ENGINE_STATUS_BAD_MODEL,
           {"model.safetensors", "slipstream.weights is 'q8_0'", "slipstream_weights q4_0"});
    expect("metadata without config", variant(q8, f8, dirs, tiny_config(s)), nullptr, ENGINE_STATUS_BAD_MODEL,
           {"model.safetensors", "holds 'q8_0' blocks", "no slipstream_weights"});
    expect("config without metadata", variant(q8, read_file(src + "/model.safetensors"), dirs), nullptr, ENGINE_STATUS_BAD_MODEL,
           {"model.safetensors", "slipstream.weights is absent"});
    expect("config unknown format", variant(q8, f8, dirs, with_saved_key(tiny_config(s), "q3_k")), nullptr, ENGINE_STATUS_BAD_MODEL,
           {"config.json", "'slipstream_weights' is 'q3_k'"});

    for (const auto & d : dirs) remove_dir(d);
    return test_summary("test-quant-save");
}
