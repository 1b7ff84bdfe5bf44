/*
 * test-drafter-speculate.cpp: ReDrafter rounds end to end on stories260K (fp32) through the C API:
 * greedy ReDrafter output equals greedy plain decoding token for token, for random-weight
 * drafters and several (M, L) including M = 1 and L = 2, with and without extra drafts (the true
 * continuation, a corrupted one, one that does not continue the text); AR and ReDrafter steps
 * alternate on one session; the committed tokens equal prompt + output. Skips without the model.
 */
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "drafter-writer.h"
#include "engine-redrafter.h"
#include "test-util.h"

namespace {

std::vector<int32_t> plain(engine_session * s, const std::vector<int32_t> & prompt, int n) {
    std::vector<int32_t> out(n);
    int n_out = 0;
    engine_sampling sp{0.0f, 0, 1.0f, 0};
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_generate(s, prompt.data(), (int)prompt.size(), &sp, n, nullptr, 0, out.data(), &n_out) == ENGINE_STATUS_OK);
    out.resize(n_out);
    return out;
}

std::vector<int32_t> redrafter(engine_session * s, engine_drafter * d, int M, int L, const std::vector<int32_t> & prompt, int n,
                               const std::vector<std::vector<int32_t>> & extra, engine_redrafter_stats & st) {
    std::vector<int32_t> out(n), flat, lens;
    for (const auto & e : extra) {
        flat.insert(flat.end(), e.begin(), e.end());
        lens.push_back((int32_t)e.size());
    }
    int n_out = 0;
    engine_sampling sp{0.0f, 0, 1.0f, 0};
    engine_redrafter_params p{M, L};
    CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
    engine_status rc = engine_session_generate_redrafter(s, d, &p, prompt.data(), (int)prompt.size(), &sp, n, nullptr, 0, flat.data(),
                                                         lens.data(), (int)lens.size(), out.data(), &n_out, &st);
    if (rc != ENGINE_STATUS_OK) std::fprintf(stderr, "redrafter failed: %s\n", engine_session_last_error(s));
    CHECK(rc == ENGINE_STATUS_OK);
    out.resize(n_out);
    return out;
}

}  // namespace

