/*
 * weight-arena.cpp: 2 MB aligned anonymous mappings and the bump allocator over them (see
 * weight-arena.h for why the weights want both).
 */
#include "weight-arena.h"
#include "base/fault-inject.h"
#include "base/status.h"

#include <sys/mman.h>

#include <cstdint>
#include <string>


namespace {
constexpr size_t HUGE_PAGE = size_t(2) << 20;
constexpr size_t CHUNK = size_t(256) << 20;
constexpr size_t ALIGN = 64;
size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }
}  // namespace

anon_buffer::anon_buffer(size_t n) : bytes(n) {
    // map one huge page more than needed, then keep the 2 MB aligned part
    mapped_ = round_up(n, HUGE_PAGE) + HUGE_PAGE;
    mapping_ = fault_hit("alloc:arena") ? MAP_FAILED : ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping_ == MAP_FAILED) {
        mapping_ = nullptr;
        throw engine_error(ERROR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(n) + " bytes for weights");
    }
    const uintptr_t start = round_up(reinterpret_cast<uintptr_t>(mapping_), HUGE_PAGE);
    data = reinterpret_cast<void *>(start);
#ifdef MADV_HUGEPAGE  // Linux's transparent huge pages
    ::madvise(data, round_up(n, HUGE_PAGE), MADV_HUGEPAGE);
#endif
}

anon_buffer::~anon_buffer() {
    if (mapping_) ::munmap(mapping_, mapped_);
}

void * weight_arena::take(size_t n) {
    const size_t offset = round_up(used_in_last_, ALIGN);
    if (chunks_.empty() || offset + n > chunks_.back()->bytes) {
        chunks_.push_back(std::make_unique<anon_buffer>(n > CHUNK ? round_up(n, HUGE_PAGE) : CHUNK));
        used_in_last_ = n;
        return chunks_.back()->data;
    }
    used_in_last_ = offset + n;
    return static_cast<char *>(chunks_.back()->data) + offset;
}
