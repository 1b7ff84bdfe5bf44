/*
 * llama-logits.cpp: the next-token logits of every position of a token sequence, with llama.cpp's
 * C API on a GGUF file, for bench/llama-cpp/quant-accuracy.ts (llama.cpp's Q8_0 / Q4_0 against its
 * own BF16, on the same tokens as the engine). One forward from an empty cache, logits for all rows.
 *
 *   llama-logits MODEL.gguf IDS.bin OUT.bin [--threads T]
 * IDS.bin: int32 token ids; OUT.bin: (n, n_vocab) f32, row-major. Built by setup.sh.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "llama.h"

int main(int argc, char ** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: llama-logits MODEL.gguf IDS.bin OUT.bin [--threads T]\n");
        return 2;
    }
    const int threads = argc > 5 && !std::strcmp(argv[4], "--threads") ? std::atoi(argv[5]) : 2;
    std::vector<int32_t> ids;
    if (FILE * f = std::fopen(argv[2], "rb")) {
        int32_t v;
        while (std::fread(&v, 4, 1, f) == 1) ids.push_back(v);
        std::fclose(f);
    }
    if (ids.empty() || ids.size() > 4096) { std::fprintf(stderr, "llama-logits: %s: 1..4096 int32 ids expected\n", argv[2]); return 2; }
    llama_log_set([](ggml_log_level level, const char * text, void *) { if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr); }, nullptr);
    llama_backend_init();
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) { std::fprintf(stderr, "llama-logits: cannot load %s\n", argv[1]); return 1; }
    const int n = static_cast<int>(ids.size());
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(n + 16);
    cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(n);
    cp.n_threads = cp.n_threads_batch = threads;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "llama-logits: cannot create a context\n"); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_batch b = llama_batch_init(n, 0, 1);
    b.n_tokens = n;
    for (int i = 0; i < n; ++i) {
        b.token[i] = ids[static_cast<size_t>(i)];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    if (llama_decode(ctx, b) != 0) { std::fprintf(stderr, "llama-logits: llama_decode failed\n"); return 1; }
    FILE * out = std::fopen(argv[3], "wb");
    if (!out) { std::fprintf(stderr, "llama-logits: cannot write %s\n", argv[3]); return 1; }
    for (int i = 0; i < n; ++i) std::fwrite(llama_get_logits_ith(ctx, i), 4, static_cast<size_t>(n_vocab), out);
    std::fclose(out);
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
