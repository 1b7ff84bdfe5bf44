/*
 * lookup-find.cpp: micro-benchmark of lookup drafts' n-gram lookup (native/src/decode/lookup-drafts.h)
 * on 4K-token texts: random tokens of a 4096- and a 64-token alphabet, and one token repeated, at
 * three settings of n-gram lengths and drafts; microseconds per call, 2000 calls each. Figures:
 * bench/results/2026-12-07-lookup-find-microbench.txt. Build and run:
 *
 *   g++ -O3 -std=c++17 -Inative/src bench/native/lookup-find.cpp native/src/decode/lookup-drafts.cpp -o /tmp/lookup-find && /tmp/lookup-find
 */
#include <chrono>
#include <cstdio>
#include <random>
#include <tuple>
#include <vector>
#include "decode/lookup-drafts.h"
int main() {
    std::mt19937 rng(1);
    for (int kind = 0; kind < 3; ++kind) {
        std::vector<int32_t> t(4096);
        for (auto & x : t) x = kind == 0 ? rng() % 4096 : kind == 1 ? rng() % 64 : 7;  // random / small alphabet / one token
        lookup_params p; p.tokens = 8;
        for (auto [mn, mx, d] : std::vector<std::tuple<int, int, int>>{{2, 4, 1}, {1, 3, 2}, {1, 16, 16}}) {
            p.min_ngram = mn, p.max_ngram = mx, p.max_drafts = d;
            lookup_drafts out;
            lookup_find(t.data(), 4096, p, 8, out);
            const int R = 2000;
            auto t0 = std::chrono::steady_clock::now();
            size_t sink = 0;
            for (int r = 0; r < R; ++r) { lookup_find(t.data(), 4096, p, 8, out); sink += out.size(); }
            double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / R;
            std::printf("text %s, n %d..%d, drafts %d: %.2f us per call (%zu drafts)\n", kind == 0 ? "random V=4096" : kind == 1 ? "random V=64" : "one token repeated", mn, mx, d, us, sink / R);
        }
    }
}