int main() {
    const std::string model_dir = fixtures_dir() + "/models/stories260K";
    engine_set_log_level(ENGINE_LOG_WARN);
    engine_model_params mp = engine_model_default_params();
    mp.n_threads = 1;
    engine_model * model = nullptr;
    char err[512];
    CHECK(engine_model_init(model_dir.c_str(), &mp, &model, err, sizeof err) == ENGINE_STATUS_OK);
    if (!model) return test_summary("test-drafter-speculate");
    engine_session * s = nullptr;
    CHECK(engine_session_init(model, 0, &s) == ENGINE_STATUS_OK);

    char tmpl[] = "/tmp/test-drafter-speculate-XXXXXX";
    const std::string root = mkdtemp(tmpl);
    engine_drafter * d1 = nullptr, * d2 = nullptr;
    drafter_writer::write_random_drafter(root + "/a", 512, 64, 128, 2, "F32", 1);
    drafter_writer::write_random_drafter(root + "/b", 512, 64, 96, 1, "BF16", 2);
    CHECK(engine_drafter_init((root + "/a").c_str(), model, &d1, err, sizeof err) == ENGINE_STATUS_OK);
    CHECK(engine_drafter_init((root + "/b").c_str(), model, &d2, err, sizeof err) == ENGINE_STATUS_OK);

    const std::vector<std::vector<int32_t>> prompts = {{1}, {1, 403, 407, 261, 378, 292}, {1, 320, 400, 266, 401, 263, 349, 271}};
    const int N = 80;
    for (const auto & prompt : prompts) {
        const std::vector<int32_t> ref = plain(s, prompt, N);
        CHECK((int)ref.size() == N);
        struct cfg { engine_drafter * d; int M, L; };
        for (cfg c : {cfg{d1, 1, 2}, cfg{d1, 1, 5}, cfg{d1, 2, 4}, cfg{d1, 4, 5}, cfg{d2, 3, 3}, cfg{d2, 8, 6}}) {
            engine_redrafter_stats st{};
            auto got = redrafter(s, c.d, c.M, c.L, prompt, N, {}, st);
            if (got != ref) std::fprintf(stderr, "M=%d L=%d: output differs from plain greedy decoding\n", c.M, c.L);
            CHECK(got == ref);
            CHECK(st.rounds >= 1 && st.emitted >= st.rounds);
        }
        // Extra drafts: the true continuation (accepted in long runs), a corrupted copy, and one that
        // does not continue the text. Prompt-relative, re-aligned every round.
        std::vector<int32_t> corrupted(ref);
        for (size_t i = 5; i < corrupted.size(); i += 7) corrupted[i] = (corrupted[i] + 1) % 512;
        std::vector<int32_t> unrelated{7, 8, 9, 10};
        for (int L : {2, 4}) {
            engine_redrafter_stats st{};
            auto got = redrafter(s, d1, 2, L, prompt, N, {ref, corrupted, unrelated}, st);
            CHECK(got == ref);
            CHECK(st.extra_accepted > 0);
            // with the true continuation available, every round accepts its full depth (but the last)
            CHECK(st.rounds <= (N + L - 2) / (L - 1) + 1);
            // the session holds prompt + output but the last (pending) token
            const int32_t * toks = engine_session_tokens(s);
            std::vector<int32_t> committed(toks, toks + engine_session_length(s));
            std::vector<int32_t> expect(prompt);
            expect.insert(expect.end(), ref.begin(), ref.end() - 1);
            CHECK(committed == expect);
        }
        {  // a long extra draft beyond L is verified in one pass
            engine_redrafter_stats st{};
            auto got = redrafter(s, d1, 1, 2, prompt, N, {ref}, st);
            CHECK(got == ref);
            CHECK(st.rounds <= 3);
        }
    }
    // AR and ReDrafter steps alternate on one session.
    {
        const std::vector<int32_t> prompt = prompts[1];
        const std::vector<int32_t> ref = plain(s, prompt, 40);
        engine_sampling sp{0.0f, 0, 1.0f, 0};
        int32_t g0 = -1;
        CHECK(engine_session_truncate(s, 0) == ENGINE_STATUS_OK);
        CHECK(engine_session_prefill(s, prompt.data(), (int)prompt.size(), &sp, &g0) == ENGINE_STATUS_OK);
        std::vector<int32_t> got{g0};
        engine_redrafter_params p{3, 4};
        for (int step = 0; (int)got.size() < 40; ++step) {
            int32_t buf[16];
            int n = 0;
            if (step % 2 == 0) {
                CHECK(engine_session_step(s, buf, 16, &n) == ENGINE_STATUS_OK);
            } else {
                CHECK(engine_session_step_redrafter(s, d1, &p, nullptr, nullptr, 0, buf, 40 - (int)got.size(), &n, nullptr) == ENGINE_STATUS_OK);
            }
            CHECK(n >= 1);
            got.insert(got.end(), buf, buf + n);
        }
        CHECK(got == ref);
    }
    // Bad arguments are refused with a message; the session keeps serving.
    {
        int32_t buf[4];
        int n = 0;
        engine_redrafter_params bad{0, 1};
        bad.n_beams = 2;
        CHECK(engine_session_step_redrafter(s, d1, &bad, nullptr, nullptr, 0, buf, 4, &n, nullptr) == ENGINE_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(engine_session_last_error(s)).find("beam length") != std::string::npos);
        engine_redrafter_params ok{2, 3};
        CHECK(engine_session_step_redrafter(s, d1, &ok, nullptr, nullptr, 0, buf, 4, &n, nullptr) == ENGINE_STATUS_OK);
    }
    engine_drafter_free(d1);
    engine_drafter_free(d2);
    engine_session_free(s);
    engine_model_free(model);
    std::string rm = "rm -rf '" + root + "'";
    CHECK(std::system(rm.c_str()) == 0);
    return test_summary("test-drafter-speculate");
}
