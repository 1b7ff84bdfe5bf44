/*
 * test-faults.cpp: what the engine does when things fail underneath it, through the fault hook
 * (base/fault-inject.h) and the file system; each case is a row of docs/reliability.md's fault
 * table. An allocation fails (KV cache, weight arena, a weight matrix): the call returns
 * OUT_OF_MEMORY, nothing leaks, and the model, or the process, loads and runs afterwards. A
 * forward fails half-way (an internal error in the middle of an AR step or of a ReDrafter round's
 * verification): the step returns INTERNAL, the session keeps its committed tokens and pending
 * token, and the retried step gives exactly the tokens of a run without the fault. The model file
 * is truncated, rewritten or deleted after load (weights re-laid out, or used in place from the
 * buffer they were read into): the model keeps answering with the same logits, and no SIGBUS. The
 * file is truncated while the model loads: the load fails with IO naming the file and the tensor.
 */
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/fault-inject.h"
#include "base/status.h"
#include "core/model.h"
#include "core/session.h"
#include "core/weight-loader.h"
#include "drafter-writer.h"
#include "engine-redrafter.h"
#include "kernels/kernels.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {

bool contains(const std::string & s, const std::string & part) { return s.find(part) != std::string::npos; }

engine_status load(const std::string & dir, engine_model ** m, std::string * message = nullptr) {
    char err[512] = {0};
    engine_model_params mp = engine_model_default_params();
    mp.n_threads = 1;
    const engine_status st = engine_model_init(dir.c_str(), &mp, m, err, sizeof(err));
    if (message) *message = err;
    return st;
}

// Logits of the last of tokens on a fresh session.
std::vector<float> logits_of(engine_model * m, const std::vector<int32_t> & tokens) {
    engine_session * s = nullptr;
    CHECK(engine_session_init(m, 64, &s, nullptr, 0) == ENGINE_STATUS_OK);
    engine_model_info info;
    engine_model_get_info(m, &info);
    std::vector<float> out(static_cast<size_t>(info.n_vocab));
    if (s) CHECK(engine_session_forward(s, tokens.data(), (int)tokens.size(), nullptr, nullptr, nullptr, 1, out.data(), nullptr) == ENGINE_STATUS_OK);
    engine_session_free(s);
    return out;
}

void check_allocation_faults(const std::string & dir) {
    engine_model * m = nullptr;
    std::string msg;
    // a weight matrix (bad_alloc, as a failed new would throw)
    fault_arm("alloc:weights");
    CHECK(load(dir, &m, &msg) == ENGINE_STATUS_OUT_OF_MEMORY && m == nullptr && contains(msg, "out of memory"));
    // a weight arena chunk (mmap fails): every matrix lives in the arena
    fault_arm("alloc:arena");
    CHECK(load(dir, &m, &msg) == ENGINE_STATUS_OUT_OF_MEMORY && m == nullptr && contains(msg, "bytes for weights"));
    // disarmed, the same folder loads
    fault_arm(nullptr);
    CHECK(load(dir, &m) == ENGINE_STATUS_OK && m != nullptr);
    const std::vector<float> ref = logits_of(m, {1, 5, 9});

    // a session's KV cache: the session is refused, the model serves the next one
    fault_arm("alloc:kv");
    engine_session * s = nullptr;
    char session_msg[256] = {0};
    CHECK(engine_session_init(m, 64, &s, session_msg, sizeof session_msg) == ENGINE_STATUS_OUT_OF_MEMORY && s == nullptr);
    CHECK(contains(session_msg, "cannot reserve ") && contains(session_msg, " bytes for the KV cache"));
    fault_arm(nullptr);
    CHECK(logits_of(m, {1, 5, 9}) == ref);
    engine_model_free(m);
}

