/*
 * test-bad-models.cpp: malformed model folders give one error that names the file and, where
 * there is one, the tensor: truncated file, header offsets out of range, lying header length,
 * missing tensor, wrong shape, dtype that disagrees with config.json, unknown architecture,
 * vocabulary disagreeing with tokenizer.json, missing files. The status is BAD_MODEL or IO_ERROR
 * (CANCELLED for a set abort flag) and no model handle is returned (RAII frees everything).
 */
#include <string>
#include <vector>

#include "engine.h"
#include "load-outcome.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {


void expect_error(const char * what, const std::string & dir, engine_status status, const std::vector<std::string> & parts) {
    load_outcome o = load_folder(dir);
    bool ok = o.status == status;
    for (const auto & p : parts) ok = ok && contains(o.message, p);
    if (!ok) std::fprintf(stderr, "%s: got %s '%s'\n", what, engine_status_code(o.status), o.message.c_str());
    CHECK(ok);
}

// A valid folder's safetensors bytes with a mutation applied.
std::string with_file(const tiny_spec & s, const std::string & bytes) {
    std::string dir = make_temp_dir();
    write_file(dir + "/config.json", tiny_config(s));
    write_file(dir + "/model.safetensors", bytes);
    return dir;
}

std::string replace_once(std::string s, const std::string & from, const std::string & to) {
    size_t p = s.find(from);
    if (p != std::string::npos) s.replace(p, from.size(), to);
    return s;
}

}  // namespace

