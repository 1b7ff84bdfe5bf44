/*
 * test-masked-forward.cpp: a batched forward over a token tree (explicit positions, ancestor-only
 * mask) gives each node the logits and hidden state of running its root-to-node path alone after
 * the same prefix, also when only some rows are asked for; kv_commit_rows of one path leaves the cache as if that path had been run
 * plainly (the next token's logits agree); a chunked long prefill equals token-by-token decoding.
 */
#include <cmath>
#include <vector>

#include "core/kv-cache.h"
#include "core/model.h"
#include "core/session.h"
#include "test-util.h"
#include "tiny-model.h"

namespace {

double max_diff(const float * a, const float * b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
    return m;
}

void run(const tiny_spec & spec) {
    const std::string dir = write_tiny_model(spec, 7);
    model_load_params lp;
    lp.n_threads = 2;
    auto m = model_load(dir, lp);
    const int V = m->config.n_vocab, H = m->config.n_embd;
    const std::vector<int32_t> prefix = {1, 5, 9, 3};
    // tree: parents (-1 = after the prefix), tokens
    const std::vector<int> parent = {-1, 0, 0, 1, 1, 2, 3};
    const std::vector<int32_t> tok = {11, 12, 13, 14, 15, 16, 17};
    const int n = static_cast<int>(tok.size());
    const int P = static_cast<int>(prefix.size());
    std::vector<int> depth(n);
    for (int i = 0; i < n; ++i) depth[i] = parent[i] < 0 ? 0 : depth[parent[i]] + 1;

    session s;
    session_init(s, *m, 64);
    session_forward(s, prefix.data(), P, nullptr, nullptr, nullptr, 0, nullptr, nullptr);
    std::vector<int32_t> pos(n), rows(n);
    std::vector<uint8_t> mask(static_cast<size_t>(n) * (P + n), 0);
    for (int i = 0; i < n; ++i) {
        pos[i] = P + depth[i];
        rows[i] = i;
        for (int j = 0; j < P; ++j) mask[i * (P + n) + j] = 1;
        for (int a = i; a >= 0; a = parent[a]) mask[i * (P + n) + P + a] = 1;
    }
    std::vector<float> logits(static_cast<size_t>(n) * V), hidden(static_cast<size_t>(n) * H);
    model_forward(*m, s.kv, tok.data(), n, pos.data(), mask.data(), rows.data(), n, logits.data(), hidden.data(), nullptr);

    // asking for a subset of rows (the last layer then runs on those rows only) gives the same rows
    {
        kv_truncate(s.kv, P);
        const std::vector<int32_t> some = {6, 2, 6};
        std::vector<float> lg(some.size() * V), hd(some.size() * H);
        model_forward(*m, s.kv, tok.data(), n, pos.data(), mask.data(), some.data(), 3, lg.data(), hd.data(), nullptr);
        for (size_t j = 0; j < some.size(); ++j) {
            CHECK(max_diff(lg.data() + j * V, logits.data() + static_cast<size_t>(some[j]) * V, V) <= 1e-5);
            CHECK(max_diff(hd.data() + j * H, hidden.data() + static_cast<size_t>(some[j]) * H, H) <= 1e-5);
        }
    }

    for (int i = 0; i < n; ++i) {
        std::vector<int32_t> path;
        for (int a = i; a >= 0; a = parent[a]) path.insert(path.begin(), tok[a]);
        session p;
        session_init(p, *m, 64);
        std::vector<int32_t> all = prefix;
        all.insert(all.end(), path.begin(), path.end());
        const int32_t last = static_cast<int32_t>(all.size()) - 1;
        std::vector<float> lg(V), hd(H);
        session_forward(p, all.data(), static_cast<int64_t>(all.size()), nullptr, nullptr, &last, 1, lg.data(), hd.data());
        const double dl = max_diff(lg.data(), logits.data() + static_cast<size_t>(i) * V, V);
        const double dh = max_diff(hd.data(), hidden.data() + static_cast<size_t>(i) * H, H);
        if (dl > 1e-4 || dh > 1e-4) std::fprintf(stderr, "%s node %d: logits diff %g, hidden diff %g\n", spec.arch.c_str(), i, dl, dh);
        CHECK(dl <= 1e-4);
        CHECK(dh <= 1e-4);
    }

    // commit the path to node 6 (0 -> 1 -> 3 -> 6), then the next token sees exactly that path
    const std::vector<int32_t> keep = {0, 1, 3, 6};
    kv_commit_rows(s.kv, keep.data(), static_cast<int64_t>(keep.size()));
    CHECK(s.kv.length == P + 4);
    const int32_t next = 20, row0 = 0;
    std::vector<float> a(V), b(V);
    model_forward(*m, s.kv, &next, 1, nullptr, nullptr, &row0, 1, a.data(), nullptr, nullptr);
    session q;
    session_init(q, *m, 64);
    std::vector<int32_t> seq = prefix;
    for (int k : keep) seq.push_back(tok[k]);
    seq.push_back(next);
    const int32_t lastq = static_cast<int32_t>(seq.size()) - 1;
    session_forward(q, seq.data(), static_cast<int64_t>(seq.size()), nullptr, nullptr, &lastq, 1, b.data(), nullptr);
    CHECK(max_diff(a.data(), b.data(), V) <= 1e-4);

    // kv_truncate then recompute gives the same logits
    kv_truncate(s.kv, P);
    model_forward(*m, s.kv, tok.data(), 1, nullptr, nullptr, &row0, 1, a.data(), nullptr, nullptr);
    CHECK(max_diff(a.data(), logits.data(), V) <= 1e-4);
    remove_dir(dir);
}

}  // namespace

int main() {
    tiny_spec llama;
    run(llama);
    tiny_spec qwen;
    qwen.arch = "qwen2";
    qwen.bias = true;
    qwen.tie = false;
    qwen.kv_heads = 4;
    run(qwen);
    tiny_spec bf;
    bf.bf16 = true;
    bf.kv_heads = 1;
    run(bf);

    // a long causal prefill (chunked past 512 tokens) equals the same tokens fed one at a time
    tiny_spec big;
    const std::string dir = write_tiny_model(big, 3);
    model_load_params lp;
    lp.n_threads = 2;
    auto m = model_load(dir, lp);
    const int V = m->config.n_vocab;
    session a, b;
    session_init(a, *m, 700);
    session_init(b, *m, 700);
    std::vector<int32_t> toks(600);
    for (int i = 0; i < 600; ++i) toks[i] = (i * 7 + 3) % V;
    const int32_t rows[2] = {100, 599};
    std::vector<float> la(2 * V), lb(V);
    session_forward(a, toks.data(), 600, nullptr, nullptr, rows, 2, la.data(), nullptr);
    for (int i = 0; i < 600; ++i) {
        const int32_t r0 = 0;
        session_forward(b, &toks[i], 1, nullptr, nullptr, &r0, 1, lb.data(), nullptr);
        if (i == 100) CHECK(max_diff(la.data(), lb.data(), V) <= 1e-4);
    }
    CHECK(max_diff(la.data() + V, lb.data(), V) <= 1e-4);
    CHECK(a.kv.length == 600 && b.kv.length == 600);
    remove_dir(dir);
    return test_summary("test-masked-forward");
}
