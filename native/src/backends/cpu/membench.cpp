/*
 * membench.cpp: a DRAM read-bandwidth probe for the engine benchmark's roofline (bandwidth / bytes
 * per token). Each thread streams its share of a buffer (huge pages, as the weights) with the
 * widest loads the CPU has (AVX-512, AVX2, or 64-bit words elsewhere); best of `repeats` runs.
 */
#include "membench.h"

#include <sys/mman.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// Any CPU: eight 64-bit words at a time (the compiler's widest vectors where it vectorizes them).
uint64_t read_words(const uint8_t * p, size_t n) {
    uint64_t a[8] = {};
    for (size_t i = 0; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; ++k) {
            uint64_t v;
            std::memcpy(&v, p + i + 8 * k, 8);
            a[k] ^= v;
        }
    uint64_t folded = 0;
    for (uint64_t v : a) folded |= v;
    return folded;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) uint64_t read_avx2(const uint8_t * p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i *>(p + i + 96)));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    return static_cast<uint64_t>(_mm256_extract_epi64(a0, 0) ^ _mm256_extract_epi64(a0, 3));
}

__attribute__((target("avx512f"))) uint64_t read_avx512(const uint8_t * p, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 256 <= n; i += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_load_si512(p + i));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512(p + i + 64));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512(p + i + 128));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512(p + i + 192));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    // stored and folded by hand: GCC 12's _mm512_reduce_or_epi64 warns (-Wuninitialized in its header)
    alignas(64) uint64_t lanes[8];
    _mm512_store_si512(lanes, a0);
    uint64_t folded = 0;
    for (uint64_t v : lanes) folded |= v;
    return folded;
}
#endif

// The widest loads this CPU has.
using reader_fn = uint64_t (*)(const uint8_t *, size_t);
reader_fn best_reader() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return read_avx512;
    if (__builtin_cpu_supports("avx2")) return read_avx2;
#endif
    return read_words;
}

}  // namespace

double bench_read_bandwidth(size_t bytes, int n_threads, int repeats) noexcept {
    try {
        if (n_threads < 1) n_threads = 1;
        bytes = bytes / (4096 * static_cast<size_t>(n_threads)) * 4096 * static_cast<size_t>(n_threads);
        if (bytes == 0) return 0;
        void * mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) return 0;
#ifdef MADV_HUGEPAGE
        ::madvise(mem, bytes, MADV_HUGEPAGE);  // as the engine's weights
#endif
        const reader_fn reader = best_reader();
        uint8_t * buf = static_cast<uint8_t *>(mem);
        // fill with non-zero data so pages are real, in parallel
        std::vector<std::thread> ts;
        const size_t part = bytes / static_cast<size_t>(n_threads);
        for (int t = 0; t < n_threads; ++t)
            ts.emplace_back([=] { std::memset(buf + part * t, t + 1, part); });
        for (auto & t : ts) t.join();
        double best = 0;
        volatile uint64_t sink = 0;
        for (int r = 0; r < std::max(1, repeats); ++r) {
            std::vector<uint64_t> results(static_cast<size_t>(n_threads));
            ts.clear();
            auto t0 = std::chrono::steady_clock::now();
            for (int t = 0; t < n_threads; ++t)
                ts.emplace_back([&, t] { results[static_cast<size_t>(t)] = reader(buf + part * t, part); });
            for (auto & t : ts) t.join();
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            for (auto v : results) sink = sink ^ v;
            best = std::max(best, static_cast<double>(bytes) / s / 1e9);
        }
        (void)sink;
        ::munmap(mem, bytes);
        return best;
    } catch (...) {
        return 0;
    }
}
