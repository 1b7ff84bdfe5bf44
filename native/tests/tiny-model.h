/*
 * tiny-model.h: writes a seeded random tiny Llama-family folder (config.json + model.safetensors,
 * F32 or BF16) into a temp directory for the C++ tests, and can corrupt it in named ways. The
 * layout follows the safetensors format: u64 header length, JSON header, raw little-endian data.
 */
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

struct tiny_tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
};

struct tiny_spec {
    std::string arch = "llama";
    int vocab = 40, hidden = 16, ff = 24, layers = 2, heads = 4, kv_heads = 2, head_dim = 8;
    bool tie = true;
    bool bias = false;
    bool bf16 = false;
};

inline std::string make_temp_dir() {
    char tmpl[] = "/tmp/slipstream-test-XXXXXX";
    char * d = mkdtemp(tmpl);
    return d ? std::string(d) : std::string();
}

inline void write_file(const std::string & path, const std::string & data) {
    FILE * f = std::fopen(path.c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
}

inline std::string read_file(const std::string & path) {
    FILE * f = std::fopen(path.c_str(), "rb");
    std::string s;
    if (!f) return s;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
}

inline std::vector<tiny_tensor> tiny_tensors(const tiny_spec & s, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 0.2f);
    auto t = [&](const std::string & name, std::vector<int64_t> shape, bool ones = false) {
        tiny_tensor x{name, shape, {}};
        int64_t n = 1;
        for (auto v : shape) n *= v;
        for (int64_t i = 0; i < n; ++i) x.values.push_back(ones ? 1.0f + 0.1f * d(rng) : d(rng));
        return x;
    };
    std::vector<tiny_tensor> out;
    const int64_t q = int64_t(s.heads) * s.head_dim, kv = int64_t(s.kv_heads) * s.head_dim;
    out.push_back(t("model.embed_tokens.weight", {s.vocab, s.hidden}));
    if (!s.tie) out.push_back(t("lm_head.weight", {s.vocab, s.hidden}));
    out.push_back(t("model.norm.weight", {s.hidden}, true));
    for (int l = 0; l < s.layers; ++l) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        out.push_back(t(p + "input_layernorm.weight", {s.hidden}, true));
        out.push_back(t(p + "post_attention_layernorm.weight", {s.hidden}, true));
        out.push_back(t(p + "self_attn.q_proj.weight", {q, s.hidden}));
        out.push_back(t(p + "self_attn.k_proj.weight", {kv, s.hidden}));
        out.push_back(t(p + "self_attn.v_proj.weight", {kv, s.hidden}));
        out.push_back(t(p + "self_attn.o_proj.weight", {s.hidden, q}));
        if (s.bias) {
            out.push_back(t(p + "self_attn.q_proj.bias", {q}));
            out.push_back(t(p + "self_attn.k_proj.bias", {kv}));
            out.push_back(t(p + "self_attn.v_proj.bias", {kv}));
        }
        out.push_back(t(p + "mlp.gate_proj.weight", {s.ff, s.hidden}));
        out.push_back(t(p + "mlp.up_proj.weight", {s.ff, s.hidden}));
        out.push_back(t(p + "mlp.down_proj.weight", {s.hidden, s.ff}));
    }
    return out;
}

inline std::string tiny_config(const tiny_spec & s) {
    char buf[1024];
    std::snprintf(buf, sizeof(buf),
                  "{\"architectures\": [\"X\"], \"model_type\": \"%s\", \"vocab_size\": %d, \"hidden_size\": %d, "
                  "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": %d, "
                  "\"num_key_value_heads\": %d, \"head_dim\": %d, \"max_position_embeddings\": 128, "
                  "\"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"tie_word_embeddings\": %s, "
                  "\"torch_dtype\": \"%s\", \"bos_token_id\": 1, \"eos_token_id\": 2}",
                  s.arch.c_str(), s.vocab, s.hidden, s.ff, s.layers, s.heads, s.kv_heads, s.head_dim, s.tie ? "true" : "false",
                  s.bf16 ? "bfloat16" : "float32");
    return buf;
}

// The bytes of a safetensors file holding the tensors (F32 or BF16).
inline std::string safetensors_bytes(const std::vector<tiny_tensor> & ts, bool bf16) {
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    std::string data;
    for (const auto & t : ts) {
        size_t begin = data.size();
        for (float v : t.values) {
            if (bf16) {
                uint32_t u;
                std::memcpy(&u, &v, 4);
                u += 0x7fffu + ((u >> 16) & 1u);
                uint16_t h = static_cast<uint16_t>(u >> 16);
                data.append(reinterpret_cast<const char *>(&h), 2);
            } else {
                data.append(reinterpret_cast<const char *>(&v), 4);
            }
        }
        header += ",\"" + t.name + "\":{\"dtype\":\"" + (bf16 ? "BF16" : "F32") + "\",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.shape[i]);
        header += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
    }
    header += "}";
    while (header.size() % 8) header += ' ';
    uint64_t len = header.size();
    std::string out(reinterpret_cast<const char *>(&len), 8);
    return out + header + data;
}

inline std::string write_tiny_model(const tiny_spec & s, uint32_t seed) {
    std::string dir = make_temp_dir();
    write_file(dir + "/config.json", tiny_config(s));
    write_file(dir + "/model.safetensors", safetensors_bytes(tiny_tensors(s, seed), s.bf16));
    return dir;
}

inline void remove_dir(const std::string & dir) {
    std::string cmd = "rm -rf '" + dir + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
}
