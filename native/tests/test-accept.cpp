/*
 * test-accept.cpp: acceptance on hand-made trees and distributions (docs/redrafter.md §2.6-2.7).
 * Greedy: equals the spec's per-beam formula (§2.6) on random trees. Sampling: the emitted tokens
 * follow the target distribution exactly: chi-square goodness of fit at significance 0.001 on the
 * first token and on the second token given an accepted first one, for drafts that are good
 * (contain the likely tokens) and bad (contain only unlikely ones). Seeded, so deterministic.
 */
#include <cmath>
#include <random>
#include <vector>

#include "redrafter/accept.h"
#include "redrafter/tree-attention.h"
#include "test-util.h"

// Upper 0.001 critical value of chi-square with df degrees of freedom (Wilson-Hilferty).
static double chi2_critical_001(int df) {
    const double z = 3.090232;  // standard normal quantile at 0.999
    const double a = 2.0 / (9.0 * df);
    return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

static double chi2_stat(const std::vector<long> & observed, const std::vector<double> & p, long n) {
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        double e = p[i] * n;
        if (e <= 0) { if (observed[i] > 0) return 1e30; continue; }
        s += (observed[i] - e) * (observed[i] - e) / e;
    }
    return s;
}

static void softmax(const float * x, float * y, int n) {
    float mx = x[0];
    for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
    double z = 0;
    for (int i = 0; i < n; ++i) z += std::exp((double)x[i] - mx);
    for (int i = 0; i < n; ++i) y[i] = (float)(std::exp((double)x[i] - mx) / z);
}

// §2.6 written per beam, independent of the tree walk.
static void greedy_by_beams(const std::vector<int32_t> & beams, int M, int L, const draft_tree & t, const float * logits, int V,
                            int & n_out, int32_t & next_out) {
    int best_m = 0, best_a = -1;
    for (int m = 0; m < M; ++m) {
        int a = 0;
        for (int j = 1; j < L; ++j) {
            if (beams[(size_t)m * L + j] != accept_argmax(logits + (size_t)t.unpacker[(size_t)m * L + j - 1] * V, V)) break;
            ++a;
        }
        if (a > best_a) { best_a = a; best_m = m; }
    }
    n_out = best_a;
    next_out = accept_argmax(logits + (size_t)t.unpacker[(size_t)best_m * L + best_a] * V, V);
}

static void test_greedy_matches_beam_formula() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> U(-3, 3);
    for (int trial = 0; trial < 300; ++trial) {
        const int M = 1 + rng() % 5, L = 2 + rng() % 4, V = 3 + rng() % 3;
        std::vector<int32_t> beams((size_t)M * L);
        for (int m = 0; m < M; ++m)
            for (int j = 0; j < L; ++j) beams[(size_t)m * L + j] = j == 0 ? 0 : (int32_t)(rng() % V);
        draft_tree t;
        tree_build(beams.data(), M, L, nullptr, t);
        std::vector<float> logits((size_t)t.size() * V);
        for (auto & x : logits) x = U(rng);
        // Make acceptance likely along beam 0 half the time.
        if (trial % 2 == 0)
            for (int j = 0; j + 1 < L; ++j) logits[(size_t)t.unpacker[j] * V + beams[j + 1]] = 10;
        accept_result r;
        accept_greedy(t, logits.data(), V, r);
        int n;
        int32_t next;
        greedy_by_beams(beams, M, L, t, logits.data(), V, n, next);
        CHECK(r.n_accepted() == n);
        CHECK(r.next_token == next);
        bool path_ok = r.path[0] == 0;
        for (size_t k = 1; k < r.path.size(); ++k) path_ok = path_ok && t.parent[r.path[k]] == r.path[k - 1];
        CHECK(path_ok);
    }
}

// Target logits per packed node of the tree root -> {children}, child -> {grandchildren}.
static void run_sampling_case(const char * name, const std::vector<int32_t> & beams, int M, int L, unsigned seed, bool expect_second) {
    const int V = 6;
    draft_tree t;
    tree_build(beams.data(), M, L, nullptr, t);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> U(-2, 2);
    std::vector<float> logits((size_t)t.size() * V);
    for (auto & x : logits) x = U(rng);
    logits[2] = -30;  // a token the target almost never picks
    const float temperature = 0.7f;
    accept_probs_fn probs = [&](const float * row, float * p) {
        std::vector<float> scaled(V);
        for (int v = 0; v < V; ++v) scaled[v] = row[v] / temperature;
        softmax(scaled.data(), p, V);
    };
    std::mt19937_64 urng(seed * 31 + 1);
    accept_uniform_fn uniform = [&]() { return std::generate_canonical<double, 53>(urng); };

    std::vector<float> p0(V);
    probs(logits.data(), p0.data());
    // The second token given an accepted first one: conditional on child a, distribution p_a.
    const int child_a = t.child_list[t.child_begin[0]];
    std::vector<float> pa(V);
    probs(logits.data() + (size_t)child_a * V, pa.data());

    const long N = 200000;
    std::vector<long> first(V, 0), second(V, 0);
    long n_second = 0;
    for (long s = 0; s < N; ++s) {
        accept_result r;
        accept_sample(t, logits.data(), V, probs, uniform, r);
        std::vector<int32_t> emitted;
        for (size_t k = 1; k < r.path.size(); ++k) emitted.push_back(t.tokens[r.path[k]]);
        emitted.push_back(r.next_token);
        first[emitted[0]]++;
        if (r.path.size() >= 2 && r.path[1] == child_a) {
            second[emitted[1]]++;
            ++n_second;
        }
    }
    std::vector<double> e0(p0.begin(), p0.end()), ea(pa.begin(), pa.end());
    double s0 = chi2_stat(first, e0, N), sa = chi2_stat(second, ea, n_second);
    std::fprintf(stderr, "%s: chi2 first %.2f (crit %.2f), second %.2f over %ld (crit %.2f)\n", name, s0, chi2_critical_001(V - 1), sa,
                 n_second, chi2_critical_001(V - 1));
    CHECK(s0 < chi2_critical_001(V - 1));
    if (expect_second) {  // with the bad drafts the first drafted token is (almost) never accepted
        CHECK(n_second > 1000);
        CHECK(sa < chi2_critical_001(V - 1));
    } else {
        CHECK(n_second < N / 1000);
    }
}

