/*
 * weight-arena.h: where the re-laid-out (tiled) weight copies live. anon_buffer is anonymous
 * memory aligned to 2 MB with transparent huge pages advised; weight_arena hands out pieces of a
 * few large anon_buffers in load order, which is the forward's order. So every matrix, however
 * small, lies on 2 MB pages (a separate mapping under 2 MB gets none), and consecutive matrices
 * form one stream: the hardware prefetchers stop at each 4 KB page edge, which cost 10-25% of
 * the decode bandwidth on the Qwen2.5-0.5B shape's small matrices (docs/performance.md).
 */
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

// Anonymous memory, zero-filled, 2 MB aligned, transparent huge pages advised; unmapped in the destructor.
struct anon_buffer {
    void * data = nullptr;
    size_t bytes = 0;
    explicit anon_buffer(size_t n);  // throws engine_error(OUT_OF_MEMORY)
    ~anon_buffer();
    anon_buffer(const anon_buffer &) = delete;
    anon_buffer & operator=(const anon_buffer &) = delete;

  private:
    void * mapping_ = nullptr;
    size_t mapped_ = 0;
};

struct weight_arena {
    // n zero-filled bytes, 64-byte aligned, right after the previous piece when it fits in the
    // current chunk (chunks are 256 MB, or the piece's size when larger; the unused end of a chunk
    // is never touched, so it costs address space only).
    void * take(size_t n);

  private:
    std::vector<std::unique_ptr<anon_buffer>> chunks_;
    size_t used_in_last_ = 0;
};
