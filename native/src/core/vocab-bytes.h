/*
 * vocab-bytes.h: what each token id of a model writes, as bytes, with the ids sorted by those bytes
 * so that "every token starting with s" is one binary search. Set once from the tokenizer (the TS
 * side maps byte-level BPE and SentencePiece pieces to bytes); the core otherwise deals in ids only.
 * Read by decoding constraints (prefix-constraint.h). Immutable once built; shared by generations.
 */
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

struct vocab_bytes {
    int n_vocab = 0;
    std::vector<uint8_t> data;      // data: concatenated bytes of every token
    std::vector<uint32_t> offset;   // offset: (n_vocab + 1) token i is data[offset[i] .. offset[i + 1])
    std::vector<uint8_t> special;   // special: (n_vocab) 1 = a control token (never part of text)
    // sorted: the usable ids (not special, at least one byte) ordered by their bytes
    // (lexicographic, unsigned), ties by id
    std::vector<int32_t> sorted;

    std::string_view bytes(int32_t id) const {
        return {reinterpret_cast<const char *>(data.data()) + offset[id], offset[id + 1] - offset[id]};
    }
    bool usable(int32_t id) const { return !special[id] && offset[id + 1] > offset[id]; }
};

// Builds the table. bytes: (offsets[n_vocab]); offsets: (n_vocab + 1), non-decreasing from 0;
// special: (n_vocab) or null (none special). Throws engine_error(INVALID_ARGUMENT) on bad offsets.
std::shared_ptr<const vocab_bytes> vocab_bytes_make(const uint8_t * bytes, const uint32_t * offsets, const uint8_t * special,
                                                    int n_vocab);

// Positions in vb.sorted of the usable tokens whose bytes start with s: [*lo, *hi).
void vocab_bytes_with_prefix(const vocab_bytes & vb, std::string_view s, int * lo, int * hi);
// Positions in vb.sorted of the usable tokens whose bytes equal s: [*lo, *hi).
void vocab_bytes_equal(const vocab_bytes & vb, std::string_view s, int * lo, int * hi);
