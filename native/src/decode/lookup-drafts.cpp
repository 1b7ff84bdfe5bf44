/*
 * lookup-drafts.cpp: the n-gram lookup behind lookup drafts (lookup-drafts.h): a backwards scan of
 * the text per n-gram length, the first token compared before the rest.
 */
#include "lookup-drafts.h"

#include <algorithm>

const char * lookup_params_error(const lookup_params & p) {
    if (p.tokens < 0 || p.tokens > LOOKUP_MAX_TOKENS) return "lookup tokens must be 0 (off) or 1..63";
    if (p.tokens == 0) return "";
    if (p.min_ngram < 1 || p.max_ngram > LOOKUP_MAX_NGRAM || p.min_ngram > p.max_ngram)
        return "lookup n-gram lengths must satisfy 1 <= min_ngram <= max_ngram <= 16";
    if (p.max_drafts < 1 || p.max_drafts > LOOKUP_MAX_DRAFTS) return "lookup max_drafts must be 1..16";
    return "";
}

namespace {

// Whether cand: (n) equals, or is a prefix of, a draft already in out.
bool covered(const lookup_drafts & out, const int32_t * cand, int n) {
    size_t off = 0;
    for (int d = 0; d < out.size(); ++d) {
        const int len = out.lens[(size_t)d];
        if (len >= n && std::equal(cand, cand + n, out.tokens.data() + off)) return true;
        off += (size_t)len;
    }
    return false;
}

}  // namespace

void lookup_find(const int32_t * text, int n_text, const lookup_params & p, int max_tokens, lookup_drafts & out) {
    out.clear();
    if (n_text < 2 || max_tokens < 1 || p.max_drafts < 1) return;
    const int n_hi = std::min(p.max_ngram, n_text - 1);
    for (int n = n_hi; n >= p.min_ngram && out.size() < p.max_drafts; --n) {
        const int32_t * pat = text + n_text - n;  // (n) the last n tokens, g0 last
        const int32_t first = pat[0];
        // occurrences text[i .. i + n) with i + n < n_text, i.e. i <= n_text - n - 1, latest first;
        // at most 4 x max_drafts of them per n (a text of one repeated token would otherwise check
        // every position against every kept draft)
        int seen = 0;
        for (int i = n_text - n - 1; i >= 0 && seen < 4 * p.max_drafts; --i) {
            if (text[i] != first || !std::equal(pat + 1, pat + n, text + i + 1)) continue;
            ++seen;
            const int start = i + n;  // the first token after the occurrence
            const int k = std::min(max_tokens, n_text - start);
            // the candidate [g0, text[start .. start + k)): g0 == text[start - 1], so it is text[start - 1 .. start + k)
            const int32_t * cand = text + start - 1;
            if (covered(out, cand, k + 1)) continue;
            out.tokens.insert(out.tokens.end(), cand, cand + k + 1);
            out.lens.push_back(k + 1);
            if (out.size() >= p.max_drafts) break;
        }
    }
}
