/*
 * cpu-count.h: how many threads the engine computes with when the caller does not say
 * (engine_model_params.n_threads 0). Not every CPU the machine has online:
 *   - only the CPUs this process may run on (its affinity mask: `taskset`, a cpuset cgroup);
 *   - one per physical core among them (SMT siblings share a core's vector units, and a spinning
 *     sibling slows the one that computes; llama.cpp picks physical cores the same way);
 *   - at most the CPU time a cgroup quota grants (a container started with --cpus=2 on a
 *     64-core host), rounded up;
 *   - at least 1.
 * The arithmetic is in pure functions over the files' text (tested by test-cpu-count); reading
 * /proc and /sys is cpu_count_detect's alone. Elsewhere than Linux: hardware_concurrency().
 */
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

struct cpu_count {
    int online = 0;     // CPUs the machine has online (std::thread::hardware_concurrency)
    int allowed = 0;    // CPUs in the affinity mask
    int cores = 0;      // physical cores among them
    int quota = 0;      // CPUs a cgroup quota grants, rounded up; 0: no quota
    int threads = 0;    // the default: max(1, min(cores, quota or cores))
};

// Reads a file's text; nullopt when it cannot be read. cpu_count_detect's one way to the files.
using read_text_fn = std::function<std::optional<std::string>(const std::string & path)>;

// CPUs of a cgroup v2 `cpu.max` ("max 100000" -> 0, "150000 100000" -> 2), 0 when there is no quota or the text is not that.
int cgroup2_quota_cpus(const std::string & cpu_max);
// CPUs of cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us ("-1" -> 0; 250000 / 100000 -> 3).
int cgroup1_quota_cpus(const std::string & quota_us, const std::string & period_us);

// The tightest quota of this process's cgroups, from /proc/self/cgroup's text: for v2 (the "0::"
// line) cpu.max in its directory under /sys/fs/cgroup (or /sys/fs/cgroup/unified) and each parent
// up to the root; for v1 (the line whose controllers include "cpu") cpu.cfs_quota_us and
// cpu.cfs_period_us under /sys/fs/cgroup/cpu (or cpu,cpuacct) and each parent. 0: none.
int cgroup_quota_cpus(const std::string & proc_self_cgroup, const read_text_fn & read);

// Physical cores among `cpus`: the number of distinct topology/thread_siblings_list texts (a core
// lists its SMT siblings, the same text for each); a CPU whose file cannot be read counts as a core.
int physical_cores(const std::vector<int> & cpus, const read_text_fn & read);

// The default from the parts (see cpu_count::threads).
int default_threads(int allowed, int cores, int quota);

// This process's figures, read once per call.
cpu_count cpu_count_detect();
