/*
 * thread-pool.cpp: fork-join dispatch. A dispatch publishes (epoch, n_tasks, next = 0) in one
 * atomic word; workers spin on it for a short while (cheap hand-off during decode), then sleep on a
 * condition variable. Tasks are claimed by compare-and-swap on that word, so a late worker can
 * never claim a task of a dispatch it did not see; the caller works too and then spins until the
 * claimed tasks are finished. A dispatch holds at most 2^20 - 1 tasks (the word's fields); more
 * run as several dispatches in turn.
 */
#include "thread-pool.h"

#include <algorithm>

namespace {
// A spin-wait's hint to the core that this thread is waiting: x86's pause, ARM64's yield.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
constexpr int SPIN_ITERATIONS = 20000;
constexpr uint64_t FIELD = (1u << 20) - 1;
inline uint64_t epoch_of(uint64_t s) { return s >> 40; }
inline uint64_t pack(uint64_t epoch, uint64_t n, uint64_t next) { return (epoch << 40) | (n << 20) | next; }
}  // namespace

thread_pool::thread_pool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

thread_pool::~thread_pool() {
    stop_.store(true);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        state_.store(pack((epoch_of(state_.load()) + 1) & 0xffffff, 0, 0));
    }
    cv_.notify_all();
    for (auto & t : workers_) t.join();
}

int thread_pool::claim(uint64_t epoch) {
    uint64_t s = state_.load(std::memory_order_acquire);
    while (true) {
        if (epoch_of(s) != epoch) return -1;
        const uint64_t next = s & FIELD, n = (s >> 20) & FIELD;
        if (next >= n) return -1;
        if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
            return static_cast<int>(next);
    }
}

void thread_pool::worker_main(int index) {
    uint64_t seen = 0;
    while (true) {
        int spins = 0;
        uint64_t e;
        while ((e = epoch_of(state_.load(std::memory_order_acquire))) == seen && spins < SPIN_ITERATIONS) {
            spin_pause();
            ++spins;
        }
        if (e == seen) {
            std::unique_lock<std::mutex> lock(mutex_);
            sleepers_.fetch_add(1);
            cv_.wait(lock, [&] { return epoch_of(state_.load()) != seen || stop_.load(); });
            sleepers_.fetch_sub(1);
            e = epoch_of(state_.load());
        }
        seen = e;
        if (stop_.load()) return;
        for (int t; (t = claim(e)) >= 0;) {
            (*fn_)(t, index);  // fn_ belongs to epoch e: the caller cannot move on before this task is done
            done_.fetch_add(1, std::memory_order_acq_rel);
        }
    }
}

void thread_pool::parallel_for(int n_tasks, const std::function<void(int, int)> & fn) {
    if (n_tasks <= 0) return;
    if (workers_.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; ++t) fn(t, 0);
        return;
    }
    if (static_cast<uint64_t>(n_tasks) > FIELD) {  // more than the state word counts: dispatches of FIELD tasks in turn
        for (int base = 0; base < n_tasks; base += static_cast<int>(FIELD)) {
            const int count = std::min(static_cast<int>(FIELD), n_tasks - base);
            parallel_for(count, [&](int t, int thread) { fn(base + t, thread); });
        }
        return;
    }
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    fn_ = &fn;
    done_.store(0, std::memory_order_relaxed);
    const uint64_t epoch = (epoch_of(state_.load()) + 1) & 0xffffff;
    state_.store(pack(epoch, static_cast<uint64_t>(n_tasks), 0));  // seq_cst: pairs with sleepers_ below
    if (sleepers_.load() > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        cv_.notify_all();
    }
    int mine = 0;
    for (int t; (t = claim(epoch)) >= 0; ++mine) fn(t, 0);
    // Spin, never yield: a claimed task is short, and sched_yield on a shared machine hands the core
    // to another process for a whole time slice (A/B on the shared machine: 2-thread decode 2-20% faster).
    while (done_.load(std::memory_order_acquire) + mine != n_tasks) spin_pause();
}
