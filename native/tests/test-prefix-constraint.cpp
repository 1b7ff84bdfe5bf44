/*
 * test-prefix-constraint.cpp: the required-prefix constraint (core/prefix-constraint.h) on
 * hand-made and seeded random byte vocabularies, against a brute-force transcription of its rule
 * (docs/engine.md, "The required prefix"): the allowed set at every state, the state update, the
 * reachability check, the logit mask (greedy = argmax over the allowed, the rest at -inf). Then
 * its cost on a 151,936-token vocabulary (Qwen2.5's size): the allowed set and the mask per
 * constrained step, printed (docs/performance.md), with a loose bound that catches a scan of the
 * whole vocabulary per byte.
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/prefix-constraint.h"
#include "core/sampler.h"
#include "test-util.h"

namespace {

struct vocab_spec {
    std::vector<std::string> tokens;
    std::vector<uint8_t> special;
};

std::shared_ptr<const vocab_bytes> make(const vocab_spec & v) {
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> offsets{0};
    for (const std::string & t : v.tokens) {
        bytes.insert(bytes.end(), t.begin(), t.end());
        offsets.push_back(static_cast<uint32_t>(bytes.size()));
    }
    return vocab_bytes_make(bytes.data(), offsets.data(), v.special.empty() ? nullptr : v.special.data(), (int)v.tokens.size());
}

bool starts_with(const std::string & s, const std::string & p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }

// The rule, literally: reachable positions by search, then the allowed set by definition.
std::vector<uint8_t> brute_reach(const vocab_spec & v, const std::string & r) {
    const size_t n = r.size();
    std::vector<uint8_t> reach(n + 1, 0);
    reach[n] = 1;
    for (size_t p = n; p-- > 0;) {
        const std::string rest = r.substr(p);
        for (size_t id = 0; id < v.tokens.size() && !reach[p]; ++id) {
            const std::string & t = v.tokens[id];
            if ((!v.special.empty() && v.special[id]) || t.empty()) continue;
            if (starts_with(t, rest) || (t.size() < rest.size() && starts_with(rest, t) && reach[p + t.size()])) reach[p] = 1;
        }
    }
    return reach;
}

std::vector<int32_t> brute_allowed(const vocab_spec & v, const std::string & r, size_t pos, const std::vector<uint8_t> & reach) {
    std::vector<int32_t> out;
    const std::string rest = r.substr(pos);
    for (size_t id = 0; id < v.tokens.size(); ++id) {
        const std::string & t = v.tokens[id];
        if ((!v.special.empty() && v.special[id]) || t.empty()) continue;
        if (starts_with(t, rest) || (t.size() < rest.size() && starts_with(rest, t) && reach[pos + t.size()])) out.push_back((int32_t)id);
    }
    return out;
}

void check_against_brute_force(const vocab_spec & v, const std::string & r) {
    const std::vector<uint8_t> reach = brute_reach(v, r);
    if (!reach[0]) {
        bool threw = false;
        try {
            prefix_constraint_make(make(v), r);
        } catch (const engine_error & e) {
            threw = e.kind == ERROR_INVALID_ARGUMENT;
        }
        CHECK(threw);
        return;
    }
    const prefix_constraint c = prefix_constraint_make(make(v), r);
    std::vector<int32_t> ids;
    for (size_t pos = 0; pos < r.size(); ++pos) {
        if (!reach[pos]) continue;
        prefix_constraint_allowed(c, (int)pos, ids);
        std::sort(ids.begin(), ids.end());
        const std::vector<int32_t> want = brute_allowed(v, r, pos, reach);
        CHECK(ids == want);
        for (size_t id = 0; id < v.tokens.size(); ++id) {  // advance agrees with the set and moves by the token's length
            const int next = prefix_constraint_advance(c, (int)pos, (int32_t)id);
            const bool allowed = std::binary_search(want.begin(), want.end(), (int32_t)id);
            CHECK((next >= 0) == allowed);
            if (allowed) CHECK(next == (int)std::min(r.size(), pos + v.tokens[id].size()));
        }
    }
    CHECK(prefix_constraint_advance(c, (int)r.size(), 0) == (int)r.size());  // done: everything goes
}

void test_hand_made() {
    vocab_spec v;
    v.tokens = {"<s>", "a", "b", "ab", "abc", "bc", "c", " ", "  ", "   ", " a", "", "\xe2\x98", "\x95", "\xe2\x98\x95x"};
    v.special.assign(v.tokens.size(), 0);
    v.special[0] = 1;
    const prefix_constraint c = prefix_constraint_make(make(v), "abc");
    std::vector<int32_t> ids;
    prefix_constraint_allowed(c, 0, ids);
    std::sort(ids.begin(), ids.end());
    CHECK((ids == std::vector<int32_t>{1, 3, 4}));  // "a", "ab", "abc" ("abcd"-like tokens would join them)
    prefix_constraint_allowed(c, 1, ids);
    std::sort(ids.begin(), ids.end());
    CHECK((ids == std::vector<int32_t>{2, 5}));  // "b", "bc"
    CHECK(prefix_constraint_advance(c, 0, 3) == 2);
    CHECK(prefix_constraint_advance(c, 2, 6) == 3);
    CHECK(prefix_constraint_advance(c, 0, 0) == -1);   // special
    CHECK(prefix_constraint_advance(c, 0, 11) == -1);  // writes nothing
    CHECK(prefix_constraint_advance(c, 0, 2) == -1);
    // a run of spaces: the tokens it starts with and the ones that cover it
    const prefix_constraint sp = prefix_constraint_make(make(v), "  ");
    prefix_constraint_allowed(sp, 0, ids);
    std::sort(ids.begin(), ids.end());
    CHECK((ids == std::vector<int32_t>{7, 8, 9}));
    // a partial UTF-8 character (the first two bytes of U+2615): the raw-byte tokens that continue it
    const prefix_constraint cup = prefix_constraint_make(make(v), "\xe2\x98");
    prefix_constraint_allowed(cup, 0, ids);
    std::sort(ids.begin(), ids.end());
    CHECK((ids == std::vector<int32_t>{12, 14}));
    // nothing writes "d": refused when the constraint is made
    bool threw = false;
    try {
        prefix_constraint_make(make(v), "ad");
    } catch (const engine_error & e) {
        threw = e.kind == ERROR_INVALID_ARGUMENT && std::string(e.what()).find("0x64") != std::string::npos;
    }
    CHECK(threw);
    // the mask: allowed logits kept, the rest -inf; greedy picks the best allowed; sampling never leaves the set
    const int V = (int)v.tokens.size();
    std::vector<float> logits(V);
    for (int i = 0; i < V; ++i) logits[i] = (float)(V - i);  // id 0 ("<s>") would win unconstrained
    std::vector<int32_t> scratch;
    std::vector<float> saved;
    std::vector<float> row = logits;
    constraint_mask_logits({&c, 0}, row.data(), V, scratch, saved);
    for (int i = 0; i < V; ++i) CHECK((i == 1 || i == 3 || i == 4) ? row[i] == logits[i] : row[i] == -INFINITY);
    CHECK(sampler_argmax(row.data(), V) == 1);
    sampling_params hot;
    hot.temperature = 2.0f;
    sampler_rng rng(5);
    for (int k = 0; k < 2000; ++k) {
        const int t = sampler_sample(row.data(), V, hot, rng);
        CHECK(t == 1 || t == 3 || t == 4);
    }
    row = logits;
    constraint_mask_logits({&c, 3}, row.data(), V, scratch, saved);  // done: untouched
    CHECK(row == logits);
    constraint_mask_logits({nullptr, 0}, row.data(), V, scratch, saved);  // no constraint: untouched
    CHECK(row == logits);
}

void test_random_vocabularies() {
    std::mt19937 rng(11);
    const std::string alphabet = "ab \xe2\x98";  // few symbols, so prefixes collide often
    for (int trial = 0; trial < 150; ++trial) {
        vocab_spec v;
        const int n = 5 + (int)(rng() % 40);
        for (int i = 0; i < n; ++i) {
            std::string t;
            const int len = (int)(rng() % 5);  // empty tokens included
            for (int k = 0; k < len; ++k) t += alphabet[rng() % alphabet.size()];
            v.tokens.push_back(t);
            v.special.push_back(rng() % 10 == 0);
        }
        for (int k = 0; k < 4; ++k) {
            std::string r;
            const int len = 1 + (int)(rng() % 7);
            for (int j = 0; j < len; ++j) r += alphabet[rng() % alphabet.size()];
            check_against_brute_force(v, r);
        }
    }
}

// A synthetic byte-level vocabulary of Qwen2.5's size: the 256 single bytes, then tokens drawn from
// code-like text (identifier runs, a leading space or not, runs of spaces, punctuation).
vocab_spec big_vocabulary(int n_vocab) {
    std::mt19937 rng(3);
    vocab_spec v;
    std::set<std::string> seen;  // a vocabulary holds each piece once
    for (int b = 0; b < 256; ++b) {
        v.tokens.push_back(std::string(1, (char)b));
        seen.insert(v.tokens.back());
    }
    const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    const std::string punct = "(){}[];:.,=+-*/<>!&|\"'`";
    while ((int)v.tokens.size() < n_vocab - 8) {
        std::string t;
        const unsigned kind = rng() % 10;
        if (kind < 6) {  // " word" or "word"
            if (rng() % 2) t += ' ';
            const int len = 1 + (int)(rng() % 10);
            for (int k = 0; k < len; ++k) t += letters[rng() % letters.size()];
        } else if (kind < 8) {  // indentation, possibly followed by a word start
            t = std::string(1 + rng() % 16, ' ');
            if (rng() % 2) t += letters[rng() % letters.size()];
        } else {
            const int len = 1 + (int)(rng() % 3);
            if (rng() % 2) t += ' ';
            for (int k = 0; k < len; ++k) t += punct[rng() % punct.size()];
        }
        if (seen.insert(t).second) v.tokens.push_back(t);
    }
    for (int i = 0; i < 8; ++i) v.tokens.push_back("<|special_" + std::to_string(i) + "|>");
    v.special.assign(v.tokens.size(), 0);
    for (int i = n_vocab - 8; i < n_vocab; ++i) v.special[(size_t)i] = 1;
    return v;
}

