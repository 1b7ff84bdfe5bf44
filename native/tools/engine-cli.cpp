/*
 * engine-cli.cpp: the engine's C++ command line, for benchmarks and device checks on machines
 * without Node (the GPU machine). Subcommands grow with the engine; results go to stdout here
 * because this program is not a language server.
 */
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine-redrafter.h"

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int cmd_backends() {
    engine_backend_report reports[8];
    int n = engine_backends(reports, 8);
    for (int i = 0; i < n && i < 8; ++i) {
        std::printf("%-6s %-11s %s\n", reports[i].name, reports[i].available ? "available" : "unavailable",
                    reports[i].detail);
    }
    return 0;
}

struct cli_args {
    std::string model;
    std::vector<int32_t> ids = {1};
    int n = 64;
    int threads = 2;
    int ctx = 300;  // forward-curve: committed context before each timed forward
    std::string drafter;  // generate: ReDrafter rounds with this drafter
    int beams = 0, beam_len = 0;  // generate --drafter: 0 = the backend defaults
    int lookup = 0;                 // generate: lookup draft tokens per round (0 = off)
    int min_ngram = 0, max_ngram = 0, lookup_drafts = 0;  // generate --lookup: 0 = the engine's defaults
    std::string weights;  // --weights bf16 | q8_0 | q4_0 (empty: as stored)
    std::string kv;       // --kv f32 | bf16 (empty: the model's K/V dtype)
    int branches = 3;     // branches: B samples side by side
    int rounds = 5;       // branches: timed rounds
};

bool parse(int argc, char ** argv, cli_args & a) {
    if (argc < 3) return false;
    a.model = argv[2];
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--ids")) {
            a.ids.clear();
            for (char * p = argv[i + 1]; *p;) {
                a.ids.push_back(static_cast<int32_t>(std::strtol(p, &p, 10)));
                if (*p == ',') ++p;
            }
        } else if (!std::strcmp(argv[i], "--n")) {
            a.n = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--weights")) {
            a.weights = argv[i + 1];
        } else if (!std::strcmp(argv[i], "--kv")) {
            a.kv = argv[i + 1];
        } else if (!std::strcmp(argv[i], "--threads")) {
            a.threads = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--ctx")) {
            a.ctx = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--drafter")) {
            a.drafter = argv[i + 1];
        } else if (!std::strcmp(argv[i], "--beams")) {
            a.beams = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--beam-length")) {
            a.beam_len = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--lookup")) {
            a.lookup = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--min-ngram")) {
            a.min_ngram = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--max-ngram")) {
            a.max_ngram = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--lookup-drafts")) {
            a.lookup_drafts = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--branches")) {
            a.branches = std::atoi(argv[i + 1]);
        } else if (!std::strcmp(argv[i], "--rounds")) {
            a.rounds = std::atoi(argv[i + 1]);
        } else {
            return false;
        }
    }
    return !a.ids.empty() && a.n > 0 && a.threads > 0 && a.ctx >= 0 && a.branches >= 1 && a.branches <= ENGINE_MAX_BRANCHES &&
           a.rounds >= 1;
}

engine_model * load(const cli_args & a, double * seconds) {
    engine_model_params p = engine_model_default_params();
    p.n_threads = a.threads;
    if (!a.weights.empty()) p.weights = a.weights.c_str();
    if (!a.kv.empty()) p.kv = a.kv.c_str();
    engine_model * m = nullptr;
    char err[1024];
    double t0 = now_s();
    if (engine_model_init(a.model.c_str(), &p, &m, err, sizeof(err)) != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: %s\n", err);
        return nullptr;
    }
    if (seconds) *seconds = now_s() - t0;
    return m;
}

