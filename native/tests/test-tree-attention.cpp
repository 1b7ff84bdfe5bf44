/*
 * test-tree-attention.cpp: the dynamic tree attention builder (docs/redrafter.md §2.4) against the
 * test vectors of Apple's tree_attention_test.py (M=3, L=4), the spec's mask, and invariants on
 * random beams (packed[up[m][j]] == beams[m][j], depth == j, mask == the spec's O(M*L^2) loop).
 */
#include <cstdint>
#include <random>
#include <vector>

#include "base/status.h"
#include "redrafter/tree-attention.h"
#include "test-util.h"

static bool same(const std::vector<int32_t> & a, const std::vector<int32_t> & b) { return a == b; }

// The spec's mask construction (§2.4): for each beam m and j, mask[up[m][j]][up[m][j']] = 1, j' <= j.
static std::vector<uint8_t> reference_mask(const draft_tree & t, int n_ctx) {
    const int n = t.size();
    std::vector<uint8_t> mask((size_t)n * (n_ctx + n), 0);
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < n_ctx; ++k) mask[(size_t)i * (n_ctx + n) + k] = 1;
    for (int m = 0; m < t.n_beams; ++m)
        for (int j = 0; j < t.beam_len[m]; ++j)
            for (int jj = 0; jj <= j; ++jj)
                mask[(size_t)t.unpacker[m * t.max_len + j] * (n_ctx + n) + n_ctx + t.unpacker[m * t.max_len + jj]] = 1;
    return mask;
}

static void test_first_vector() {
    const int32_t beams[] = {91, 92, 93, 95, 91, 92, 94, 96, 91, 92, 93, 97};
    draft_tree t;
    tree_build(beams, 3, 4, nullptr, t);
    CHECK(same(t.prefix_tree, {0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 2}));
    CHECK(same(t.tokens, {91, 92, 93, 95, 94, 96, 97}));
    CHECK(same(t.source, {0, 1, 2, 3, 6, 7, 11}));
    CHECK(same(t.unpacker, {0, 1, 2, 3, 0, 1, 4, 5, 0, 1, 2, 6}));
    CHECK(same(t.depth, {0, 1, 2, 3, 2, 3, 3}));
    CHECK(same(t.parent, {-1, 0, 1, 2, 1, 4, 2}));
    // Spec mask, tree part only (rows = packed i).
    const char * expected[] = {"1000000", "1100000", "1110000", "1111000", "1100100", "1100110", "1110001"};
    const int n_ctx = 5;
    std::vector<uint8_t> mask((size_t)7 * (n_ctx + 7));
    tree_mask(t, n_ctx, mask.data());
    for (int i = 0; i < 7; ++i) {
        for (int k = 0; k < n_ctx; ++k) CHECK(mask[(size_t)i * (n_ctx + 7) + k] == 1);
        for (int k = 0; k < 7; ++k) CHECK(mask[(size_t)i * (n_ctx + 7) + n_ctx + k] == (expected[i][k] == '1'));
    }
    // Children in packed order: root -> 1; 1 -> 2, 4; 2 -> 3, 6; 4 -> 5.
    CHECK(same(std::vector<int32_t>(t.child_list.begin() + t.child_begin[1], t.child_list.begin() + t.child_begin[2]), {2, 4}));
    CHECK(same(std::vector<int32_t>(t.child_list.begin() + t.child_begin[2], t.child_list.begin() + t.child_begin[3]), {3, 6}));
    std::vector<int32_t> path;
    tree_path(t, 5, path);
    CHECK(same(path, {0, 1, 4, 5}));
}

