/*
 * test-backend-table.cpp: the backend table (backends/backend.h). The CPU table has every op; a
 * table with ops left null (all of them, one of them, or weights only in device memory) is refused
 * by model_load with ERROR_UNSUPPORTED naming what it lacks, and by the C API with
 * ENGINE_STATUS_UNSUPPORTED; the CUDA module, when built, exports a table of the right version
 * whose missing ops are named. A fake backend that counts the calls it forwards to the CPU table
 * shows that the base forward, the drafter step, beam search and the KV compaction go through the
 * table (every op is called) and that going through it changes no bit of the results.
 */
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "base/status.h"
#include "core/model.h"
#include "core/session.h"
#include "drafter-writer.h"
#include "engine.h"
#include "redrafter/drafter.h"
#include "redrafter/speculate.h"
#include "test-util.h"

namespace {

// ---- a fake backend: the CPU table with every required op wrapped in a call counter -------------
enum op_index {
#define OP_ENUM(op) OP_##op,
    ENGINE_BACKEND_REQUIRED_OPS(OP_ENUM)
#undef OP_ENUM
        OP_COUNT
};
const char * const op_names[] = {
#define OP_NAME(op) #op,
    ENGINE_BACKEND_REQUIRED_OPS(OP_NAME)
#undef OP_NAME
};
long g_calls[OP_COUNT];

template <int I, typename F>
struct counter;
template <int I, typename R, typename... A>
struct counter<I, R (*)(A...)> {
    static inline R (*real)(A...) = nullptr;
    static R call(A... a) {
        ++g_calls[I];
        return real(a...);
    }
};

engine_backend_i counting_table() {
    const engine_backend_i * cpu = engine_backend_cpu();
    engine_backend_i t = *cpu;
    t.name = "counting-cpu (fake)";
#define OP_WRAP(op)                                       \
    {                                                     \
        using C = counter<OP_##op, decltype(t.op)>;       \
        C::real = cpu->op;                                \
        t.op = &C::call;                                  \
    }
    ENGINE_BACKEND_REQUIRED_OPS(OP_WRAP)
#undef OP_WRAP
    return t;
}

// What model_load says about a backend: the error kind and message (kind -1: it loaded).
struct refusal {
    int kind = -1;
    std::string message;
};
refusal try_load(const std::string & dir, const engine_backend_i * be) {
    model_load_params lp;
    lp.n_threads = 1;
    lp.backend = be;
    refusal r;
    try {
        model_load(dir, lp);
    } catch (const engine_error & e) {
        r.kind = e.kind;
        r.message = e.what();
    }
    return r;
}

bool contains(const std::string & s, const std::string & part) { return s.find(part) != std::string::npos; }

void test_cpu_table_complete() {
    const engine_backend_i * cpu = engine_backend_cpu();
    CHECK(cpu->api_version == ENGINE_BACKEND_API_VERSION);
    CHECK(std::strcmp(cpu->name, "cpu") == 0);
    CHECK(cpu->host_memory == 1);
    CHECK(backend_missing_ops(*cpu).empty());
#define OP_PRESENT(op) CHECK(cpu->op != nullptr);
    ENGINE_BACKEND_REQUIRED_OPS(OP_PRESENT)
#undef OP_PRESENT
}

void test_incomplete_tables_refused(const std::string & dir) {
    // a table with nothing but a name and a probe (what CUDA exports today)
    engine_backend_i bare{};
    bare.api_version = ENGINE_BACKEND_API_VERSION;
    bare.name = "bare (fake)";
    bare.probe = engine_backend_cpu()->probe;
    const std::string missing = backend_missing_ops(bare);
    for (const char * op : op_names) CHECK(contains(missing, op));
    refusal r = try_load(dir, &bare);
    CHECK(r.kind == ERROR_UNSUPPORTED);
    CHECK(contains(r.message, "bare (fake)") && contains(r.message, "lacks") && contains(r.message, "attention"));

    // one op missing: named alone
    engine_backend_i partial = *engine_backend_cpu();
    partial.name = "partial (fake)";
    partial.attention = nullptr;
    CHECK(backend_missing_ops(partial) == "attention");
    r = try_load(dir, &partial);
    CHECK(r.kind == ERROR_UNSUPPORTED);
    CHECK(contains(r.message, "lacks attention"));

    // every op, but weights would have to be uploaded to device memory (not written yet)
    engine_backend_i device = *engine_backend_cpu();
    device.name = "device (fake)";
    device.host_memory = 0;
    r = try_load(dir, &device);
    CHECK(r.kind == ERROR_UNSUPPORTED);
    CHECK(contains(r.message, "device memory"));

    // the complete table loads
    r = try_load(dir, engine_backend_cpu());
    CHECK(r.kind == -1);
}

void test_c_api_refusals(const std::string & dir) {
    engine_model_params mp = engine_model_default_params();
    mp.n_threads = 1;
    engine_model * em = nullptr;
    char err[512] = {0};
    mp.backend = "cuda";  // unavailable on a machine without a GPU; lacking ops where there is one
    CHECK(engine_model_init(dir.c_str(), &mp, &em, err, sizeof err) == ENGINE_STATUS_UNSUPPORTED);
    CHECK(em == nullptr);
    CHECK(contains(err, "backend 'cuda'") && (contains(err, "unavailable") || contains(err, "lacks")));
    mp.backend = "tpu";
    CHECK(engine_model_init(dir.c_str(), &mp, &em, err, sizeof err) == ENGINE_STATUS_INVALID_ARGUMENT);
    CHECK(contains(err, "unknown backend 'tpu'"));
    mp.backend = "auto";  // the CPU, until another backend has every op
    CHECK(engine_model_init(dir.c_str(), &mp, &em, err, sizeof err) == ENGINE_STATUS_OK);
    engine_model_free(em);
}

// The CUDA module, when this build made one: its table has this API version, a probe, and the ops
// it does not implement yet are null and named.
void test_cuda_module_table() {
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    std::string path(exe);
    path = path.substr(0, path.rfind('/')) + "/engine-cuda.so";
    if (::access(path.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "no CUDA module at %s: its table is not checked\n", path.c_str());
        return;
    }
    void * h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        std::fprintf(stderr, "CUDA module does not load here (%s): its table is not checked\n", dlerror());
        return;
    }
    auto entry = reinterpret_cast<engine_backend_entry_fn>(dlsym(h, ENGINE_BACKEND_ENTRY));
    CHECK(entry != nullptr);
    if (!entry) return;
    const engine_backend_i * t = entry();
    CHECK(t->api_version == ENGINE_BACKEND_API_VERSION);
    CHECK(std::strcmp(t->name, "cuda") == 0 && t->probe != nullptr);
    const std::string missing = backend_missing_ops(*t);
    std::fprintf(stderr, "cuda table lacks: %s\n", missing.empty() ? "(nothing)" : missing.c_str());
    CHECK(!missing.empty());  // update this test when the CUDA ops land (issue #18)
    CHECK(contains(missing, "matmul") && contains(missing, "attention"));
}