int main() {
    std::vector<std::string> dirs;
    tiny_spec s;
    const auto tensors = tiny_tensors(s, 1);
    const std::string good = safetensors_bytes(tensors, false);
    engine_set_log_level(ENGINE_LOG_WARN);

    // the valid folder loads
    dirs.push_back(with_file(s, good));
    CHECK(load_folder(dirs.back()).status == ENGINE_STATUS_OK);

    // the caller's abort flag reaches the loader (checked before each tensor): a set flag cancels
    {
        volatile int flag = 1;
        engine_model_params mp = engine_model_default_params();
        mp.abort = &flag;
        engine_model * m = nullptr;
        char err[256] = {0};
        CHECK(engine_model_init(dirs.back().c_str(), &mp, &m, err, sizeof(err)) == ENGINE_STATUS_CANCELLED);
        CHECK(m == nullptr && contains(err, "cancelled"));
        flag = 0;
        CHECK(engine_model_init(dirs.back().c_str(), &mp, &m, err, sizeof(err)) == ENGINE_STATUS_OK);
        engine_model_free(m);
    }

    // truncated file: data runs short
    dirs.push_back(with_file(s, good.substr(0, good.size() - 100)));
    expect_error("truncated", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "out of range", "truncated"});

    // truncated inside the 8-byte length
    dirs.push_back(with_file(s, good.substr(0, 5)));
    expect_error("tiny file", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "truncated file"});

    // header offsets out of range (one tensor points past the data)
    {
        const std::string key = "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[";
        uint64_t len;
        std::memcpy(&len, good.data(), 8);
        std::string header = good.substr(8, len), data = good.substr(8 + len);
        size_t p = header.find(key);
        CHECK(p != std::string::npos);
        size_t start = p + key.size(), end = header.find(']', start);
        header.replace(start, end - start, "99999936,100000000");
        while (header.size() % 8) header += ' ';
        len = header.size();
        std::string bad(reinterpret_cast<const char *>(&len), 8);
        dirs.push_back(with_file(s, bad + header + data));
        expect_error("offsets", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "model.norm.weight", "out of range"});
    }

    // lying header length: larger than the file
    {
        std::string bad = good;
        uint64_t len = good.size() * 2;
        std::memcpy(&bad[0], &len, 8);
        dirs.push_back(with_file(s, bad));
        expect_error("lying length (long)", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "header length"});
    }
    // lying header length: shorter than the JSON, which then does not parse
    {
        std::string bad = good;
        uint64_t len;
        std::memcpy(&len, good.data(), 8);
        len -= 40;
        std::memcpy(&bad[0], &len, 8);
        dirs.push_back(with_file(s, bad));
        expect_error("lying length (short)", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "not valid JSON"});
    }

    // missing tensor
    {
        std::vector<tiny_tensor> ts;
        for (const auto & t : tensors)
            if (t.name != "model.layers.1.mlp.up_proj.weight") ts.push_back(t);
        dirs.push_back(with_file(s, safetensors_bytes(ts, false)));
        expect_error("missing", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "missing tensor 'model.layers.1.mlp.up_proj.weight'"});
    }

    // wrong shape (config says hidden 16; the file's q_proj is (16, 12))
    {
        std::vector<tiny_tensor> ts = tensors;
        for (auto & t : ts)
            if (t.name == "model.layers.0.self_attn.q_proj.weight") {
                t.shape = {32, 12};
                t.values.resize(32 * 12);
            }
        dirs.push_back(with_file(s, safetensors_bytes(ts, false)));
        expect_error("shape", dirs.back(), ENGINE_STATUS_BAD_MODEL,
                     {"model.safetensors", "model.layers.0.self_attn.q_proj.weight", "[32, 12]", "[32, 16]"});
    }

    // dtype disagreeing with config.json (bf16 file, float32 config)
    dirs.push_back(with_file(s, safetensors_bytes(tensors, true)));
    expect_error("dtype", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "model.embed_tokens.weight", "BF16", "float32"});

    // unsupported dtype
    dirs.push_back(with_file(s, replace_once(good, "\"dtype\":\"F32\",\"shape\":[16]", "\"dtype\":\"I32\",\"shape\":[16]")));
    expect_error("I32", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"model.safetensors", "I32"});

    // unknown architecture
    {
        tiny_spec u = s;
        u.arch = "gpt2";
        dirs.push_back(with_file(u, good));
        expect_error("arch", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"config.json", "unknown architecture 'gpt2'"});
    }

    // vocabulary of tokenizer.json larger than config.json's vocab_size
    {
        std::string dir = with_file(s, good);
        std::string tok = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"zz\": 57}}, \"added_tokens\": []}";
        write_file(dir + "/tokenizer.json", tok);
        dirs.push_back(dir);
        expect_error("vocab", dirs.back(), ENGINE_STATUS_BAD_MODEL, {"tokenizer.json", "token id 57", "vocab_size is 40"});
    }

    // no weights, no config, no folder
    {
        std::string dir = make_temp_dir();
        write_file(dir + "/config.json", tiny_config(s));
        dirs.push_back(dir);
        expect_error("no weights", dir, ENGINE_STATUS_BAD_MODEL, {"no model.safetensors"});
        std::string dir2 = make_temp_dir();
        dirs.push_back(dir2);
        expect_error("no config", dir2, ENGINE_STATUS_BAD_MODEL, {"config.json"});
        expect_error("no folder", "/definitely/not/here", ENGINE_STATUS_IO_ERROR, {"/definitely/not/here"});
    }

    // a sharded index naming a shard that is not there
    {
        std::string dir = make_temp_dir();
        write_file(dir + "/config.json", tiny_config(s));
        write_file(dir + "/model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00002.safetensors\"}}");
        dirs.push_back(dir);
        expect_error("shard", dir, ENGINE_STATUS_IO_ERROR, {"model-00001-of-00002.safetensors"});
    }

    // config.json that is not JSON
    {
        std::string dir = with_file(s, good);
        write_file(dir + "/config.json", "{\"vocab_size\": 40,");
        dirs.push_back(dir);
        expect_error("config json", dir, ENGINE_STATUS_BAD_MODEL, {"config.json", "not valid JSON"});
    }

    for (const auto & d : dirs) remove_dir(d);
    return test_summary("test-bad-models");
}
