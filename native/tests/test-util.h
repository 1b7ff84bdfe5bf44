/*
 * test-util.h: the few helpers the C++ tests share: CHECK that reports file:line and keeps going,
 * a close-enough check for floats, a summary that sets the exit code (77 = skipped, for ctest),
 * and seeded normal random vectors.
 */
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

static int g_test_failures = 0;
static int g_test_checks = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        ++g_test_checks;                                                              \
        if (!(cond)) {                                                                \
            ++g_test_failures;                                                        \
            std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define CHECK_CLOSE(a, b, tol)                                                                  \
    do {                                                                                        \
        ++g_test_checks;                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!(std::fabs(a_ - b_) <= (tol))) {                                                   \
            ++g_test_failures;                                                                  \
            std::fprintf(stderr, "%s:%d: %s = %.9g, %s = %.9g, |diff| > %g\n", __FILE__, __LINE__, #a, a_, #b, b_, \
                         (double)(tol));                                                        \
        }                                                                                       \
    } while (0)

inline int test_summary(const char * name) {
    std::fprintf(stderr, "%s: %d checks, %d failed\n", name, g_test_checks, g_test_failures);
    if (g_test_checks == 0) return 1;  // a test that checked nothing is a failure
    return g_test_failures == 0 ? 0 : 1;
}

// The repository's fixtures/ folder (set by ctest through SLIPSTREAM_FIXTURES_DIR; the default is
// the path from the build folder, for running a test binary by hand from native/build).
inline std::string fixtures_dir() {
    const char * d = std::getenv("SLIPSTREAM_FIXTURES_DIR");
    return d ? std::string(d) : std::string("../../fixtures");
}

// n values drawn from N(0, scale^2) with rng (a seeded std::mt19937, so a failure replays).
inline std::vector<float> randn(size_t n, std::mt19937 & rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto & x : v) x = d(rng);
    return v;
}
