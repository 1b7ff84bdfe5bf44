// lookup_find on 4K-token texts (2026-12-07-lookup-find-microbench.txt has the command and the figures)
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
