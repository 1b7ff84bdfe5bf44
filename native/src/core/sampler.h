/*
 * sampler.h: token selection from logits: greedy (temperature 0), or temperature sampling with
 * optional top-k and top-p, driven by a seeded RNG so a (seed, logits sequence) always gives the
 * same tokens. Also the softmax-with-temperature helper the ReDrafter acceptance uses.
 */
#pragma once
#include <cstdint>
#include <vector>

struct sampling_params {
    float temperature = 0.0f;  // 0 = greedy (argmax, ties -> lowest id)
    int top_k = 0;             // 0 = all
    float top_p = 1.0f;        // 1 = all
    uint64_t seed = 0;
};

// splitmix64-seeded xoshiro256**: fast, reproducible across platforms.
struct sampler_rng {
    uint64_t s[4];
    explicit sampler_rng(uint64_t seed = 0) { reseed(seed); }
    void reseed(uint64_t seed);
    uint64_t next_u64();
    double next_double();  // [0, 1)
};

int sampler_argmax(const float * logits, int n_vocab);
// probs_out: (n_vocab) = softmax(logits / temperature); temperature > 0.
void sampler_softmax(const float * logits, int n_vocab, float temperature, float * probs_out);
// The top-k / top-p filter shared by sampling and ReDrafter acceptance. probs: (n_vocab). Fills
// order (n_vocab) with token ids sorted by probability (descending, ties by lowest id) as far as
// the filter needs, and returns how many leading entries it keeps (at least one; n_vocab, with
// order the identity, when neither filter applies).
int sampler_truncate(const float * probs, int n_vocab, const sampling_params & params, std::vector<int> & order);
// Picks one token per params. logits: (n_vocab), finite or -inf (masked: never picked), not all -inf.
int sampler_sample(const float * logits, int n_vocab, const sampling_params & params, sampler_rng & rng);
// log p(token) under softmax(logits) at temperature 1 (natural log; -inf logits count as p = 0): the
// model's own confidence in a chosen token, whatever the sampling params. logits: (n_vocab).
float sampler_logprob(const float * logits, int n_vocab, int32_t token);
// Throws engine_error(NUMERIC) when a logit is NaN or +-Inf (a broken model; docs/engine.md).
// logits: (n_vocab), as the forward computed them (before any mask).
void sampler_check_finite(const float * logits, int n_vocab);