void test_cost_at_151k() {
    const int V = 151936;
    const vocab_spec v = big_vocabulary(V);
    const auto t_make = std::chrono::steady_clock::now();
    const auto vb = make(v);
    std::fprintf(stderr, "V=%d: building the sorted token-bytes table (once per model) took %.1f ms\n", V,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_make).count());
    std::vector<float> logits(V), row(V);
    std::mt19937 rng(9);
    std::normal_distribution<float> N(0, 3);
    for (float & x : logits) x = N(rng);
    std::vector<int32_t> scratch;
    std::vector<float> saved;
    // the worst cases for healing: a lone space (every " word" token is allowed) and a run of spaces
    for (const char * r : {" ", "    ", "    ret", "ret", "(", "\xe2\x98"}) {
        const prefix_constraint c = prefix_constraint_make(vb, r);
        std::vector<double> allowed_us, mask_us;
        size_t n_allowed = 0;
        for (int k = 0; k < 50; ++k) {
            auto t0 = std::chrono::steady_clock::now();
            prefix_constraint_allowed(c, 0, scratch);
            auto t1 = std::chrono::steady_clock::now();
            row = logits;
            auto t2 = std::chrono::steady_clock::now();
            constraint_mask_logits({&c, 0}, row.data(), V, scratch, saved);
            auto t3 = std::chrono::steady_clock::now();
            n_allowed = scratch.size();
            allowed_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
            mask_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
        }
        std::sort(allowed_us.begin(), allowed_us.end());
        std::sort(mask_us.begin(), mask_us.end());
        std::string shown;  // the required bytes, printable
        for (const char * p = r; *p; ++p) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", (unsigned char)*p);
            shown += (unsigned char)*p < 0x80 ? std::string(1, *p) : std::string(hex);
        }
        std::fprintf(stderr, "V=%d required %-12s allowed %6zu tokens: allowed set %6.1f us, allowed set + mask %6.1f us (medians of 50)\n",
                     V, ("\"" + shown + "\"").c_str(), n_allowed, allowed_us[25], mask_us[25]);
        CHECK(n_allowed > 0);
        CHECK(mask_us[25] < 5000.0);  // "well under 1 ms" on an idle core; 5 ms on a loaded shared one
    }
}

}  // namespace

int main() {
    test_hand_made();
    test_random_vocabularies();
    test_cost_at_151k();
    return test_summary("test-prefix-constraint");
}
