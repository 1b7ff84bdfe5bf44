/*
 * thread-pool.cpp: fork-join dispatch. A dispatch bumps an epoch; workers spin on it for a short
 * while (cheap hand-off during decode), then sleep on a condition variable. Tasks are claimed with
 * an atomic counter; the caller works too and waits until every worker has left the dispatch.
 */
#include "thread-pool.h"

#include <immintrin.h>

namespace {
constexpr int SPIN_ITERATIONS = 20000;
}

thread_pool::thread_pool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

thread_pool::~thread_pool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_.store(true);
        epoch_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto & t : workers_) t.join();
}

void thread_pool::worker_main(int index) {
    uint64_t seen = 0;
    while (true) {
        int spins = 0;
        uint64_t e;
        while ((e = epoch_.load(std::memory_order_acquire)) == seen && spins < SPIN_ITERATIONS) {
            _mm_pause();
            ++spins;
        }
        if (e == seen) {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [&] { return epoch_.load(std::memory_order_acquire) != seen; });
            e = epoch_.load(std::memory_order_acquire);
        }
        seen = e;
        if (stop_.load()) return;
        const auto * fn = fn_;
        const int n = n_tasks_;
        for (int t; (t = next_task_.fetch_add(1, std::memory_order_relaxed)) < n;) (*fn)(t, index);
        pending_workers_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void thread_pool::parallel_for(int n_tasks, const std::function<void(int, int)> & fn) {
    if (n_tasks <= 0) return;
    if (workers_.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; ++t) fn(t, 0);
        return;
    }
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    fn_ = &fn;
    n_tasks_ = n_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    pending_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        epoch_.fetch_add(1, std::memory_order_acq_rel);
    }
    cv_.notify_all();
    for (int t; (t = next_task_.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) fn(t, 0);
    while (pending_workers_.load(std::memory_order_acquire) != 0) _mm_pause();
}
