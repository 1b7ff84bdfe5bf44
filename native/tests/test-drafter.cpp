/*
 * test-drafter.cpp: loading drafter folders in Apple's train.py layout (docs/redrafter.md §1.7).
 * The test writes folders into a temp dir with a minimal safetensors writer (F32/BF16/F16) and
 * checks: good folders load with the right shapes and values in each dtype; bad folders (wrong
 * hidden size, wrong vocab, missing tensors, wrong shapes, input_proj or rnn tensors where the
 * config says there are none, a base-model folder) fail with BAD_MODEL naming file and tensor.
 */
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/model.h"
#include "drafter-writer.h"
#include "kernels/kernels.h"
#include "redrafter/drafter.h"
#include "test-util.h"

namespace {
using namespace drafter_writer;

struct folder_spec {
    int V = 40, H = 8, E = 16, N = 2;
    bool rnn = true;
    std::string dtype = "F32";
    std::string model_type = "recurrent_drafting_drafter";
    std::vector<std::string> drop;       // tensors to leave out
    std::vector<tensor_spec> extra;      // tensors to add
    std::string shape_override;          // tensor name whose first dim gets +1
};


std::string make_folder(const std::string & root, const std::string & name, const folder_spec & s) {
    const std::string dir = root + "/" + name;
    std::string cmd = "mkdir -p '" + dir + "'";
    CHECK(std::system(cmd.c_str()) == 0);
    std::ofstream(dir + "/config.json") << "{\"model_type\":\"" << s.model_type << "\",\"vocab_size\":" << s.V
                                        << ",\"hidden_size\":" << s.H << ",\"exit_dim\":" << s.E
                                        << ",\"num_draft_layers\":" << s.N << ",\"rnn\":" << (s.rnn ? "true" : "false")
                                        << ",\"num_lookback_tokens\":-1,\"architectures\":[\"Drafter\"]}";
    std::vector<tensor_spec> ts;
    unsigned seed = 1;
    auto add = [&](const std::string & n, std::vector<int64_t> shape) {
        for (const auto & d : s.drop)
            if (d == n) return;
        if (n == s.shape_override) shape[0] += 1;
        size_t count = 1;
        for (auto x : shape) count *= x;
        ts.push_back({n, s.dtype, shape, random_values(count, seed++)});
    };
    if (s.rnn) {
        add("rnn_w.weight", {s.H, s.H});
        add("rnn_u.weight", {s.H, s.H});
        add("rnn_u.bias", {s.H});
    }
    if (s.E != 2 * s.H) {
        add("input_proj.weight", {s.E, 2 * s.H});
        add("input_proj.bias", {s.E});
    }
    for (int i = 0; i < s.N; ++i) {
        add("lm_head." + std::to_string(i) + ".linear.weight", {s.E, s.E});
        add("lm_head." + std::to_string(i) + ".linear.bias", {s.E});
    }
    add("lm_head." + std::to_string(s.N) + ".weight", {s.V, s.E});
    for (const auto & e : s.extra) ts.push_back(e);
    write_safetensors(dir + "/model.safetensors", ts);
    return dir;
}

struct fake_base {  // only the config the loader checks against; named as the fake it is
    model m;
    fake_base(int V, int H) {
        m.dir = "fake-base";
        m.config.n_vocab = V;
        m.config.n_embd = H;
    }
};

// Expects BAD_MODEL with every fragment in the message.
void expect_bad(const std::string & dir, const model & base, const std::vector<std::string> & fragments) {
    bool threw = false;
    try {
        drafter_load(dir, base);
    } catch (const engine_error & e) {
        threw = true;
        CHECK(e.kind == ERROR_BAD_MODEL);
        for (const auto & f : fragments) {
            bool found = std::string(e.what()).find(f) != std::string::npos;
            if (!found) std::fprintf(stderr, "message '%s' lacks '%s'\n", e.what(), f.c_str());
            CHECK(found);
        }
    }
    if (!threw) std::fprintf(stderr, "%s loaded but should not\n", dir.c_str());
    CHECK(threw);
}

}  // namespace

