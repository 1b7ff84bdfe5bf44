/*
 * prefix-constraint.cpp: the allowed set of the required-prefix constraint as at most |R| - pos + 1
 * ranges of the vocabulary sorted by bytes (the tokens R[pos:] starts, one exact-match range per
 * length, and the tokens that start with R[pos:]), the state update, and the logit mask.
 */
#include "prefix-constraint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "base/status.h"

prefix_constraint prefix_constraint_make(std::shared_ptr<const vocab_bytes> vocab, std::string required) {
    if (!vocab) throw engine_error(ERROR_INVALID_ARGUMENT, "required prefix: the model has no token bytes");
    prefix_constraint c{std::move(vocab), std::move(required), {}};
    // reach[p]: R[p:] can be written by usable tokens: one token covers it, or a token equal to
    // R[p:p+k] leads to a reachable p + k. (Always true with byte-level or byte-fallback vocabularies.)
    const int n = static_cast<int>(c.required.size());
    c.reach.assign(static_cast<size_t>(n) + 1, 0);
    c.reach[static_cast<size_t>(n)] = 1;
    const std::string_view r(c.required);
    for (int p = n - 1; p >= 0; --p) {
        int lo, hi;
        vocab_bytes_with_prefix(*c.vocab, r.substr(static_cast<size_t>(p)), &lo, &hi);
        bool ok = lo < hi;
        for (int k = 1; !ok && p + k < n; ++k) {
            if (!c.reach[static_cast<size_t>(p + k)]) continue;
            vocab_bytes_equal(*c.vocab, r.substr(static_cast<size_t>(p), static_cast<size_t>(k)), &lo, &hi);
            ok = lo < hi;
        }
        c.reach[static_cast<size_t>(p)] = ok;
    }
    if (n > 0 && !c.reach[0]) {
        std::string why;  // name a byte no token starts with, when there is one
        for (int p = 0; p < n && why.empty(); ++p) {
            int lo, hi;
            vocab_bytes_with_prefix(*c.vocab, r.substr(static_cast<size_t>(p), 1), &lo, &hi);
            if (lo == hi) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(r[static_cast<size_t>(p)]));
                why = std::string(": no token starts with byte ") + hex + " (offset " + std::to_string(p) + ")";
            }
        }
        throw engine_error(ERROR_INVALID_ARGUMENT, "required prefix: no sequence of this tokenizer's tokens writes its " +
                                                       std::to_string(n) + " bytes" + why);
    }
    return c;
}

int prefix_constraint_advance(const prefix_constraint & c, int pos, int32_t token) {
    if (!c.active(pos)) return pos;
    if (token < 0 || token >= c.vocab->n_vocab || !c.vocab->usable(token)) return -1;
    const std::string_view rest = std::string_view(c.required).substr(static_cast<size_t>(pos));
    const std::string_view b = c.vocab->bytes(token);
    if (b.size() >= rest.size()) return b.substr(0, rest.size()) == rest ? static_cast<int>(c.required.size()) : -1;
    const int next = pos + static_cast<int>(b.size());
    return rest.substr(0, b.size()) == b && c.reach[static_cast<size_t>(next)] ? next : -1;
}

void prefix_constraint_allowed(const prefix_constraint & c, int pos, std::vector<int32_t> & ids) {
    ids.clear();
    const vocab_bytes & vb = *c.vocab;
    const std::string_view rest = std::string_view(c.required).substr(static_cast<size_t>(pos));
    int lo, hi;
    for (size_t k = 1; k < rest.size(); ++k) {  // tokens that are a proper prefix of the rest
        if (!c.reach[static_cast<size_t>(pos) + k]) continue;
        vocab_bytes_equal(vb, rest.substr(0, k), &lo, &hi);
        ids.insert(ids.end(), vb.sorted.begin() + lo, vb.sorted.begin() + hi);
    }
    vocab_bytes_with_prefix(vb, rest, &lo, &hi);  // tokens that cover the rest (equal included)
    ids.insert(ids.end(), vb.sorted.begin() + lo, vb.sorted.begin() + hi);
}

void constraint_mask_logits(const constraint_state & st, float * logits, int n_vocab, std::vector<int32_t> & scratch,
                            std::vector<float> & saved) {
    if (!st.active()) return;
    prefix_constraint_allowed(*st.c, st.pos, scratch);
    if (scratch.empty())
        throw engine_error(ERROR_INVALID_ARGUMENT, "required prefix: no token continues it at byte offset " + std::to_string(st.pos));
    saved.resize(scratch.size());
    for (size_t i = 0; i < scratch.size(); ++i) saved[i] = logits[scratch[i]];
    std::fill(logits, logits + n_vocab, -INFINITY);
    for (size_t i = 0; i < scratch.size(); ++i) logits[scratch[i]] = saved[i];
}
