/*
 * llama-engine-bench.cpp: the same measurements as `engine-cli bench` (native/tools/engine-cli.cpp),
 * made with llama.cpp's C API on a GGUF file, so bench/llama-cpp/compare.ts can set the two side
 * by side: prefill of the same 512 token ids (one batch, last-row logits, best of 3), greedy decode
 * after a 16-token prompt (best of 5 rounds), and one forward of N = 1..64 tokens after 64 context
 * tokens with logits for EVERY row (what draft verification needs; llama-bench's ppN only keeps
 * the last row), best of 7 rounds after a warm-up round. Each decode round is paired with the
 * engine's own DRAM bandwidth probe (native/src/backends/cpu/membench.cpp, compiled in) taken just
 * before it, as engine-cli does, because this machine's bandwidth moves between rounds: the
 * fraction of the roofline compares the two programs' decode independently of that. Built by
 * setup.sh.
 *
 *   llama-engine-bench MODEL.gguf [--threads T] [--n N] [--mmap 0|1]
 * --mmap 0 loads the weights into malloc'd memory instead of mapping the file; with
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1 that memory gets transparent huge pages (as our engine's
 * weight arena has), which llama.cpp does not ask for on its own.
 */
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/cpu/membench.h"  // the engine's bandwidth probe, compiled in
#include "llama.h"

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Decodes toks[0..n) at positions pos0.. in sequence 0; logits for all rows or only the last.
bool decode(llama_context * ctx, llama_batch & b, const int32_t * toks, int n, int pos0, bool all_logits) {
    b.n_tokens = n;
    for (int i = 0; i < n; ++i) {
        b.token[i] = toks[i];
        b.pos[i] = pos0 + i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = all_logits || i == n - 1;
    }
    const int rc = llama_decode(ctx, b);
    llama_synchronize(ctx);
    if (rc != 0) std::fprintf(stderr, "llama-engine-bench: llama_decode returned %d\n", rc);
    return rc == 0;
}

int argmax(const float * x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: llama-engine-bench MODEL.gguf [--threads T] [--n N] [--mmap 0|1]\n");
        return 2;
    }
    int threads = 2, n_arg = 64, use_mmap = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--n")) n_arg = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--mmap")) use_mmap = std::atoi(argv[i + 1]);
        else { std::fprintf(stderr, "llama-engine-bench: unknown option %s\n", argv[i]); return 2; }
    }
    llama_log_set([](ggml_log_level level, const char * text, void *) { if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr); }, nullptr);
    llama_backend_init();
    std::printf("system_info: %s\n", llama_print_system_info());

    double t0 = now_s();
    llama_model_params mp = llama_model_default_params();
    if (!use_mmap) mp.load_mode = LLAMA_LOAD_MODE_NONE;  // default: AUTO (mmap on CPU)
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { std::fprintf(stderr, "llama-engine-bench: cannot load %s\n", argv[1]); return 1; }
    const double load_s = now_s() - t0;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 1024;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "llama-engine-bench: cannot create a context\n"); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_memory_t mem = llama_get_memory(ctx);
    llama_batch batch = llama_batch_init(512, 0, 1);

    // The token ids engine-cli bench uses.
    const int lo = std::min(300, n_vocab / 4), span = std::max(1, n_vocab / 2 - lo);
    std::vector<int32_t> toks(512);
    for (int i = 0; i < 512; ++i) toks[static_cast<size_t>(i)] = lo + (i * 7919) % span;

    double prefill = 1e9;
    for (int r = 0; r < 3; ++r) {
        llama_memory_clear(mem, true);
        double t = now_s();
        if (!decode(ctx, batch, toks.data(), 512, 0, false)) return 1;
        prefill = std::min(prefill, now_s() - t);
    }

    // Bytes read per decoded token: every weight once (tied embedding = the head).
    const double bytes = static_cast<double>(llama_model_size(model));
    const int rounds = 5, steps = std::max(8, n_arg / 2);
    double per_best = 1e9;
    std::vector<double> fractions;
    for (int r = 0; r < rounds; ++r) {
        const double bw = bench_read_bandwidth(256u << 20, threads, 3);
        llama_memory_clear(mem, true);
        if (!decode(ctx, batch, toks.data(), 16, 0, false)) return 1;
        int32_t tok = argmax(llama_get_logits_ith(ctx, -1), n_vocab);
        double t = now_s();
        for (int i = 0; i < steps; ++i) {
            if (!decode(ctx, batch, &tok, 1, 16 + i, false)) return 1;
            tok = argmax(llama_get_logits_ith(ctx, -1), n_vocab);
        }
        const double per = (now_s() - t) / steps;
        per_best = std::min(per_best, per);
        fractions.push_back((1 / per) / (bw * 1e9 / bytes));
        std::printf("round %d: bandwidth %.1f GB/s, decode %.1f tok/s = %.1f%% of that roofline\n", r + 1, bw, 1 / per,
                    100 * fractions.back());
    }
    std::sort(fractions.begin(), fractions.end());
    std::printf("load %.0f ms, weights %.1f MB, %d threads, %s\n", load_s * 1e3, bytes / 1e6, threads,
                use_mmap ? "weights mmapped from the file" : "weights in malloc'd memory");
    std::printf("prefill 512: %.1f tok/s; decode: %.1f tok/s (median %.1f%% of the paired roofline)\n", 512 / prefill,
                1 / per_best, 100.0 * fractions[fractions.size() / 2]);

    llama_memory_clear(mem, true);
    if (!decode(ctx, batch, toks.data(), 64, 0, false)) return 1;
    const int ns[] = {1, 2, 4, 8, 16, 32, 64};
    std::vector<double> best(7, 1e9);
    for (int r = 0; r < 8; ++r) {  // round 0 warms up
        for (int j = 0; j < 7; ++j) {
            double t = now_s();
            if (!decode(ctx, batch, toks.data() + 100, ns[j], 64, true)) return 1;
            if (r > 0) best[static_cast<size_t>(j)] = std::min(best[static_cast<size_t>(j)], now_s() - t);
            llama_memory_seq_rm(mem, 0, 64, -1);
        }
    }
    for (int j = 0; j < 7; ++j)
        std::printf("forward N=%-2d %8.2f ms  %.2fx N=1\n", ns[j], best[static_cast<size_t>(j)] * 1e3, best[static_cast<size_t>(j)] / best[0]);

    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