// A prefill, two AR steps and two ReDrafter rounds (M = 2, so beam search's top-k op runs) on a
// model: the last logits, the emitted tokens and the carried hidden state.
struct run_result {
    std::vector<float> logits;
    std::vector<float> hidden;
    std::vector<int32_t> tokens;
};
run_result run_once(model & m, const drafter & d) {
    run_result r;
    session s;
    session_init(s, m, 128);
    const std::vector<int32_t> prompt = {1, 403, 261, 40, 29, 350, 287};
    sampling_params sp;  // greedy
    r.tokens.push_back(session_prefill(s, prompt.data(), (int64_t)prompt.size(), sp));
    for (int i = 0; i < 2; ++i) r.tokens.push_back(session_step_ar(s));
    speculate_params p;
    p.n_beams = 2;
    p.beam_len = 3;
    for (int i = 0; i < 2; ++i) {
        speculate_round round;
        speculate_step(s, &d, p, nullptr, nullptr, 0, 16, r.tokens, round);
    }
    r.logits = s.logits;
    r.hidden = s.pending_hidden;
    r.tokens.insert(r.tokens.end(), s.tokens.begin(), s.tokens.end());
    return r;
}

void test_forward_goes_through_the_table(const std::string & dir, const std::string & drafter_dir) {
    static const engine_backend_i counting = counting_table();
    std::memset(g_calls, 0, sizeof g_calls);
    model_load_params lp;
    lp.n_threads = 2;
    auto cpu_model = model_load(dir, lp);
    auto cpu_drafter = drafter_load(drafter_dir, *cpu_model);
    const run_result want = run_once(*cpu_model, *cpu_drafter);
    for (long c : g_calls) CHECK(c == 0);  // the CPU model never calls the fake

    lp.backend = &counting;
    auto fake_model = model_load(dir, lp);
    CHECK(fake_model->backend == &counting);
    auto fake_drafter = drafter_load(drafter_dir, *fake_model);
    const run_result got = run_once(*fake_model, *fake_drafter);
    fake_drafter.reset();
    fake_model.reset();  // ctx_free

    CHECK(got.tokens == want.tokens);
    CHECK(got.logits.size() == want.logits.size() &&
          std::memcmp(got.logits.data(), want.logits.data(), want.logits.size() * sizeof(float)) == 0);
    CHECK(got.hidden.size() == want.hidden.size() &&
          std::memcmp(got.hidden.data(), want.hidden.data(), want.hidden.size() * sizeof(float)) == 0);
    for (int i = 0; i < OP_COUNT; ++i) {
        if (g_calls[i] == 0) std::fprintf(stderr, "op %s was never called through the table\n", op_names[i]);
        CHECK(g_calls[i] > 0);
    }
}

}  // namespace

int main() {
    const std::string dir = fixtures_dir() + "/models/stories260K";
    char tmpl[] = "/tmp/slipstream-backend-table-XXXXXX";
    const std::string root = mkdtemp(tmpl);
    drafter_writer::write_random_drafter(root + "/d", 512, 64, 128, 2, "F32", 3);

    test_cpu_table_complete();
    test_incomplete_tables_refused(dir);
    test_c_api_refusals(dir);
    test_cuda_module_table();
    test_forward_goes_through_the_table(dir, root + "/d");

    const std::string rm = "rm -rf '" + root + "'";
    if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", root.c_str());
    return test_summary("test-backend-table");
}
