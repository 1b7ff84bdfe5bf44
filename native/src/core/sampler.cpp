/*
 * sampler.cpp: greedy / temperature / top-k / top-p selection. Order of filters (as in HF's
 * generate): temperature, then top-k, then top-p over the remaining mass; sample with the seeded RNG.
 * Logits at -inf (a decoding constraint's mask) get probability 0 and are never drawn.
 */
#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "base/status.h"

namespace {
uint64_t splitmix64(uint64_t & x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void sampler_rng::reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto & v : s) v = splitmix64(x);
}

uint64_t sampler_rng::next_u64() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sampler_rng::next_double() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

int sampler_argmax(const float * logits, int n_vocab) {
    int best = 0;
    for (int i = 1; i < n_vocab; ++i)
        if (logits[i] > logits[best]) best = i;
    return best;
}

void sampler_softmax(const float * logits, int n_vocab, float temperature, float * probs_out) {
    float mx = -INFINITY;
    for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
    double sum = 0;
    for (int i = 0; i < n_vocab; ++i) {
        float p = std::exp((logits[i] - mx) / temperature);
        probs_out[i] = p;
        sum += p;
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int i = 0; i < n_vocab; ++i) probs_out[i] *= inv;
}

int sampler_truncate(const float * probs, int n_vocab, const sampling_params & params, std::vector<int> & order) {
    order.resize(static_cast<size_t>(n_vocab));
    std::iota(order.begin(), order.end(), 0);
    const bool use_k = params.top_k > 0 && params.top_k < n_vocab;
    const bool use_p = params.top_p > 0.0f && params.top_p < 1.0f;
    if (!use_k && !use_p) return n_vocab;
    auto cmp = [&](int a, int b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); };
    if (use_k && !use_p) {
        std::partial_sort(order.begin(), order.begin() + params.top_k, order.end(), cmp);
    } else {
        std::sort(order.begin(), order.end(), cmp);
    }
    int keep = use_k ? params.top_k : n_vocab;
    if (use_p) {
        double mass = 0;
        for (int i = 0; i < keep; ++i) mass += probs[order[i]];
        double cum = 0;
        int k = 0;
        // keep the smallest prefix whose renormalised mass reaches top_p (at least one token)
        while (k < keep) {
            cum += probs[order[k]] / mass;
            ++k;
            if (cum >= params.top_p) break;
        }
        keep = k;
    }
    return keep;
}

int sampler_sample(const float * logits, int n_vocab, const sampling_params & params, sampler_rng & rng) {
    if (params.temperature <= 0.0f) return sampler_argmax(logits, n_vocab);
    std::vector<float> probs(static_cast<size_t>(n_vocab));
    sampler_softmax(logits, n_vocab, params.temperature, probs.data());
    std::vector<int> ids;
    const int keep = sampler_truncate(probs.data(), n_vocab, params, ids);
    double total = 0;
    for (int i = 0; i < keep; ++i) total += probs[ids[i]];
    double u = rng.next_double() * total;
    double cum = 0;
    int last_positive = ids[0];
    for (int i = 0; i < keep; ++i) {
        if (probs[ids[i]] <= 0.0f) continue;  // masked (-inf) logits: never drawn
        cum += probs[ids[i]];
        last_positive = ids[i];
        if (u < cum) return ids[i];
    }
    return last_positive;  // rounding left u >= cum
}

float sampler_logprob(const float * logits, int n_vocab, int32_t token) {
    float mx = -INFINITY;
    for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
    double sum = 0;
    for (int i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
    return static_cast<float>(static_cast<double>(logits[token]) - mx - std::log(sum));
}

void sampler_check_finite(const float * logits, int n_vocab) {
    // OR of "exponent all ones" over the row: vectorises, unlike an early-exit isfinite loop
    uint32_t bad = 0;
    for (int i = 0; i < n_vocab; ++i) {
        uint32_t b;
        std::memcpy(&b, logits + i, sizeof b);
        bad |= static_cast<uint32_t>((b & 0x7f800000u) == 0x7f800000u);
    }
    if (!bad) return;
    int i = 0;
    while (std::isfinite(logits[i])) ++i;
    throw engine_error(ERROR_NUMERIC, std::string("the model computed a non-finite logit (") + (std::isnan(logits[i]) ? "NaN" : "Inf") +
                                          " for token " + std::to_string(i) +
                                          "): its weights or config.json (e.g. rms_norm_eps) are broken");
}
