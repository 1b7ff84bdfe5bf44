/*
 * lookup-drafts.h: prompt lookup drafts (docs/engine.md, "Lookup drafts"): speculation without a
 * drafter. The last n tokens of the text so far (the prompt, then the generated tokens, the pending
 * g0 last) are looked up earlier in the text; each occurrence proposes the tokens that followed it,
 * which one base forward then verifies exactly (speculate_step). Pure: no session, no model.
 */
#pragma once
#include <cstdint>
#include <vector>

constexpr int LOOKUP_MAX_TOKENS = 63;   // drafted tokens per draft at most (1 + 63 = SPECULATE_MAX_EXTRA_LEN)
constexpr int LOOKUP_MAX_NGRAM = 16;    // longest n-gram looked up
constexpr int LOOKUP_MAX_DRAFTS = 16;   // drafts per round at most

// Defaults (docs/performance.md, "Lookup drafts (2026-12-07)": measured on the shipped model).
constexpr int LOOKUP_DEFAULT_MIN_NGRAM = 2;
constexpr int LOOKUP_DEFAULT_MAX_NGRAM = 4;
constexpr int LOOKUP_DEFAULT_MAX_DRAFTS = 1;

struct lookup_params {
    int tokens = 0;      // drafted tokens per draft at most (g0 not counted); 0 = off, else 1..LOOKUP_MAX_TOKENS
    int min_ngram = LOOKUP_DEFAULT_MIN_NGRAM;  // 1 <= min_ngram <= max_ngram <= LOOKUP_MAX_NGRAM
    int max_ngram = LOOKUP_DEFAULT_MAX_NGRAM;
    int max_drafts = LOOKUP_DEFAULT_MAX_DRAFTS;  // 1..LOOKUP_MAX_DRAFTS
};

// The drafts of one round, flat: draft d is tokens[off_d .. off_d + lens[d]), off_d the sum of the
// lengths before it. Every draft starts with g0 and has 2..1 + max_tokens tokens. Reused between
// rounds (clear() keeps the capacity).
struct lookup_drafts {
    std::vector<int32_t> tokens;  // (sum of lens)
    std::vector<int32_t> lens;    // (n drafts)
    int size() const { return (int)lens.size(); }
    void clear() {
        tokens.clear();
        lens.clear();
    }
};

// Checks params (tokens 0 = off is valid); returns "" or what is wrong, for an engine_error.
const char * lookup_params_error(const lookup_params & p);

// Finds the drafts for text: (n_text >= 1) the prompt then the generated tokens, text[n_text - 1]
// = the pending g0. For n from max_ngram down to min_ngram (and n <= n_text - 1): the last n tokens
// are looked up in text[0 .. n_text - 1), most recent occurrence first; an occurrence at i (text[i ..
// i + n) equal to the last n tokens, i + n < n_text) gives the draft [g0, text[i + n .. i + n + k)),
// k = min(max_tokens, n_text - i - n). A draft equal to, or a prefix of, one already found is
// skipped (it adds no tree node); at most 4 x max_drafts occurrences are looked at per n. At most
// p.max_drafts drafts, longest n-gram first. max_tokens
// (1..LOOKUP_MAX_TOKENS) is this round's cap (the adaptive length, the room left); p.tokens is not
// read. O(n_text * (max_ngram - min_ngram + 1)) compares (2-5 us on a 4K-token text: docs/
// performance.md); no allocation once out has grown.
void lookup_find(const int32_t * text, int n_text, const lookup_params & p, int max_tokens, lookup_drafts & out);
