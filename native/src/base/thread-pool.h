/*
 * thread-pool.h: a tiny fork-join pool for the 2 cores of the target machine. parallel_for runs
 * task indices [0, n_tasks) on the calling thread plus the workers and returns when all are done.
 * Workers spin briefly between dispatches (decode issues hundreds per token), then sleep. The
 * caller waits only for tasks a worker actually claimed, so a worker the OS has descheduled (the
 * 2 cores are shared) never stalls a dispatch it did not join. Not reentrant: one parallel_for at a time per pool (the model owns one pool; sessions of one
 * model are stepped one at a time by the addon/engine-host).
 */
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

struct thread_pool {
    explicit thread_pool(int n_threads);  // n_threads includes the caller; 1 = no workers
    ~thread_pool();
    thread_pool(const thread_pool &) = delete;
    thread_pool & operator=(const thread_pool &) = delete;

    int n_threads() const { return n_threads_; }
    // fn(task, thread_index); tasks are handed out dynamically.
    void parallel_for(int n_tasks, const std::function<void(int, int)> & fn);

  private:
    void worker_main(int index);
    // Claims the next task of dispatch `epoch`; -1 when that dispatch has none left (or is over).
    int claim(uint64_t epoch);
    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::mutex run_mutex_;
    std::condition_variable cv_;
    // [epoch:24][n_tasks:20][next_task:20], so a claim checks the dispatch and its size atomically
    std::atomic<uint64_t> state_{0};
    std::atomic<int> done_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stop_{false};
    const std::function<void(int, int)> * fn_ = nullptr;
};