// Greedy generation of --n tokens after --ids (no stop tokens) through the engine's decode loop
// (engine_generation), plain or with --drafter, with or without --lookup drafts; prints the ids and
// the speed (and the rounds' figures).
int cmd_generate(const cli_args & a) {
    engine_model * m = load(a, nullptr);
    if (!m) return 1;
    char err[1024];
    engine_drafter * d = nullptr;
    if (!a.drafter.empty() && engine_drafter_init(a.drafter.c_str(), m, &d, err, sizeof(err)) != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: %s\n", err);
        engine_model_free(m);
        return 1;
    }
    engine_session * s = nullptr;
    const engine_status si = engine_session_init(m, static_cast<int>(a.ids.size()) + a.n + 8, &s, err, sizeof(err));
    if (si != ENGINE_STATUS_OK) { std::fprintf(stderr, "engine-cli: cannot create a session (%s): %s\n", engine_status_code(si), err); engine_model_free(m); return 1; }
    engine_generation_params gp = engine_generation_default_params();
    gp.prompt = a.ids.data();
    gp.n_prompt = static_cast<int>(a.ids.size());
    gp.max_tokens = a.n;
    if (d) {
        gp.mode = ENGINE_DECODE_REDRAFTER;
        gp.drafter = d;
        gp.n_beams = a.beams;
        gp.beam_len = a.beam_len;
    }
    gp.lookup_tokens = a.lookup;
    gp.lookup_min_ngram = a.min_ngram;
    gp.lookup_max_ngram = a.max_ngram;
    gp.lookup_max_drafts = a.lookup_drafts;
    std::vector<int32_t> out;
    std::vector<int32_t> buf(64);
    engine_generation * g = nullptr;
    engine_status st = engine_generation_init(s, &gp, &g, err, sizeof(err));
    double t0 = now_s();
    engine_done done = ENGINE_DONE_NOT;
    while (st == ENGINE_STATUS_OK && done == ENGINE_DONE_NOT) {
        int n = 0;
        st = engine_generation_step(g, buf.data(), static_cast<int>(buf.size()), &n, &done, nullptr);
        out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    double dt = now_s() - t0;
    if (st != ENGINE_STATUS_OK) std::fprintf(stderr, "engine-cli: %s\n", g ? engine_session_last_error(s) : err);
    for (size_t i = 0; i < out.size(); ++i) std::printf("%s%d", i ? "," : "", out[i]);
    std::printf("\n%d tokens in %.1f ms (%.1f tok/s, prefill included)\n", static_cast<int>(out.size()), dt * 1e3, out.size() / dt);
    if (g && (d || a.lookup > 0)) {
        engine_generation_stats gs;
        engine_generation_get_stats(g, &gs);
        std::printf("%s: %d rounds, %d forward passes, %.2f tokens per forward pass, mean tree %.1f nodes, lookup_accepted %lld, "
                    "accepted drafts histogram",
                    d ? (a.lookup > 0 ? "redrafter+lookup" : "redrafter") : "lookup", gs.rounds, gs.forward_passes,
                    double(gs.emitted) / gs.forward_passes, gs.rounds ? double(gs.tree_nodes) / gs.rounds : 0.0,
                    static_cast<long long>(gs.lookup_accepted));
        int last = 0;
        for (int i = 0; i < ENGINE_ACCEPTED_HISTOGRAM; ++i)
            if (gs.accepted_histogram[i]) last = i;
        for (int i = 0; i <= last; ++i) std::printf(" %lld", static_cast<long long>(gs.accepted_histogram[i]));
        std::printf("\n");
    }
    engine_generation_free(g);
    engine_session_free(s);
    engine_drafter_free(d);
    engine_model_free(m);
    return st == ENGINE_STATUS_OK ? 0 : 1;
}

// The engine benchmark without Node: prefill, decode against the roofline, forward cost over N.
// The machine is shared, so its DRAM bandwidth moves from second to second: each decode round is
// paired with a bandwidth probe taken just before it, and the fraction of the roofline is the
// median over rounds of (decode tok/s) / (that round's bandwidth / bytes per token). The N-curve is
// taken in rounds over all N (best per N over rounds), so every N sees the same stretch of time.
int cmd_bench(const cli_args & a) {
    double load_s = 0;
    engine_model * m = load(a, &load_s);
    if (!m) return 1;
    engine_model_info info;
    engine_model_get_info(m, &info);
    std::printf("kernels %s, %s weights, %s K/V\n", info.kernel_path, info.compute_dtype, info.kv_dtype);
    const double embed = double(info.n_vocab) * info.n_embd * (std::strcmp(info.compute_dtype, "bf16") ? 4 : 2);
    const double bytes = info.tie_word_embeddings ? double(info.weight_bytes) : double(info.weight_bytes) - embed;
    engine_session * s = nullptr;
    char session_err[512] = {0};
    if (engine_session_init(m, 1024, &s, session_err, sizeof session_err) != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: session init failed: %s\n", session_err);
        engine_model_free(m);
        return 1;
    }
    const int lo = std::min(300, info.n_vocab / 4), span = std::max(1, info.n_vocab / 2 - lo);
    std::vector<int32_t> toks(512);
    for (int i = 0; i < 512; ++i) toks[static_cast<size_t>(i)] = lo + (i * 7919) % span;
    std::vector<float> logits(64 * static_cast<size_t>(info.n_vocab));
    double prefill = 1e9;
    for (int r = 0; r < 3; ++r) {
        engine_session_truncate(s, 0);
        double t0 = now_s();
        engine_session_forward(s, toks.data(), 512, nullptr, nullptr, nullptr, 1, logits.data(), nullptr);
        prefill = std::min(prefill, now_s() - t0);
    }
    const int rounds = 5, steps = std::max(8, a.n / 2);
    std::vector<double> fractions;
    double decode = 1e9, bw_best = 0;
    for (int r = 0; r < rounds; ++r) {
        const double bw = engine_bench_read_bandwidth(256u << 20, a.threads, 3);
        engine_session_truncate(s, 0);
        engine_sampling greedy{0.0f, 0, 1.0f, 0};
        int32_t t;
        engine_session_prefill(s, toks.data(), 16, &greedy, &t);
        double t0 = now_s();
        for (int i = 0; i < steps; ++i) {
            int n_out;
            engine_session_step(s, &t, 1, &n_out);
        }
        const double per = (now_s() - t0) / steps;
        decode = std::min(decode, per);
        bw_best = std::max(bw_best, bw);
        fractions.push_back((1 / per) / (bw * 1e9 / bytes));
        std::printf("round %d: bandwidth %.1f GB/s, decode %.1f tok/s = %.1f%% of that roofline\n", r + 1, bw, 1 / per,
                    100 * fractions.back());
    }
    std::sort(fractions.begin(), fractions.end());
    std::printf("load %.0f ms, weights %.1f MB, bandwidth %.1f GB/s (best round), roofline %.1f tok/s\n", load_s * 1e3,
                info.weight_bytes / 1e6, bw_best, bw_best * 1e9 / bytes);
    std::printf("prefill 512: %.1f tok/s; decode: %.1f tok/s (median %.1f%% of the paired roofline)\n", 512 / prefill,
                1 / decode, 100.0 * fractions[fractions.size() / 2]);
    engine_session_truncate(s, 0);
    engine_session_forward(s, toks.data(), 64, nullptr, nullptr, nullptr, 1, logits.data(), nullptr);
    std::vector<int32_t> rows(64);
    for (int i = 0; i < 64; ++i) rows[static_cast<size_t>(i)] = i;
    const int ns[] = {1, 2, 4, 8, 16, 32, 64};
    std::vector<double> best(7, 1e9);
    for (int r = 0; r < 8; ++r) {  // round 0 warms up
        for (int j = 0; j < 7; ++j) {
            double t0 = now_s();
            engine_session_forward(s, toks.data() + 100, ns[j], nullptr, nullptr, rows.data(), ns[j], logits.data(), nullptr);
            if (r > 0) best[static_cast<size_t>(j)] = std::min(best[static_cast<size_t>(j)], now_s() - t0);
            engine_session_truncate(s, 64);
        }
    }
    for (int j = 0; j < 7; ++j)
        std::printf("forward N=%-2d %8.2f ms  %.2fx N=1\n", ns[j], best[static_cast<size_t>(j)] * 1e3, best[static_cast<size_t>(j)] / best[0]);
    engine_session_free(s);
    engine_model_free(m);
    return 0;
}

// The cost of one forward of N tokens (logits for every row, what a draft verification needs)
// after a committed context of --ctx tokens, N = 1..16, in C++ (no per-call Node overhead):
// best batch of 10 forwards out of --n / 10 batches (default 64 -> 6), relative to N = 1.
int cmd_forward_curve(const cli_args & a) {
    engine_model * m = load(a, nullptr);
    if (!m) return 1;
    engine_model_info info;
    engine_model_get_info(m, &info);
    engine_session * s = nullptr;
    char session_err[512] = {0};
    if (engine_session_init(m, a.ctx + 64, &s, session_err, sizeof session_err) != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: session init failed: %s\n", session_err);
        engine_model_free(m);
        return 1;
    }
    const int lo = std::min(300, info.n_vocab / 4), span = std::max(1, info.n_vocab / 2 - lo);
    std::vector<int32_t> toks(static_cast<size_t>(a.ctx) + 16);
    for (size_t i = 0; i < toks.size(); ++i) toks[i] = lo + static_cast<int32_t>((i * 7919) % static_cast<size_t>(span));
    std::vector<float> logits(16 * static_cast<size_t>(info.n_vocab));
    std::vector<int32_t> rows(16);
    for (int i = 0; i < 16; ++i) rows[static_cast<size_t>(i)] = i;
    engine_status st = ENGINE_STATUS_OK;
    if (a.ctx > 0) st = engine_session_forward(s, toks.data(), a.ctx, nullptr, nullptr, nullptr, 1, logits.data(), nullptr);
    const int batches = std::max(1, a.n / 10);
    std::printf("model %s, %d threads, context %d, %s K/V, best of %d x 10 forwards\n", a.model.c_str(), a.threads, a.ctx,
                info.kv_dtype, batches);
    double base = 0;
    for (int n : {1, 2, 3, 4, 5, 6, 8, 12, 16}) {
        double best = 1e9;
        for (int b = 0; b <= batches && st == ENGINE_STATUS_OK; ++b) {  // batch 0 warms up
            double t0 = now_s();
            for (int r = 0; r < 10 && st == ENGINE_STATUS_OK; ++r) {
                st = engine_session_forward(s, toks.data() + a.ctx, n, nullptr, nullptr, rows.data(), n, logits.data(), nullptr);
                if (st == ENGINE_STATUS_OK) st = engine_session_truncate(s, a.ctx);
            }
            if (b > 0) best = std::min(best, (now_s() - t0) / 10);
        }
        if (st != ENGINE_STATUS_OK) break;
        if (n == 1) base = best;
        std::printf("forward N=%-2d %8.3f ms  %.2fx N=1\n", n, best * 1e3, best / base);
    }
    if (st != ENGINE_STATUS_OK) std::fprintf(stderr, "engine-cli: %s\n", engine_session_last_error(s));
    engine_session_free(s);
    engine_model_free(m);
    return st == ENGINE_STATUS_OK ? 0 : 1;
}

// K/V dtype A/B at a long context: two copies of the model, one with f32 K/V and one with bf16,
// each prefills the same ctx tokens, then they decode n greedy tokens taking turns step by step
// (so machine noise hits both alike). Reports each one's prefill and decode speed, their ratio,
// and whether the greedy ids agree (they need not: bf16 K/V round K and V).
int cmd_kv_ab(const cli_args & a) {
    cli_args af = a, ab = a;
    af.kv = "f32";
    ab.kv = "bf16";
    engine_model * mf = load(af, nullptr);
    engine_model * mb = mf ? load(ab, nullptr) : nullptr;
    if (!mf || !mb) {
        engine_model_free(mf);
        return 1;
    }
    engine_model_info info;
    engine_model_get_info(mf, &info);
    engine_session *sf = nullptr, *sb = nullptr;
    char session_err[512] = {0};
    if (engine_session_init(mf, a.ctx + a.n + 8, &sf, session_err, sizeof session_err) != ENGINE_STATUS_OK ||
        engine_session_init(mb, a.ctx + a.n + 8, &sb, session_err, sizeof session_err) != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: session init failed (context %d): %s\n", a.ctx + a.n + 8, session_err);
        engine_session_free(sf);
        engine_model_free(mf);
        engine_model_free(mb);
        return 1;
    }
    const int lo = std::min(300, info.n_vocab / 4), span = std::max(1, info.n_vocab / 2 - lo);
    std::vector<int32_t> toks(static_cast<size_t>(std::max(1, a.ctx)));
    for (size_t i = 0; i < toks.size(); ++i) toks[i] = lo + static_cast<int32_t>((i * 7919) % static_cast<size_t>(span));
    engine_sampling greedy{0.0f, 0, 1.0f, 0};
    engine_session * ss[2] = {sf, sb};
    double prefill[2] = {0, 0}, decode[2] = {0, 0};
    std::vector<int32_t> ids[2];
    engine_status st = ENGINE_STATUS_OK;
    for (int k = 0; k < 2 && st == ENGINE_STATUS_OK; ++k) {
        int32_t g0 = -1;
        const double t0 = now_s();
        st = engine_session_prefill(ss[k], toks.data(), static_cast<int>(toks.size()), &greedy, &g0);
        prefill[k] = now_s() - t0;
        ids[k].push_back(g0);
    }
    for (int i = 0; i < a.n && st == ENGINE_STATUS_OK; ++i)
        for (int k = 0; k < 2 && st == ENGINE_STATUS_OK; ++k) {
            int32_t out[4];
            int n_out = 0;
            const double t0 = now_s();
            st = engine_session_step(ss[k], out, 4, &n_out);
            decode[k] += now_s() - t0;
            ids[k].insert(ids[k].end(), out, out + n_out);
        }
    if (st != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: %s\n", engine_status_code(st));
    } else {
        std::printf("model %s, %d threads, context %d, then %d greedy decode steps (the two models take turns)\n", a.model.c_str(),
                    a.threads, a.ctx, a.n);
        const char * names[2] = {"f32 ", "bf16"};
        for (int k = 0; k < 2; ++k)
            std::printf("%s K/V: %llu bytes/token, prefill %.1f tok/s, decode %.2f ms/token (%.1f tok/s)\n", names[k],
                        static_cast<unsigned long long>(2ull * info.n_layer * info.n_head_kv * info.head_dim * (k ? 2 : 4)),
                        a.ctx / prefill[k], decode[k] / a.n * 1e3, a.n / decode[k]);
        size_t same = 0;
        while (same < ids[0].size() && same < ids[1].size() && ids[0][same] == ids[1][same]) ++same;
        std::printf("decode time bf16 / f32: %.3f; prefill time bf16 / f32: %.3f; greedy ids agree on the first %zu of %zu\n",
                    decode[1] / decode[0], prefill[1] / prefill[0], same, ids[0].size());
    }
    engine_session_free(sf);
    engine_session_free(sb);
    engine_model_free(mf);
    engine_model_free(mb);
    return st == ENGINE_STATUS_OK ? 0 : 1;
}

// Runs one generation to its end: the tokens of each of its branches (one list without branches).
engine_status run_to_end(engine_session * s, const engine_generation_params & gp, std::vector<std::vector<int32_t>> & ids) {
    const int B = std::max(1, gp.n_branches);
    ids.assign(static_cast<size_t>(B), {});
    engine_generation * g = nullptr;
    char err[1024];
    engine_status st = engine_generation_init(s, &gp, &g, err, sizeof err);
    if (st != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: %s\n", err);
        return st;
    }
    int32_t buf[ENGINE_STEP_MAX_TOKENS], which[ENGINE_STEP_MAX_TOKENS];
    engine_done done = ENGINE_DONE_NOT;
    while (st == ENGINE_STATUS_OK && done == ENGINE_DONE_NOT) {
        int n = 0;
        st = engine_generation_step(g, buf, ENGINE_STEP_MAX_TOKENS, &n, &done, nullptr);
        const int nb = engine_generation_step_branches(g, which, ENGINE_STEP_MAX_TOKENS);
        for (int i = 0; i < n; ++i) ids[static_cast<size_t>(nb ? which[i] : 0)].push_back(buf[i]);
    }
    if (st != ENGINE_STATUS_OK) std::fprintf(stderr, "engine-cli: %s\n", engine_session_last_error(s));
    engine_generation_free(g);
    return st;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// An invoked completion's alternatives two ways on one session, as the server runs them (each
// generation reusing the resident prompt): B sampled plain generations one after another
// (temperature 0.8, seeds 1..B, N tokens each, no stop tokens) against ONE generation of B branches
// with the same seeds (docs/engine.md, "Branches"), taking turns for R rounds (the order swapped
// every round). Prints each round's times, the medians and their ratio; exits 1 unless every
// branch equals its plain generation.
int cmd_branches(const cli_args & a) {
    engine_model * m = load(a, nullptr);
    if (!m) return 1;
    engine_model_info info;
    engine_model_get_info(m, &info);
    const int B = a.branches, P = std::max(1, a.ctx);
    engine_session * s = nullptr;
    char err[512] = {0};
    if (engine_session_init(m, P + B * a.n + 8, &s, err, sizeof err) != ENGINE_STATUS_OK) {
        std::fprintf(stderr, "engine-cli: session init failed: %s\n", err);
        engine_model_free(m);
        return 1;
    }
    const int lo = std::min(300, info.n_vocab / 4), span = std::max(1, info.n_vocab / 2 - lo);
    std::vector<int32_t> prompt(static_cast<size_t>(P));
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = lo + static_cast<int32_t>((i * 7919) % static_cast<size_t>(span));
    std::vector<engine_sampling> sp;
    for (int b = 0; b < B; ++b) sp.push_back(engine_sampling{0.8f, 0, 1.0f, static_cast<uint64_t>(b + 1)});
    engine_generation_params one = engine_generation_default_params();
    one.prompt = prompt.data();
    one.n_prompt = P;
    one.max_tokens = a.n;
    engine_generation_params all = one;
    all.branches = sp.data();
    all.n_branches = B;
    std::printf("model %s, %s weights, %s K/V, %d threads; prompt %d tokens (resident), %d alternatives x %d tokens, %d rounds\n",
                a.model.c_str(), info.compute_dtype, info.kv_dtype, a.threads, P, B, a.n, a.rounds);
    std::vector<std::vector<int32_t>> ids, seq_ids(static_cast<size_t>(B)), br_ids;
    engine_status st = run_to_end(s, one, ids);  // warm up; the prompt becomes resident
    std::vector<double> seq_ms, br_ms, ratios;
    bool same = true;
    for (int r = 0; r < a.rounds && st == ENGINE_STATUS_OK; ++r) {
        double t_seq = 0, t_br = 0;
        for (int k = 0; k < 2 && st == ENGINE_STATUS_OK; ++k) {
            if ((k == 0) == (r % 2 == 0)) {  // B plain generations, one after another
                const double t0 = now_s();
                for (int b = 0; b < B && st == ENGINE_STATUS_OK; ++b) {
                    one.sampling = sp[static_cast<size_t>(b)];
                    st = run_to_end(s, one, ids);
                    if (st == ENGINE_STATUS_OK) seq_ids[static_cast<size_t>(b)] = ids[0];
                }
                t_seq = now_s() - t0;
            } else {  // one generation of B branches
                const double t0 = now_s();
                st = run_to_end(s, all, br_ids);
                t_br = now_s() - t0;
            }
        }
        if (st != ENGINE_STATUS_OK) break;
        same = same && br_ids == seq_ids;
        seq_ms.push_back(t_seq * 1e3);
        br_ms.push_back(t_br * 1e3);
        ratios.push_back(t_br / t_seq);
        std::printf("round %d: %d plain generations %.2f ms, %d branches %.2f ms, ratio %.3f%s\n", r + 1, B, t_seq * 1e3, B, t_br * 1e3,
                    t_br / t_seq, br_ids == seq_ids ? "" : "  OUTPUTS DIFFER");
    }
    if (st == ENGINE_STATUS_OK) {
        std::printf("median: %d plain generations %.2f ms, %d branches %.2f ms, branches / plain %.3f (median of the rounds' ratios %.3f)\n",
                    B, median(seq_ms), B, median(br_ms), median(br_ms) / median(seq_ms), median(ratios));
        std::printf("outputs: %s\n", same ? "every branch equals its plain generation" : "DIFFER");
    }
    engine_session_free(s);
    engine_model_free(m);
    return st == ENGINE_STATUS_OK && same ? 0 : 1;
}

void usage(FILE * out) {
    std::fprintf(out,
                 "usage: engine-cli <command> [args]\n"
                 "commands:\n"
                 "  backends                                   list the compute backends and why any is unavailable\n"
                 "  generate DIR [--ids 1,2] [--n N] [--threads T] [--weights bf16|q8_0|q4_0] [--drafter D [--beams M] [--beam-length L]]\n"
                 "           [--lookup K [--min-ngram A] [--max-ngram B] [--lookup-drafts D]]\n"
                 "                                             greedy tokens after --ids, with tok/s (ReDrafter with --drafter; lookup\n"
                 "                                             drafts of K tokens at most with --lookup: rounds, lookup_accepted)\n"
                 "  bench DIR [--n N] [--threads T] [--weights W]          bandwidth, prefill 512, decode N tokens, forward cost curve\n"
                 "  forward-curve DIR [--ctx L] [--n R] [--threads T] [--weights W]  cost of one N-token forward (N = 1..16) after L\n"
                 "                                             context tokens (default 300), best of R / 10 batches\n"
                 "  kv-ab DIR [--ctx L] [--n N] [--threads T]  f32 vs bf16 K/V: prefill L tokens, then N decode steps taking turns\n"
                 "  branches DIR [--n N] [--branches B] [--threads T] [--weights W] [--rounds R] [--ctx L]\n"
                 "                                             B sampled generations of N tokens one after another vs one generation\n"
                 "                                             of B branches (seeds 1..B, temperature 0.8, an L-token prompt, default\n"
                 "                                             300), taking turns R rounds (default 5); checks the outputs are equal\n"
                 "  every command that loads DIR also takes --kv f32|bf16: the K/V dtype (default: bf16 for bf16/f16 files, f32 for f32)\n");
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "backends")) return cmd_backends();
    if (!std::strcmp(argv[1], "generate") || !std::strcmp(argv[1], "bench") || !std::strcmp(argv[1], "forward-curve") ||
        !std::strcmp(argv[1], "kv-ab") || !std::strcmp(argv[1], "branches")) {
        cli_args a;
        if (!parse(argc, argv, a)) {
            usage(stderr);
            return 2;
        }
        engine_set_log_level(ENGINE_LOG_WARN);
        if (!std::strcmp(argv[1], "forward-curve")) return cmd_forward_curve(a);
        if (!std::strcmp(argv[1], "kv-ab")) return cmd_kv_ab(a);
        if (!std::strcmp(argv[1], "branches")) return cmd_branches(a);
        return !std::strcmp(argv[1], "generate") ? cmd_generate(a) : cmd_bench(a);
    }
    std::fprintf(stderr, "engine-cli: unknown command '%s'\n", argv[1]);
    return 2;
}
