/*
 * tree-attention.h: ReDrafter's dynamic tree attention (docs/redrafter.md §2.4): deduplicate the
 * beams by whole prefix, pack the unique nodes beam-major/depth-minor, and derive the unpacker,
 * depths (RoPE position offsets), parents and the verification mask. Beams may differ in length
 * (caller-supplied extra drafts join as extra beams); every beam starts with the guaranteed token.
 */
#pragma once
#include <cstdint>
#include <vector>

struct draft_tree {
    int n_beams = 0;                   // M: drafter beams plus extra beams
    int max_len = 0;                   // longest beam, counting g0
    std::vector<int32_t> beam_len;     // beam_len: (M) tokens of each beam, counting g0
    std::vector<int32_t> prefix_tree;  // prefix_tree: (M, max_len) smallest beam sharing the prefix (m, 0..j); -1 past the end
    std::vector<int32_t> unpacker;     // unpacker: (M, max_len) packed index of node (m, j); -1 past the end
    std::vector<int32_t> tokens;       // tokens: (n_tree) packed tokens; tokens[0] = g0
    std::vector<int32_t> depth;        // depth: (n_tree) column j of each node = RoPE offset from n_ctx
    std::vector<int32_t> parent;       // parent: (n_tree) packed index of the parent; -1 for the root
    std::vector<int32_t> source;       // source: (n_tree) flat index m * max_len + j of each node's first beam
    // children of node u, in packed order (= order of the best beam containing them):
    // child_list[child_begin[u] .. child_begin[u + 1])
    std::vector<int32_t> child_begin;  // child_begin: (n_tree + 1)
    std::vector<int32_t> child_list;   // child_list: (n_tree - 1)

    int size() const { return (int)tokens.size(); }
};

// Builds the tree of `n_beams` beams. beams: (n_beams, max_len) row-major; beam_len: (n_beams)
// lengths in 1..max_len, or null when every beam has max_len tokens. All beams must start with
// the same token (g0); throws engine_error(INVALID_ARGUMENT) otherwise.
void tree_build(const int32_t * beams, int n_beams, int max_len, const int32_t * beam_len, draft_tree & out);

// Verification mask (§2.4). mask: (n_tree, n_ctx + n_tree) row-major, 1 = may attend. Row i
// attends to all n_ctx committed tokens and to its ancestors-or-self among the packed nodes.
void tree_mask(const draft_tree & tree, int n_ctx, uint8_t * mask);

// Packed indices of the path root .. node (inclusive), root first. path: (depth[node] + 1)
void tree_path(const draft_tree & tree, int node, std::vector<int32_t> & path);
