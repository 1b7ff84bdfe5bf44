/*
 * test-stories260k.cpp: the real stories260K model reproduces golden.json: 200 greedy tokens from
 * BOS, the "Zoo" continuation, and the first-position logits within the file's tolerance (1e-4),
 * on every kernel path this CPU supports.
 */
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "api/engine-internal.h"
#include "core/json.h"
#include "backends/cpu/backend-cpu.h"
#include "kernels/kernels.h"
#include "run-generation.h"
#include "test-util.h"

static std::vector<int32_t> ids_of(const json_value & a) {
    std::vector<int32_t> out;
    for (const auto & v : a.arr) out.push_back(static_cast<int32_t>(v.i));
    return out;
}

int main() {
    const std::string dir = fixtures_dir() + "/models/stories260K";
    std::ifstream f(dir + "/golden.json");
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    const json_value golden = json_parse(text.data(), text.size());
    const json_value & gen0 = golden.get("generation")->arr[0];
    const json_value & gen1 = golden.get("generation")->arr[1];

    engine_model * em = nullptr;
    char err[512];
    engine_model_params mp = engine_model_default_params();
    mp.n_threads = 2;
    CHECK(engine_model_init(dir.c_str(), &mp, &em, err, sizeof(err)) == ENGINE_STATUS_OK);
    if (!em) {
        std::fprintf(stderr, "load failed: %s\n", err);
        return 1;
    }
    const kernel_path paths[] = {KERNEL_PATH_REF, KERNEL_PATH_AVX2, KERNEL_PATH_AVX512};
    for (kernel_path path : paths) {
        if (!kernel_path_supported(path)) continue;
        backend_cpu_set_matmul_path(em->m->bctx, path);
        std::fprintf(stderr, "kernel path %d\n", static_cast<int>(path));
        engine_session * s = nullptr;
        CHECK(engine_session_init(em, 0, &s, nullptr, 0) == ENGINE_STATUS_OK);

        // first-position logits
        const json_value & fl = *gen0.get("first_logits");
        const double tol = fl.get("tolerance")->num;
        std::vector<float> logits(512);
        int32_t bos = 1;
        CHECK(engine_session_forward(s, &bos, 1, nullptr, nullptr, nullptr, 1, logits.data(), nullptr) == ENGINE_STATUS_OK);
        const json_value & first16 = *fl.get("first16");
        for (size_t i = 0; i < first16.arr.size(); ++i) CHECK_CLOSE(logits[i], first16.arr[i].num, tol);
        int am = 0;
        for (int i = 1; i < 512; ++i)
            if (logits[i] > logits[am]) am = i;
        CHECK(am == fl.get("argmax")->i);
        CHECK_CLOSE(logits[am], fl.get("max")->num, tol);
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);

        // 200 greedy tokens from BOS
        const std::vector<int32_t> want = ids_of(*gen0.get("greedy_ids"));
        const generation_run run = run_generation(s, greedy_params({bos}, static_cast<int>(want.size())));
        CHECK(run.status == ENGINE_STATUS_OK && run.done == ENGINE_DONE_MAX_TOKENS);
        const std::vector<int32_t> & got = run.ids;
        CHECK(got.size() == want.size());
        int first_diff = -1;
        for (size_t i = 0; i < want.size() && i < got.size(); ++i)
            if (got[i] != want[i]) {
                first_diff = static_cast<int>(i);
                break;
            }
        if (first_diff >= 0) std::fprintf(stderr, "greedy differs at %d: %d != %d\n", first_diff, got[first_diff], want[first_diff]);
        CHECK(first_diff == -1);

        // the Zoo continuation: prompt (with BOS) then greedy
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
        const std::vector<int32_t> prompt = ids_of(*gen1.get("prompt_ids"));
        const std::vector<int32_t> want_zoo = ids_of(*gen1.get("generated_ids"));
        const generation_run zoo = run_generation(s, greedy_params(prompt, static_cast<int>(want_zoo.size())));
        CHECK(zoo.status == ENGINE_STATUS_OK);
        CHECK(zoo.ids == want_zoo);
        engine_session_free(s);
    }
    engine_model_free(em);
    return test_summary("test-stories260k");
}