// AR: the third forward fails (prefill = 1, step = 2, step = 3); the session stays where it was and
// the retried step continues the greedy sequence of a run without the fault.
void check_step_fault(const std::string & dir) {
    engine_model * m = nullptr;
    CHECK(load(dir, &m) == ENGINE_STATUS_OK);
    if (!m) return;
    engine_session * s = nullptr;
    CHECK(engine_session_init(m, 64, &s, nullptr, 0) == ENGINE_STATUS_OK);
    const std::vector<int32_t> prompt = {1, 7, 3};
    const engine_sampling greedy{0.0f, 0, 1.0f, 0};
    auto run = [&](bool fault) {
        std::vector<int32_t> out;
        int32_t t = -1;
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
        if (fault) fault_arm("step@3");
        CHECK(engine_session_prefill(s, prompt.data(), (int)prompt.size(), &greedy, &t) == ENGINE_STATUS_OK);
        out.push_back(t);
        while (out.size() < 8) {
            const int before = engine_session_length(s);
            int n = 0;
            const engine_status st = engine_session_step(s, &t, 1, &n);
            if (st != ENGINE_STATUS_OK) {
                CHECK(fault && st == ENGINE_STATUS_INTERNAL && contains(engine_session_last_error(s), "injected fault"));
                CHECK(engine_session_length(s) == before && n == 0);
                fault = false;
                continue;  // the same step again
            }
            out.push_back(t);
        }
        fault_arm(nullptr);
        return out;
    };
    const std::vector<int32_t> clean = run(false), faulted = run(true);
    CHECK(clean == faulted);
    // a forward through the C API: the failed call commits nothing
    fault_arm("step");
    std::vector<float> logits(40);
    const int before = engine_session_length(s);
    CHECK(engine_session_forward(s, prompt.data(), 3, nullptr, nullptr, nullptr, 1, logits.data(), nullptr) == ENGINE_STATUS_INTERNAL);
    CHECK(engine_session_length(s) == before);
    fault_arm(nullptr);
    engine_session_free(s);
    engine_model_free(m);
}

// ReDrafter: the verification forward of the second round fails; the round leaves the session
// unchanged and the retried round gives the tokens of a run without the fault.
void check_redrafter_fault() {
    const std::string model_dir = fixtures_dir() + "/models/stories260K";
    engine_model * m = nullptr;
    if (load(model_dir, &m) != ENGINE_STATUS_OK) {
        CHECK(false);
        return;
    }
    char tmpl[] = "/tmp/test-faults-XXXXXX";
    const std::string root = mkdtemp(tmpl);
    drafter_writer::write_random_drafter(root + "/d", 512, 64, 128, 2, "F32", 1);
    engine_drafter * d = nullptr;
    char err[512];
    CHECK(engine_drafter_init((root + "/d").c_str(), m, &d, err, sizeof err) == ENGINE_STATUS_OK);
    engine_session * s = nullptr;
    CHECK(engine_session_init(m, 0, &s, nullptr, 0) == ENGINE_STATUS_OK);
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 292};
    const engine_sampling greedy{0.0f, 0, 1.0f, 0};
    engine_redrafter_params p{2, 4};
    auto run = [&](bool fault) {
        std::vector<int32_t> out;
        int32_t t = -1;
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
        CHECK(engine_session_prefill(s, prompt.data(), (int)prompt.size(), &greedy, &t) == ENGINE_STATUS_OK);
        out.push_back(t);
        if (fault) fault_arm("step@2");  // hit 1: round 1's verification, hit 2: round 2's
        while (out.size() < 30) {
            int32_t buf[16];
            int n = 0;
            const int before = engine_session_length(s);
            const engine_status st = engine_session_step_redrafter(s, d, &p, nullptr, nullptr, 0, buf, 16, &n, nullptr);
            if (st != ENGINE_STATUS_OK) {
                CHECK(fault && st == ENGINE_STATUS_INTERNAL && engine_session_length(s) == before);
                fault = false;
                continue;
            }
            out.insert(out.end(), buf, buf + n);
        }
        fault_arm(nullptr);
        out.resize(30);
        return out;
    };
    const std::vector<int32_t> clean = run(false), faulted = run(true);
    CHECK(clean == faulted);
    engine_session_free(s);
    engine_drafter_free(d);
    engine_model_free(m);
    remove_dir(root);
}

