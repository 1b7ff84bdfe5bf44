/*
 * prefix-constraint.h: the "required prefix" decoding constraint (docs/engine.md, "The required
 * prefix"): the output must start with the bytes R. The state is how many bytes of R the tokens
 * emitted so far cover (pos); while pos < |R| a token t is allowed iff it is usable (not special,
 * not empty) and R[pos:] is a prefix of bytes(t), or bytes(t) is a proper prefix of R[pos:] after
 * which the rest can still be written (always so with byte-level or byte-fallback vocabularies). Masking sets
 * every other logit to -inf, so greedy is the argmax over the allowed tokens and sampling is
 * renormalised over them. Not thread-safe per object: the scratch is the caller's.
 */
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vocab-bytes.h"

struct prefix_constraint {
    std::shared_ptr<const vocab_bytes> vocab;
    std::string required;       // R
    std::vector<uint8_t> reach;  // reach: (|R| + 1) 1 = R[p:] can be written by usable tokens

    bool active(int pos) const { return pos < static_cast<int>(required.size()); }
};

// A constraint and the state it is in (what the next token is decided under). c == null: none.
struct constraint_state {
    const prefix_constraint * c = nullptr;
    int pos = 0;  // bytes of R covered by the tokens emitted so far
    bool active() const { return c && c->active(pos); }
};

// Builds the constraint and checks that some sequence of usable tokens can write R (throws
// engine_error(INVALID_ARGUMENT) otherwise). Cost: O(|R|^2 log V) byte comparisons.
prefix_constraint prefix_constraint_make(std::shared_ptr<const vocab_bytes> vocab, std::string required);

// The state after emitting token at pos: pos + |bytes| (capped at |R|), or -1 when the token is
// not allowed there. Inactive states (pos >= |R|) allow every token and stay as they are.
int prefix_constraint_advance(const prefix_constraint & c, int pos, int32_t token);

// The allowed ids at an active pos, in no particular order. ids: cleared and filled.
void prefix_constraint_allowed(const prefix_constraint & c, int pos, std::vector<int32_t> & ids);

// Sets logits of the tokens not allowed at st to -inf (no-op when st is inactive). logits: (n_vocab).
// scratch: reused buffer. Throws engine_error(INVALID_ARGUMENT) when nothing is allowed.
void constraint_mask_logits(const constraint_state & st, float * logits, int n_vocab, std::vector<int32_t> & scratch,
                            std::vector<float> & saved);