static void test_second_vector() {
    const int32_t beams[] = {93, 94, 95, 92, 93, 95, 96, 93, 93, 94, 97, 96};
    draft_tree t;
    tree_build(beams, 3, 4, nullptr, t);
    CHECK(same(t.prefix_tree, {0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 2, 2}));
    CHECK(same(t.tokens, {93, 94, 95, 92, 95, 96, 93, 97, 96}));
    CHECK(same(t.unpacker, {0, 1, 2, 3, 0, 4, 5, 6, 0, 1, 7, 8}));
    CHECK(same(t.depth, {0, 1, 2, 3, 1, 2, 3, 2, 3}));
    std::vector<uint8_t> mask((size_t)9 * 9);
    tree_mask(t, 0, mask.data());
    CHECK(mask == reference_mask(t, 0));
}

// Extra beams of other lengths (caller drafts) share prefixes with drafter beams.
static void test_variable_lengths() {
    const int32_t beams[] = {
        5, 6, 7, 0, 0,  //
        5, 6, 8, 0, 0,  //
        5, 6, 7, 9, 10,  // extra draft, longer, continues beam 0
        5, 0, 0, 0, 0,   // extra draft of only g0
    };
    const int32_t lens[] = {3, 3, 5, 1};
    draft_tree t;
    tree_build(beams, 4, 5, lens, t);
    CHECK(same(t.tokens, {5, 6, 7, 8, 9, 10}));
    CHECK(same(t.depth, {0, 1, 2, 2, 3, 4}));
    CHECK(same(t.parent, {-1, 0, 1, 1, 2, 4}));
    CHECK(t.unpacker[3 * 5 + 0] == 0 && t.unpacker[3 * 5 + 1] == -1);
    std::vector<uint8_t> mask((size_t)6 * (2 + 6));
    tree_mask(t, 2, mask.data());
    CHECK(mask == reference_mask(t, 2));
}

static void test_random_invariants() {
    std::mt19937 rng(1234);
    for (int trial = 0; trial < 200; ++trial) {
        int M = 1 + (int)(rng() % 8), L = 1 + (int)(rng() % 6), V = 2 + (int)(rng() % 3);
        std::vector<int32_t> beams((size_t)M * L);
        for (int m = 0; m < M; ++m)
            for (int j = 0; j < L; ++j) beams[(size_t)m * L + j] = j == 0 ? 42 : (int32_t)(rng() % V);
        draft_tree t;
        tree_build(beams.data(), M, L, nullptr, t);
        CHECK(t.size() <= 1 + M * (L - 1));
        bool ok = true;
        for (int m = 0; m < M; ++m)
            for (int j = 0; j < L; ++j) {
                int u = t.unpacker[(size_t)m * L + j];
                ok = ok && t.tokens[u] == beams[(size_t)m * L + j] && t.depth[u] == j;
                ok = ok && t.prefix_tree[(size_t)m * L + j] <= m;
            }
        CHECK(ok);
        // Beam 0 is packed first and whole.
        for (int j = 0; j < L; ++j) CHECK(t.unpacker[j] == j);
        // Distinct packed nodes have distinct (parent, token).
        bool distinct = true;
        for (int a = 0; a < t.size(); ++a)
            for (int b = a + 1; b < t.size(); ++b) distinct = distinct && !(t.parent[a] == t.parent[b] && t.tokens[a] == t.tokens[b]);
        CHECK(distinct);
        std::vector<uint8_t> mask((size_t)t.size() * (3 + t.size()));
        tree_mask(t, 3, mask.data());
        CHECK(mask == reference_mask(t, 3));
    }
}

static void test_rejects_mismatched_roots() {
    const int32_t beams[] = {1, 2, 3, 4};
    draft_tree t;
    bool threw = false;
    try {
        tree_build(beams, 2, 2, nullptr, t);
    } catch (const engine_error & e) {
        threw = e.kind == ERROR_INVALID_ARGUMENT;
    }
    CHECK(threw);
}

int main() {
    test_first_vector();
    test_second_vector();
    test_variable_lengths();
    test_random_invariants();
    test_rejects_mismatched_roots();
    return test_summary("test-tree-attention");
}
