/*
 * thread-pool.h: a tiny fork-join pool for the 2 cores of the target machine. parallel_for runs
 * task indices [0, n_tasks) on the calling thread plus the workers and returns when all are done.
 * Workers spin briefly between dispatches (decode issues hundreds per token), then sleep.
 * Not reentrant: one parallel_for at a time per pool (the model owns one pool; sessions of one
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
    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::mutex run_mutex_;
    std::condition_variable cv_;
    std::atomic<uint64_t> epoch_{0};
    std::atomic<int> next_task_{0};
    std::atomic<int> pending_workers_{0};
    std::atomic<bool> stop_{false};
    int n_tasks_ = 0;
    const std::function<void(int, int)> * fn_ = nullptr;
};
