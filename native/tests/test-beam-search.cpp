/*
 * test-beam-search.cpp: the drafter beam search (docs/redrafter.md §2.3) against an independent,
 * literal reference of Apple's beam_search_candidates written here in double precision: every
 * beam computed at every step (no step-1 sharing), the full M x V table sorted. Tiny hand-made
 * heads (vocab 128, H 16, E 24 with input_proj, and E = 2H without; rnn and non-rnn) with random
 * weights, so there are no ties. Also: the logit processing (max-subtraction, top-50 to -50000,
 * log-softmax, ties at the 50th value kept) and the off-by-one (L counts g0).
 */
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/model.h"
#include "redrafter/beam-search.h"
#include "redrafter/drafter.h"
#include "test-util.h"

namespace {

struct tiny {
    int V, H, E, N;
    bool rnn;
    std::vector<float> embd;                    // (V, H)
    std::vector<float> w, u, ub;                // (H, H), (H, H), (H)
    std::vector<float> proj, projb;             // (E, 2H), (E)
    std::vector<std::vector<float>> rw, rb;     // N x (E, E), (E)
    std::vector<float> head;                    // (V, E)
};

tiny make_tiny(int V, int H, int E, int N, bool rnn, unsigned seed, float head_scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.f, 1.f);
    auto fill = [&](std::vector<float> & x, size_t n, float s) {
        x.resize(n);
        for (auto & v : x) v = g(rng) * s;
    };
    tiny t{V, H, E, N, rnn, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    fill(t.embd, (size_t)V * H, 1.0f);
    if (rnn) {
        fill(t.w, (size_t)H * H, 0.4f);
        fill(t.u, (size_t)H * H, 0.4f);
        fill(t.ub, H, 0.5f);
    }
    if (E != 2 * H) {
        fill(t.proj, (size_t)E * 2 * H, 0.3f);
        fill(t.projb, E, 0.2f);
    }
    t.rw.resize(N);
    t.rb.resize(N);
    for (int i = 0; i < N; ++i) {
        fill(t.rw[i], (size_t)E * E, 0.25f);
        fill(t.rb[i], E, 0.2f);
    }
    fill(t.head, (size_t)V * E, head_scale);
    return t;
}

weight_matrix wm(const std::vector<float> & x, int64_t rows, int64_t cols) {
    weight_matrix w;
    w.data = x.data();
    w.dtype = WEIGHT_F32;
    w.rows = rows;
    w.cols = cols;
    return w;
}

void bind(const tiny & t, model & base, drafter & d) {
    base.config.n_vocab = t.V;
    base.config.n_embd = t.H;
    base.tok_embd = wm(t.embd, t.V, t.H);
    base.backend = engine_backend_cpu();  // single-threaded, as the search ran before it had a backend
    base.bctx = base.backend->ctx_create(1);
    d.config = {t.V, t.H, t.E, t.N, t.rnn};
    if (t.rnn) {
        d.rnn_w = wm(t.w, t.H, t.H);
        d.rnn_u = wm(t.u, t.H, t.H);
        d.rnn_u_bias = t.ub;
    }
    if (t.E != 2 * t.H) {
        d.input_proj = wm(t.proj, t.E, 2 * t.H);
        d.input_proj_bias = t.projb;
    }
    for (int i = 0; i < t.N; ++i) {
        d.res_w.push_back(wm(t.rw[i], t.E, t.E));
        d.res_b.push_back(t.rb[i]);
    }
    d.lm_head = wm(t.head, t.V, t.E);
}

// ---- the independent reference (double precision, literal transcription of §1.3-2.3) ----
using vec = std::vector<double>;
vec linear(const std::vector<float> & W, const std::vector<float> * b, const vec & x, int out) {
    const int in = (int)x.size();
    vec y(out, 0.0);
    for (int o = 0; o < out; ++o) {
        double s = b ? (*b)[o] : 0.0;
        for (int i = 0; i < in; ++i) s += (double)W[(size_t)o * in + i] * x[i];
        y[o] = s;
    }
    return y;
}
double silu(double x) { return x / (1.0 + std::exp(-x)); }

vec ref_log_q(const tiny & t, const vec & c, const vec & s) {
    vec z(c);
    z.insert(z.end(), s.begin(), s.end());
    if (t.E != 2 * t.H) z = linear(t.proj, &t.projb, z, t.E);
    for (int i = 0; i < t.N; ++i) {
        vec l = linear(t.rw[i], &t.rb[i], z, t.E);
        for (int k = 0; k < t.E; ++k) z[k] += silu(l[k]);
    }
    vec lg = linear(t.head, nullptr, z, t.V);
    double mx = *std::max_element(lg.begin(), lg.end());
    for (auto & x : lg) x -= mx;
    vec sorted(lg);
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    double kth = sorted[std::min(50, t.V) - 1];
    double sum = 0;
    for (auto & x : lg) {
        if (x < kth) x = -50000.0;
        sum += std::exp(x);
    }
    for (auto & x : lg) x -= std::log(sum);
    return lg;
}

void ref_beam_search(const tiny & t, const vec & c, int g0, int M, int L, std::vector<int> & beams, vec & scores) {
    beams.assign((size_t)M * L, g0);
    scores.assign(M, -50000.0);
    scores[0] = 0.0;
    std::vector<vec> state(M, vec(t.H, 0.0));
    for (int step = 1; step < L; ++step) {
        std::vector<vec> lq(M);
        for (int m = 0; m < M; ++m) {
            int tok = beams[(size_t)m * L + step - 1];
            vec e(t.embd.begin() + (size_t)tok * t.H, t.embd.begin() + (size_t)(tok + 1) * t.H);
            if (t.rnn) {
                vec a = linear(t.w, nullptr, e, t.H), b = linear(t.u, &t.ub, state[m], t.H);
                for (int k = 0; k < t.H; ++k) state[m][k] = silu(a[k] + b[k]);
            } else {
                for (int k = 0; k < t.H; ++k) state[m][k] += e[k];
            }
            lq[m] = ref_log_q(t, c, state[m]);
        }
        std::vector<std::pair<double, int64_t>> cand;
        for (int m = 0; m < M; ++m)
            for (int v = 0; v < t.V; ++v) cand.push_back({scores[m] + lq[m][v], (int64_t)m * t.V + v});
        std::sort(cand.begin(), cand.end(), [](auto & a, auto & b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        std::vector<int> nb((size_t)M * L);
        std::vector<vec> ns(M);
        vec nsc(M);
        for (int k = 0; k < M; ++k) {
            int p = (int)(cand[k].second / t.V), v = (int)(cand[k].second % t.V);
            std::copy(beams.begin() + (size_t)p * L, beams.begin() + (size_t)(p + 1) * L, nb.begin() + (size_t)k * L);
            nb[(size_t)k * L + step] = v;
            ns[k] = state[p];
            nsc[k] = cand[k].first;
        }
        beams = nb;
        state = ns;
        scores = nsc;
    }
}

void compare(const char * name, const tiny & t, int M, int L, unsigned seed) {
    model base;
    drafter d;
    bind(t, base, d);
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.f, 1.f);
    std::vector<float> c(t.H);
    for (auto & x : c) x = g(rng);
    const int g0 = (int)(rng() % t.V);
    beam_search_result out;
    beam_search_ws ws;
    beam_search(d, base, c.data(), g0, M, L, out, ws);
    std::vector<int> rb;
    vec rs;
    ref_beam_search(t, vec(c.begin(), c.end()), g0, M, L, rb, rs);
    bool beams_equal = true;
    for (size_t i = 0; i < rb.size(); ++i) beams_equal = beams_equal && rb[i] == out.beams[i];
    if (!beams_equal) std::fprintf(stderr, "%s (M=%d L=%d): beams differ from the reference\n", name, M, L);
    CHECK(beams_equal);
    CHECK(out.n_beams == M && out.beam_len == L && (int)out.beams.size() == M * L);
    for (int m = 0; m < M; ++m) CHECK_CLOSE(out.scores[m], rs[m], 1e-3 + 1e-5 * std::fabs(rs[m]));
    for (int m = 0; m < M; ++m) CHECK(out.beams[(size_t)m * L] == g0);
    for (int m = 1; m < M; ++m) CHECK(out.scores[m] <= out.scores[m - 1]);
    if (M == 1) {  // the argmax shortcut (no scores) gives the same beam
        beam_search_result fast;
        beam_search(d, base, c.data(), g0, M, L, fast, ws, /*want_scores=*/false);
        CHECK(fast.beams == out.beams);
    }
}

void test_against_reference() {
    // Apple's test config: vocab 128, H 16, E 24 (input_proj), N 1; and the train.sh shape E = 2H, N = 2.
    tiny a = make_tiny(128, 16, 24, 1, true, 1, 1.0f);
    tiny b = make_tiny(128, 16, 32, 2, true, 2, 1.0f);
    tiny c = make_tiny(128, 16, 32, 2, false, 3, 1.0f);
    tiny sharp = make_tiny(128, 16, 32, 2, true, 4, 4.0f);  // peaked heads: beams share prefixes
    for (int L : {2, 3, 5}) {
        for (int M : {1, 2, 4, 8}) {
            compare("E=24 N=1 rnn", a, M, L, 10 + M * 7 + L);
            compare("E=2H N=2 rnn", b, M, L, 20 + M * 7 + L);
            compare("E=2H N=2 sum", c, M, L, 30 + M * 7 + L);
            compare("peaked", sharp, M, L, 40 + M * 7 + L);
        }
    }
    // L = 1: no drafting, M copies of [g0].
    compare("L=1", a, 3, 1, 5);
}

void test_off_by_one() {
    tiny a = make_tiny(128, 16, 24, 1, true, 9, 1.0f);
    model base;
    drafter d;
    bind(a, base, d);
    std::vector<float> c(16, 0.1f);
    beam_search_result out;
    beam_search_ws ws;
    beam_search(d, base, c.data(), 7, 4, 5, out, ws);  // L = 5 drafts 4 tokens
    CHECK(out.beam_len == 5);
    CHECK((int)out.beams.size() == 4 * 5);
    // step 1 grows beam 0 alone, so with L = 2 the M drafted tokens are distinct
    beam_search(d, base, c.data(), 7, 4, 2, out, ws);
    std::vector<int> firsts;
    for (int m = 0; m < 4; ++m) firsts.push_back(out.beams[(size_t)m * 2 + 1]);
    std::sort(firsts.begin(), firsts.end());
    CHECK(std::unique(firsts.begin(), firsts.end()) == firsts.end());
}

void test_logprobs_row() {
    // 60 entries: values 0..59 (max 59). Top-50 keeps 10..59; below the 50th largest -> -50000.
    std::vector<float> row(60), scratch;
    for (int i = 0; i < 60; ++i) row[i] = (float)i;
    float masked = topk_logprobs_row(row.data(), 60, 50, scratch);
    double lse = 0;
    for (int i = 10; i < 60; ++i) lse += std::exp((double)(i - 59));
    lse = std::log(lse);
    CHECK_CLOSE(row[59], -lse, 1e-5);
    CHECK_CLOSE(row[10], (10 - 59) - lse, 1e-4);
    CHECK(row[9] == masked);
    CHECK(row[0] == masked);
    CHECK_CLOSE(masked, -50000.0 - lse, 1e-2);
    double p = 0;
    for (int i = 0; i < 60; ++i) p += std::exp((double)row[i]);
    CHECK_CLOSE(p, 1.0, 1e-5);
    // Ties at the 50th largest value stay (strictly-below rule): 55 entries of 1.0 and 5 of 0.
    std::vector<float> tie(60, 1.0f);
    for (int i = 0; i < 5; ++i) tie[i] = 0.0f;
    topk_logprobs_row(tie.data(), 60, 50, scratch);
    CHECK_CLOSE(tie[59], -std::log(55.0), 1e-5);
    CHECK(tie[0] < -40000);
    // Fewer than 50 tokens: nothing masked.
    std::vector<float> small{1, 2, 3};
    CHECK(std::isnan(topk_logprobs_row(small.data(), 3, 50, scratch)));
}

}  // namespace

int main() {
    test_logprobs_row();
    test_off_by_one();
    test_against_reference();
    return test_summary("test-beam-search");
}
