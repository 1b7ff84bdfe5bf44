/*
 * session.cpp: forward-and-commit, truncate, prefill and the plain autoregressive step over the
 * state of session.h. ReDrafter steps live in speculate.cpp and use the same fields.
 */
#include "session.h"

#include <algorithm>

#include "base/status.h"
#include "kv-share.h"
#include "model.h"

session::~session() { session_unshare(*this, 0); }

void session_init(session & s, const model & m, int64_t max_context) {
    s.m = &m;
    kv_init(s.kv, m.backend, m.bctx, m.config.n_layer, int64_t(m.config.n_head_kv) * m.config.head_dim, max_context, SESSION_SCRATCH_SLOTS,
            m.kv_type);
    s.tokens.clear();
    s.tokens.reserve(static_cast<size_t>(std::min<int64_t>(max_context, 1 << 16)));
    s.has_pending = false;
    s.pending_hidden.assign(static_cast<size_t>(m.config.n_embd), 0.0f);
    s.logits.assign(static_cast<size_t>(m.config.n_vocab), 0.0f);
}

namespace {
void check_room(const session & s, int64_t n) {
    if (n <= 0) throw engine_error(ERROR_INVALID_ARGUMENT, "no tokens to process");
    if (s.kv.length + n > s.kv.capacity)
        throw engine_error(ERROR_INVALID_ARGUMENT, "context full: " + std::to_string(s.kv.length) + " + " +
                                                               std::to_string(n) + " tokens exceed max context " +
                                                               std::to_string(s.kv.capacity));
}
void check_tokens(const session & s, const int32_t * tokens, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= s.m->config.n_vocab)
            throw engine_error(ERROR_INVALID_ARGUMENT, "token id " + std::to_string(tokens[i]) + " at index " +
                                                                   std::to_string(i) + " is outside the vocabulary (0.." +
                                                                   std::to_string(s.m->config.n_vocab - 1) + ")");
}
}  // namespace

void session_forward(session & s, const int32_t * tokens, int64_t n, const int32_t * positions, const uint8_t * mask,
                     const int32_t * out_rows, int64_t k, float * logits_out, float * hidden_out) {
    check_room(s, n);
    check_tokens(s, tokens, n);
    // Long batches without a mask run in chunks so a prefill of thousands of tokens keeps its
    // activations small; masks and explicit positions are passed through whole.
    constexpr int64_t CHUNK = 512;
    s.has_pending = false;
    if (mask || positions) s.exact_len = std::min(s.exact_len, s.kv.length);  // not a causal continuation
    if (mask || positions || n <= CHUNK) {
        model_forward(*s.m, s.kv, tokens, n, positions, mask, out_rows, k, logits_out, hidden_out, &s.abort);
        kv_commit(s.kv, n);
        s.tokens.insert(s.tokens.end(), tokens, tokens + n);
        return;
    }
    // chunked causal prefill: rows requested from earlier chunks are computed in their chunk
    const int64_t start_len = s.kv.length;
    try {
        for (int64_t c0 = 0; c0 < n; c0 += CHUNK) {
            const int64_t cn = std::min(CHUNK, n - c0);
            std::vector<int32_t> rows;
            std::vector<int64_t> dst;
            for (int64_t r = 0; r < k; ++r)
                if (out_rows[r] >= c0 && out_rows[r] < c0 + cn) {
                    rows.push_back(static_cast<int32_t>(out_rows[r] - c0));
                    dst.push_back(r);
                }
            std::vector<float> lg(logits_out ? rows.size() * s.m->config.n_vocab : 0);
            std::vector<float> hd(hidden_out ? rows.size() * s.m->config.n_embd : 0);
            model_forward(*s.m, s.kv, tokens + c0, cn, nullptr, nullptr, rows.data(), static_cast<int64_t>(rows.size()),
                          logits_out ? lg.data() : nullptr, hidden_out ? hd.data() : nullptr, &s.abort);
            kv_commit(s.kv, cn);
            for (size_t j = 0; j < rows.size(); ++j) {
                if (logits_out)
                    std::copy(lg.begin() + j * s.m->config.n_vocab, lg.begin() + (j + 1) * s.m->config.n_vocab,
                              logits_out + dst[j] * s.m->config.n_vocab);
                if (hidden_out)
                    std::copy(hd.begin() + j * s.m->config.n_embd, hd.begin() + (j + 1) * s.m->config.n_embd,
                              hidden_out + dst[j] * s.m->config.n_embd);
            }
        }
    } catch (...) {
        kv_truncate(s.kv, start_len);  // all or nothing
        throw;
    }
    s.tokens.insert(s.tokens.end(), tokens, tokens + n);
}

void session_truncate(session & s, int64_t length) {
    if (length < 0 || length > s.kv.length)
        throw engine_error(ERROR_INVALID_ARGUMENT, "truncate length " + std::to_string(length) +
                                                               " is outside 0.." + std::to_string(s.kv.length));
    if (length < s.kv.shared) session_unshare(s, length);  // the blocks past length go back to the pool
    kv_truncate(s.kv, length);
    if (length <= s.exact_len) s.exact_len = INT64_MAX;  // what was not exact is gone
    s.tokens.resize(static_cast<size_t>(length));
    s.has_pending = false;
}

int64_t session_reusable_prefix(const session & s, const int32_t * prompt, int64_t n) {
    const int64_t have = static_cast<int64_t>(s.tokens.size());
    int64_t k = 0;
    while (k < have && k < n && s.tokens[static_cast<size_t>(k)] == prompt[k]) ++k;
    return std::max<int64_t>(0, std::min(k, n - 1));
}

namespace {
// Checks the row, applies the constraint, picks the token.
int32_t choose(session & s, const constraint_state & cs) {
    const int V = s.m->config.n_vocab;
    sampler_check_finite(s.logits.data(), V);
    constraint_mask_logits(cs, s.logits.data(), V, s.mask_ids, s.mask_saved);
    const int32_t t = sampler_sample(s.logits.data(), V, s.sampling, s.rng);
    if (s.want_logprobs) s.pending_logprob = sampler_logprob(s.logits.data(), V, t);
    return t;
}
}  // namespace

int32_t session_prefill(session & s, const int32_t * tokens, int64_t n, const sampling_params & params,
                        const constraint_state & cs) {
    s.sampling = params;
    s.rng.reseed(params.seed);
    const int32_t last = static_cast<int32_t>(n - 1);
    session_forward(s, tokens, n, nullptr, nullptr, &last, 1, s.logits.data(), s.pending_hidden.data());
    s.pending_token = choose(s, cs);
    s.has_pending = true;
    return s.pending_token;
}

int32_t session_step_ar(session & s, const constraint_state & cs) {
    if (!s.has_pending) throw engine_error(ERROR_INVALID_ARGUMENT, "step without a prefill: no pending token");
    check_room(s, 1);
    const int32_t g0 = s.pending_token;
    const int32_t row = 0;
    model_forward(*s.m, s.kv, &g0, 1, nullptr, nullptr, &row, 1, s.logits.data(), s.pending_hidden.data(), &s.abort);
    const int32_t next = choose(s, cs);  // may throw (NUMERIC): nothing committed then
    kv_commit(s.kv, 1);
    s.tokens.push_back(g0);
    s.pending_token = next;
    return s.pending_token;
}
