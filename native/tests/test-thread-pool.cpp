/*
 * test-thread-pool.cpp: thread_pool::parallel_for runs every task index exactly once and returns
 * after all of them, for task counts around the thread count and past the 2^20 - 1 tasks one
 * dispatch's state word can count (those run as several dispatches), with 1, 2 and 3 threads, and
 * the pool serves many dispatches in a row.
 */
#include <atomic>
#include <cstdio>
#include <vector>

#include "base/thread-pool.h"
#include "test-util.h"

namespace {

// Every index of [0, n) seen exactly once, and each thread index within the pool's.
void check_counts(thread_pool & pool, int n) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    for (auto & s : seen) s.store(0);
    std::atomic<int> bad_thread{0};
    pool.parallel_for(n, [&](int t, int thread) {
        seen[static_cast<size_t>(t)].fetch_add(1, std::memory_order_relaxed);
        if (thread < 0 || thread >= pool.n_threads()) bad_thread.fetch_add(1);
    });
    int wrong = 0;
    for (auto & s : seen) wrong += s.load() != 1;
    if (wrong || bad_thread.load())
        std::fprintf(stderr, "%d threads, %d tasks: %d indices not run exactly once, %d bad thread indices\n", pool.n_threads(), n,
                     wrong, bad_thread.load());
    CHECK(wrong == 0);
    CHECK(bad_thread.load() == 0);
}

}  // namespace

int main() {
    for (int threads : {1, 2, 3}) {
        thread_pool pool(threads);
        for (int n : {0, 1, 2, 3, 7, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 5, 2 * (1 << 20) + 3}) check_counts(pool, n);
        // many short dispatches in a row (as decode issues them)
        std::atomic<long> sum{0};
        for (int r = 0; r < 2000; ++r) pool.parallel_for(4, [&](int t, int) { sum.fetch_add(t + 1); });
        CHECK(sum.load() == 2000L * 10);
    }
    return test_summary("test-thread-pool");
}
