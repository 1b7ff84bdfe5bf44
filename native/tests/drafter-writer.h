/*
 * drafter-writer.h: test helper that writes safetensors files and random drafter folders in
 * Apple's train.py layout (config.json + model.safetensors), for the C++ drafter tests.
 */
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace drafter_writer {

struct tensor_spec {
    std::string name;
    std::string dtype;  // F32 | BF16 | F16
    std::vector<int64_t> shape;
    std::vector<float> values;
};

inline uint16_t f32_to_f16(float f) {  // round to nearest even, normal range only (test values are small)
    uint32_t u;
    std::memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    int e = (int)((u >> 23) & 0xff) - 127 + 15;
    uint32_t mant = u & 0x7fffff;
    if (e <= 0) return (uint16_t)sign;
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

inline void write_safetensors(const std::string & path, const std::vector<tensor_spec> & ts) {
    std::string header = "{";
    std::string data;
    for (size_t i = 0; i < ts.size(); ++i) {
        const auto & t = ts[i];
        size_t begin = data.size();
        for (float v : t.values) {
            if (t.dtype == "F32") {
                data.append((const char *)&v, 4);
            } else {
                uint16_t h = t.dtype == "BF16" ? f32_to_bf16(v) : f32_to_f16(v);
                data.append((const char *)&h, 2);
            }
        }
        header += (i ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
        for (size_t k = 0; k < t.shape.size(); ++k) header += (k ? "," : "") + std::to_string(t.shape[k]);
        header += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
    }
    header += "}";
    while ((8 + header.size()) % 8) header += ' ';
    std::ofstream f(path, std::ios::binary);
    uint64_t n = header.size();
    f.write((const char *)&n, 8);
    f << header << data;
}

inline std::vector<float> random_values(size_t n, unsigned seed, float scale = 0.5f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.f, scale);
    std::vector<float> v(n);
    for (auto & x : v) x = g(rng);
    return v;
}

// A seeded random drafter (rnn, E = exit_dim) for a base model of vocab V and hidden size H.
inline void write_random_drafter(const std::string & dir, int V, int H, int E, int N, const std::string & dtype,
                                 unsigned seed) {
    std::string cmd = "mkdir -p '" + dir + "'";
    if (std::system(cmd.c_str()) != 0) return;
    std::ofstream(dir + "/config.json") << "{\"model_type\":\"recurrent_drafting_drafter\",\"vocab_size\":" << V
                                        << ",\"hidden_size\":" << H << ",\"exit_dim\":" << E
                                        << ",\"num_draft_layers\":" << N << ",\"rnn\":true}";
    std::vector<tensor_spec> ts;
    auto add = [&](const std::string & n, std::vector<int64_t> shape, float scale) {
        size_t count = 1;
        for (auto x : shape) count *= x;
        ts.push_back({n, dtype, shape, random_values(count, seed++, scale)});
    };
    add("rnn_w.weight", {H, H}, 0.2f);
    add("rnn_u.weight", {H, H}, 0.2f);
    add("rnn_u.bias", {H}, 0.2f);
    if (E != 2 * H) {
        add("input_proj.weight", {E, 2 * H}, 0.2f);
        add("input_proj.bias", {E}, 0.1f);
    }
    for (int i = 0; i < N; ++i) {
        add("lm_head." + std::to_string(i) + ".linear.weight", {E, E}, 0.1f);
        add("lm_head." + std::to_string(i) + ".linear.bias", {E}, 0.1f);
    }
    add("lm_head." + std::to_string(N) + ".weight", {V, E}, 0.5f);
    write_safetensors(dir + "/model.safetensors", ts);
}

}  // namespace drafter_writer
