/*
 * test-generate-hidden.cpp: engine_session_generate_hidden (include/engine-distill.h) on the real
 * stories260K model: its tokens equal the plain greedy generation's; every recorded hidden row is
 * bit for bit what the engine's own forward gives at that position when the same calls are replayed
 * by hand (prefill of the prompt, then one token at a time), and within 1e-4 of one batched
 * forward of the whole sequence; stop tokens are emitted and end the run; bad input is refused.
 */
#include <cmath>
#include <cstring>
#include <vector>

#include "engine-distill.h"
#include "test-util.h"
#include "run-generation.h"

int main() {
    const std::string dir = fixtures_dir() + "/models/stories260K";
    engine_model * em = nullptr;
    char err[512];
    engine_model_params mp = engine_model_default_params();
    mp.n_threads = 2;
    CHECK(engine_model_init(dir.c_str(), &mp, &em, err, sizeof(err)) == ENGINE_STATUS_OK);
    if (!em) {
        std::fprintf(stderr, "load failed: %s\n", err);
        return 1;
    }
    engine_model_info mi;
    engine_model_get_info(em, &mi);
    const int H = mi.n_embd, V = mi.n_vocab;
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 284, 367};  // BOS + a few ids
    const int P = static_cast<int>(prompt.size()), N = 48;

    engine_session * s = nullptr;
    CHECK(engine_session_init(em, 0, &s, nullptr, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_hidden_size(s) == H);
    std::vector<int32_t> toks(N);
    std::vector<float> hid(static_cast<size_t>(N) * H);  // (N, H)
    int n = 0;
    CHECK(engine_session_generate_hidden(s, prompt.data(), P, N, nullptr, 0, toks.data(), hid.data(), &n) == ENGINE_STATUS_OK);
    CHECK(n == N);

    // the same tokens as the decode loop's plain greedy generation
    engine_session * s2 = nullptr;
    CHECK(engine_session_init(em, 0, &s2, nullptr, 0) == ENGINE_STATUS_OK);
    generation_run ar = run_generation(s2, greedy_params(prompt, N));
    CHECK(ar.status == ENGINE_STATUS_OK);
    CHECK(ar.ids == std::vector<int32_t>(toks.begin(), toks.begin() + n));

    // replayed by hand: bit for bit
    engine_session * s3 = nullptr;
    CHECK(engine_session_init(em, 0, &s3, nullptr, 0) == ENGINE_STATUS_OK);
    std::vector<float> lg(V), h(H);
    const int32_t last = P - 1;
    CHECK(engine_session_forward(s3, prompt.data(), P, nullptr, nullptr, &last, 1, lg.data(), h.data()) == ENGINE_STATUS_OK);
    CHECK(std::memcmp(h.data(), hid.data(), sizeof(float) * H) == 0);
    int exact_rows = std::memcmp(h.data(), hid.data(), sizeof(float) * H) == 0 ? 1 : 0;
    for (int j = 1; j < n; ++j) {
        CHECK(engine_session_forward(s3, &toks[j - 1], 1, nullptr, nullptr, nullptr, 1, lg.data(), h.data()) == ENGINE_STATUS_OK);
        const bool same = std::memcmp(h.data(), hid.data() + static_cast<size_t>(j) * H, sizeof(float) * H) == 0;
        CHECK(same);
        exact_rows += same ? 1 : 0;
    }
    std::fprintf(stderr, "%d of %d hidden rows bit-identical to the replayed forward\n", exact_rows, n);

    // one batched forward of prompt + tokens[0..n-1): the rows P-1 .. P+n-2 agree closely
    std::vector<int32_t> seq(prompt);
    seq.insert(seq.end(), toks.begin(), toks.begin() + (n - 1));
    std::vector<int32_t> rows(n);
    for (int j = 0; j < n; ++j) rows[j] = P - 1 + j;
    std::vector<float> hb(static_cast<size_t>(n) * H);
    engine_session * s4 = nullptr;
    CHECK(engine_session_init(em, 0, &s4, nullptr, 0) == ENGINE_STATUS_OK);
    CHECK(engine_session_forward(s4, seq.data(), static_cast<int>(seq.size()), nullptr, nullptr, rows.data(), n, nullptr,
                                 hb.data()) == ENGINE_STATUS_OK);
    double maxd = 0;
    // a NaN difference makes maxd NaN, which fails the check (fmax would skip it); written as a
    // branch, which also keeps GCC 12's aarch64 vectorizer off a max reduction it crashes on
    for (size_t i = 0; i < hb.size(); ++i) {
        const double d = std::fabs(static_cast<double>(hb[i]) - static_cast<double>(hid[i]));
        if (!(d <= maxd)) maxd = d;
    }
    std::fprintf(stderr, "batched forward vs recorded rows: max |diff| %.3g\n", maxd);
    CHECK(maxd <= 1e-4);

    // again on the same session: the prompt's prefix is reused, the run is the same
    std::vector<int32_t> toks2(N);
    std::vector<float> hid2(static_cast<size_t>(N) * H);
    int n2 = 0;
    CHECK(engine_session_generate_hidden(s, prompt.data(), P, N, nullptr, 0, toks2.data(), hid2.data(), &n2) == ENGINE_STATUS_OK);
    CHECK(n2 == n && toks2 == toks);
    CHECK(engine_session_length(s) == P + n - 1);

    // a stop token is emitted and ends the run
    const int32_t stop = toks[5];
    int first = 0;
    while (toks[first] != stop) ++first;
    CHECK(engine_session_generate_hidden(s, prompt.data(), P, N, &stop, 1, toks2.data(), nullptr, &n2) == ENGINE_STATUS_OK);
    CHECK(n2 == first + 1 && toks2[first] == stop);

    // bad input
    const int32_t bad[] = {1, V};
    CHECK(engine_session_generate_hidden(s, bad, 2, 4, nullptr, 0, toks2.data(), nullptr, &n2) == ENGINE_STATUS_INVALID_ARGUMENT);
    CHECK(std::strstr(engine_session_last_error(s), "outside the vocabulary") != nullptr);
    CHECK(engine_session_generate_hidden(s, prompt.data(), P, 0, nullptr, 0, toks2.data(), nullptr, &n2) == ENGINE_STATUS_INVALID_ARGUMENT);
    CHECK(engine_session_generate_hidden(s, prompt.data(), P, 1 << 30, nullptr, 0, toks2.data(), nullptr, &n2) ==
          ENGINE_STATUS_INVALID_ARGUMENT);

    engine_session_free(s);
    engine_session_free(s2);
    engine_session_free(s3);
    engine_session_free(s4);
    engine_model_free(em);
    return test_summary("test-generate-hidden");
}