int main() {
    char tmpl[] = "/tmp/test-drafter-XXXXXX";
    const std::string root = mkdtemp(tmpl);
    fake_base base(40, 8);

    // Good folders in each dtype, with input_proj (E != 2H) and without (E == 2H).
    for (const char * dt : {"F32", "BF16", "F16"}) {
        folder_spec s;
        s.dtype = dt;
        std::string dir = make_folder(root, std::string("good-") + dt, s);
        auto d = drafter_load(dir, base.m);
        CHECK(d->config.n_vocab == 40 && d->config.n_embd == 8 && d->config.exit_dim == 16 && d->config.n_layers == 2 && d->config.rnn);
        CHECK(d->input_proj.rows == 0);  // E == 2H: no input_proj
    }
    {
        folder_spec s;
        s.E = 24;  // != 2H: input_proj present
        s.dtype = "BF16";
        auto d = drafter_load(make_folder(root, "proj-bf16", s), base.m);
        CHECK(d->input_proj.rows == 24 && d->input_proj.cols == 16 && d->input_proj.dtype == WEIGHT_BF16);
        CHECK(d->lm_head.rows == 40 && d->lm_head.cols == 24);
        CHECK(d->res_w.size() == 2 && d->res_b[1].size() == 24);
        CHECK(d->stored_dtype == "bf16");
        // values round-trip: bf16 weights in place, biases widened to f32
        auto expect = random_values(24, 5);  // input_proj.bias is the 5th tensor written (seed 5)
        for (int i = 0; i < 24; ++i) CHECK(d->input_proj_bias[i] == bf16_to_f32(f32_to_bf16(expect[i])));
    }
    {
        folder_spec s;
        s.E = 24;
        s.dtype = "F16";
        auto d = drafter_load(make_folder(root, "proj-f16", s), base.m);
        CHECK(d->lm_head.dtype == WEIGHT_F32);  // F16 converted
        auto expect = random_values(8 * 8, 1);  // rnn_w
        for (int i = 0; i < 64; ++i) CHECK_CLOSE(weight_at(d->rnn_w, i / 8, i % 8), expect[i], 1e-3);
    }
    {
        folder_spec s;
        s.rnn = false;
        auto d = drafter_load(make_folder(root, "sum", s), base.m);
        CHECK(!d->config.rnn && d->rnn_w.rows == 0);
    }

    // Bad folders.
    {
        folder_spec s;
        s.H = 12;
        s.E = 24;
        expect_bad(make_folder(root, "wrong-hidden", s), base.m, {"config.json", "hidden_size is 12", "hidden size is 8"});
    }
    {
        folder_spec s;
        s.V = 41;
        expect_bad(make_folder(root, "wrong-vocab", s), base.m, {"config.json", "vocab_size is 41", "40"});
    }
    {
        folder_spec s;
        s.drop = {"lm_head.2.weight"};
        expect_bad(make_folder(root, "missing-head", s), base.m, {"model.safetensors", "missing tensor 'lm_head.2.weight'"});
    }
    {
        folder_spec s;
        s.drop = {"rnn_u.bias"};
        expect_bad(make_folder(root, "missing-bias", s), base.m, {"missing tensor 'rnn_u.bias'"});
    }
    {
        folder_spec s;
        s.E = 24;
        s.drop = {"input_proj.weight"};
        expect_bad(make_folder(root, "missing-proj", s), base.m, {"missing tensor 'input_proj.weight'"});
    }
    {
        folder_spec s;
        s.shape_override = "lm_head.0.linear.weight";
        expect_bad(make_folder(root, "wrong-shape", s), base.m, {"model.safetensors", "'lm_head.0.linear.weight' has shape [17, 16]", "expected [16, 16]"});
    }
    {
        folder_spec s;
        s.extra = {{"input_proj.weight", "F32", {16, 16}, random_values(256, 9)}};
        expect_bad(make_folder(root, "unexpected-proj", s), base.m, {"input_proj"});
    }
    {
        folder_spec s;
        s.extra = {{"lm_head.3.weight", "F32", {40, 16}, random_values(640, 9)}};
        expect_bad(make_folder(root, "extra-layer", s), base.m, {"num_draft_layers"});
    }
    {
        folder_spec s;
        s.model_type = "llama";
        expect_bad(make_folder(root, "base-model", s), base.m, {"config.json", "not a ReDrafter drafter folder"});
    }
    {
        bool threw = false;
        try {
            drafter_load(root + "/does-not-exist", base.m);
        } catch (const engine_error & e) {
            threw = e.kind == ERROR_IO && std::string(e.what()).find("config.json") != std::string::npos;
        }
        CHECK(threw);
    }
    std::string rm = "rm -rf '" + root + "'";
    CHECK(std::system(rm.c_str()) == 0);
    return test_summary("test-drafter");
}