static void test_sampling_is_exact() {
    // good: the tree holds several tokens at each level
    run_sampling_case("good drafts", {0, 1, 3, 0, 4, 5, 0, 1, 4, 0, 3, 3}, 4, 3, 11, true);
    // bad: the first drafted token is one the target almost never produces (token 2 at the root)
    run_sampling_case("bad drafts", {0, 2, 5, 0, 2, 1}, 2, 3, 12, false);
}

static void test_sampling_at_low_temperature_is_greedy() {
    const int V = 5;
    const int32_t beams[] = {0, 3, 1, 0, 3, 4};
    draft_tree t;
    tree_build(beams, 2, 3, nullptr, t);
    std::vector<float> logits((size_t)t.size() * V, 0.f);
    logits[0 * V + 3] = 5;  // root -> 3 (drafted)
    logits[1 * V + 4] = 5;  // after 3 -> 4 (drafted in beam 1)
    logits[3 * V + 2] = 5;  // after 3,4 -> 2 (bonus)
    accept_probs_fn onehot = [&](const float * row, float * p) {
        int a = accept_argmax(row, V);
        for (int v = 0; v < V; ++v) p[v] = v == a ? 1.f : 0.f;
    };
    std::mt19937_64 urng(5);
    accept_uniform_fn uniform = [&]() { return std::generate_canonical<double, 53>(urng); };
    accept_result r, g;
    accept_sample(t, logits.data(), V, onehot, uniform, r);
    accept_greedy(t, logits.data(), V, g);
    CHECK(r.path == g.path);
    CHECK(r.next_token == 2 && g.next_token == 2);
    CHECK(g.n_accepted() == 2);
}

static void test_draw() {
    const float w[] = {0, 1, 0, 3};
    CHECK(accept_draw(w, 4, 0.0) == 1);
    CHECK(accept_draw(w, 4, 0.2499) == 1);
    CHECK(accept_draw(w, 4, 0.25) == 3);
    CHECK(accept_draw(w, 4, 0.9999999) == 3);
}

// accept_sampling_probs must be the distribution sampler_sample draws from (plain sampling),
// including top-k and top-p: chi-square over draws of sampler_sample at significance 0.001.
static void test_sampling_probs_match_plain_sampling() {
    const int V = 12;
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> U(-2, 2);
    std::vector<float> logits(V);
    for (auto & x : logits) x = U(rng);
    logits[3] = logits[7];  // a tie inside the kept set
    std::vector<sampling_params> cases(4);
    cases[0].temperature = 0.8f;
    cases[1].temperature = 1.2f, cases[1].top_k = 5;
    cases[2].temperature = 1.0f, cases[2].top_p = 0.7f;
    cases[3].temperature = 0.6f, cases[3].top_k = 8, cases[3].top_p = 0.9f;
    for (const auto & sp : cases) {
        std::vector<float> p(V);
        std::vector<int> order;
        accept_sampling_probs(logits.data(), V, sp, p.data(), order);
        double total = 0;
        int kept = 0;
        for (float x : p) total += x, kept += x > 0;
        CHECK_CLOSE(total, 1.0, 1e-5);
        if (sp.top_k > 0) CHECK(kept <= sp.top_k);
        sampler_rng r(1234);
        const long N = 100000;
        std::vector<long> counts(V, 0);
        for (long i = 0; i < N; ++i) counts[sampler_sample(logits.data(), V, sp, r)]++;
        std::vector<double> e(p.begin(), p.end());
        const double stat = chi2_stat(counts, e, N);
        CHECK(stat < chi2_critical_001(kept - 1 > 0 ? kept - 1 : 1));
    }
}

int main() {
    test_draw();
    test_sampling_probs_match_plain_sampling();
    test_greedy_matches_beam_formula();
    test_sampling_at_low_temperature_is_greedy();
    test_sampling_is_exact();
    return test_summary("test-accept");
}
