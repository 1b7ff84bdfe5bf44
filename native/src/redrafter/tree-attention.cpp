/*
 * tree-attention.cpp: prefix deduplication, packing, unpacker, depths, parents and the tree mask
 * for one verification pass (docs/redrafter.md §2.4). O(M^2 * L) on the host; M * L is small.
 */
#include "tree-attention.h"

#include <string>

#include "base/check.h"
#include "base/status.h"

void tree_build(const int32_t * beams, int n_beams, int max_len, const int32_t * beam_len, draft_tree & out) {
    if (n_beams < 1 || max_len < 1) throw engine_error(ERROR_INVALID_ARGUMENT, "tree_build: need at least one beam of at least one token");
    out.n_beams = n_beams;
    out.max_len = max_len;
    out.beam_len.assign(n_beams, max_len);
    if (beam_len) {
        for (int m = 0; m < n_beams; ++m) {
            if (beam_len[m] < 1 || beam_len[m] > max_len)
                throw engine_error(ERROR_INVALID_ARGUMENT, "tree_build: beam " + std::to_string(m) + " has length " +
                                                                       std::to_string(beam_len[m]) + ", outside 1.." + std::to_string(max_len));
            out.beam_len[m] = beam_len[m];
        }
    }
    const int32_t g0 = beams[0];
    for (int m = 1; m < n_beams; ++m)
        if (beams[(size_t)m * max_len] != g0)
            throw engine_error(ERROR_INVALID_ARGUMENT, "tree_build: beam " + std::to_string(m) + " does not start with the guaranteed token");

    const size_t cells = (size_t)n_beams * max_len;
    out.prefix_tree.assign(cells, -1);
    out.unpacker.assign(cells, -1);
    out.tokens.clear();
    out.depth.clear();
    out.parent.clear();
    out.source.clear();
    auto at = [&](int m, int j) { return (size_t)m * max_len + j; };

    // §2.4 (1) prefix tree: pt[m][j] = smallest k whose prefix 0..j equals beam m's. Two prefixes of
    // length j+1 are equal iff their length-j prefixes are (same pt at j-1) and token j matches.
    for (int m = 0; m < n_beams; ++m) {
        for (int j = 0; j < out.beam_len[m]; ++j) {
            int pt = m;
            for (int k = 0; k < m; ++k) {
                if (out.beam_len[k] <= j) continue;
                if (j > 0 && out.prefix_tree[at(k, j - 1)] != out.prefix_tree[at(m, j - 1)]) continue;
                if (beams[at(k, j)] != beams[at(m, j)]) continue;
                pt = k;
                break;
            }
            out.prefix_tree[at(m, j)] = pt;
        }
    }
    // §2.4 (2-4) packing (beam-major, depth-minor over new nodes), unpacker, depth, parent.
    for (int m = 0; m < n_beams; ++m) {
        for (int j = 0; j < out.beam_len[m]; ++j) {
            int pt = out.prefix_tree[at(m, j)];
            if (pt != m) {
                out.unpacker[at(m, j)] = out.unpacker[at(pt, j)];
                continue;
            }
            int idx = (int)out.tokens.size();
            out.unpacker[at(m, j)] = idx;
            out.tokens.push_back(beams[at(m, j)]);
            out.depth.push_back(j);
            out.parent.push_back(j == 0 ? -1 : out.unpacker[at(m, j - 1)]);
            out.source.push_back((int32_t)at(m, j));
        }
    }
    // Children lists in packed order (a counting sort by parent keeps packed order within a parent).
    const int n = out.size();
    out.child_begin.assign(n + 1, 0);
    for (int i = 1; i < n; ++i) out.child_begin[out.parent[i] + 1]++;
    for (int i = 0; i < n; ++i) out.child_begin[i + 1] += out.child_begin[i];
    out.child_list.assign(n > 0 ? n - 1 : 0, 0);
    std::vector<int32_t> fill(out.child_begin.begin(), out.child_begin.end() - 1);
    for (int i = 1; i < n; ++i) out.child_list[fill[out.parent[i]]++] = i;
}

void tree_mask(const draft_tree & tree, int n_ctx, uint8_t * mask) {
    const int n = tree.size();
    const size_t width = (size_t)n_ctx + n;
    for (int i = 0; i < n; ++i) {
        uint8_t * row = mask + (size_t)i * width;
        for (int k = 0; k < n_ctx; ++k) row[k] = 1;
        for (int k = 0; k < n; ++k) row[n_ctx + k] = 0;
        // ancestors-or-self: walk the parent chain (depth <= max_len).
        for (int a = i; a >= 0; a = tree.parent[a]) row[n_ctx + a] = 1;
    }
}

void tree_path(const draft_tree & tree, int node, std::vector<int32_t> & path) {
    ENGINE_ASSERT(node >= 0 && node < tree.size());
    path.assign(tree.depth[node] + 1, 0);
    for (int a = node; a >= 0; a = tree.parent[a]) path[tree.depth[a]] = a;
}