// The weights file changes under a loaded model. tile: re-lay out (AVX-512) or keep in place.
void check_file_changes(const tiny_spec & spec, bool tile) {
    const std::string dir = write_tiny_model(spec, 3), file = dir + "/model.safetensors";
    model_load_params lp;
    lp.n_threads = 1;
    lp.tile = tile;
    std::unique_ptr<model> m = model_load(dir, lp);
    auto logits = [&] {
        session s;
        session_init(s, *m, 64);
        const int32_t tokens[3] = {1, 5, 9}, row = 2;
        std::vector<float> out(static_cast<size_t>(spec.vocab));
        session_forward(s, tokens, 3, nullptr, nullptr, &row, 1, out.data(), nullptr);
        return out;
    };
    const std::vector<float> ref = logits();
    CHECK(::truncate(file.c_str(), 0) == 0);  // a file mapping of these pages would raise SIGBUS
    CHECK(logits() == ref);
    write_file(file, std::string(4096, 'x'));  // rewritten in place
    CHECK(logits() == ref);
    remove_dir(dir);  // and gone
    CHECK(logits() == ref);
}

// The file is truncated while the model loads, after it was opened and before a tensor is read
// (N8), for each way a tensor is read: re-laid out (TILED32 for bf16 where the CPU prefers it),
// in place, quantized, a vector. The read comes up short, and the call throws IO naming the file
// and the tensor; the loader's threads and memory are released (ASan: no leak).
void check_truncated_during_load() {
    struct way {
        const char * what;
        bool bf16, tile, vec;
        weight_dtype quant;
    };
    const way ways[] = {
        {"f32 tiled", false, true, false, WEIGHT_BF16},  {"bf16 tiled", true, true, false, WEIGHT_BF16},
        {"bf16 in place", true, false, false, WEIGHT_BF16}, {"f32 in place", false, false, false, WEIGHT_BF16},
        {"q8_0", true, true, false, WEIGHT_Q8_0},        {"q4_0", false, true, false, WEIGHT_Q4_0},
        {"vector", false, true, true, WEIGHT_BF16},
    };
    for (const way & w : ways) {
        tiny_spec spec;
        spec.hidden = 32;  // rows of 32 and 64: whole Q8_0 / Q4_0 blocks
        spec.ff = 64;
        spec.bf16 = w.bf16;
        const std::string dir = write_tiny_model(spec, 5), file = dir + "/model.safetensors";
        const std::string name = w.vec ? "model.layers.1.post_attention_layernorm.weight" : "model.layers.1.mlp.down_proj.weight";
        std::string message;
        {
            weight_store store;
            weight_load_params p;
            p.tile = w.tile;
            weight_loader ld(store, dir, p);
            const st_tensor * t = ld.find({name});
            CHECK(t != nullptr);
            // the file now ends one byte into the tensor
            CHECK(::truncate(file.c_str(), static_cast<off_t>(t->offset) + 1) == 0);
            try {
                if (w.vec) ld.vec({name}, spec.hidden);
                else ld.matrix({name}, spec.hidden, spec.ff, w.quant);
            } catch (const engine_error & e) {
                message = e.what();
                CHECK(e.kind == ERROR_IO);
            }
        }
        const bool named = contains(message, file) && contains(message, "'" + name + "'") && contains(message, "truncated since");
        if (!named) std::fprintf(stderr, "truncated during load, %s: %s\n", w.what, message.empty() ? "(no error)" : message.c_str());
        CHECK(named);
        remove_dir(dir);
    }
}

}  // namespace

int main() {
    engine_set_log_level(ENGINE_LOG_ERROR);
    tiny_spec spec;
    const std::string dir = write_tiny_model(spec, 2);
    check_allocation_faults(dir);
    check_step_fault(dir);
    remove_dir(dir);
    check_redrafter_fault();
    check_file_changes(spec, true);
    check_file_changes(spec, false);
    check_truncated_during_load();
    return test_summary("test-faults");
}
