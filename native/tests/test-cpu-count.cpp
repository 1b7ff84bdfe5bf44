/*
 * test-cpu-count.cpp: the default thread count's arithmetic over fake /proc and /sys texts
 * (cgroup v1 and v2 quotas, a cgroup's parents, SMT siblings, files that cannot be read or hold
 * nonsense), and that the detected figures on this machine are consistent with each other.
 */
#include <map>
#include <string>
#include <vector>

#include "base/cpu-count.h"
#include "test-util.h"

namespace {

// A read_text_fn over a map of path -> text; any other path cannot be read.
read_text_fn files(std::map<std::string, std::string> m) {
    return [m](const std::string & path) -> std::optional<std::string> {
        auto it = m.find(path);
        if (it == m.end()) return std::nullopt;
        return it->second;
    };
}

void check_quota_texts() {
    CHECK(cgroup2_quota_cpus("max 100000\n") == 0);
    CHECK(cgroup2_quota_cpus("100000 100000\n") == 1);
    CHECK(cgroup2_quota_cpus("150000 100000") == 2);  // 1.5 CPUs: rounded up
    CHECK(cgroup2_quota_cpus("50000 100000") == 1);
    CHECK(cgroup2_quota_cpus("") == 0);
    CHECK(cgroup2_quota_cpus("garbage") == 0);
    CHECK(cgroup2_quota_cpus("100000 0") == 0);
    CHECK(cgroup2_quota_cpus("1e5 100000") == 0);
    CHECK(cgroup1_quota_cpus("-1\n", "100000\n") == 0);
    CHECK(cgroup1_quota_cpus("250000", "100000") == 3);
    CHECK(cgroup1_quota_cpus("200000", "100000") == 2);
    CHECK(cgroup1_quota_cpus("x", "100000") == 0);
    CHECK(cgroup1_quota_cpus("99999999999999999999999", "1") == 0);  // too long to be a quota
}

void check_cgroup_paths() {
    // cgroup v2 in a container: the namespace root, whose cpu.max is the container's limit
    CHECK(cgroup_quota_cpus("0::/\n", files({{"/sys/fs/cgroup/cpu.max", "200000 100000\n"}})) == 2);
    // no quota anywhere
    CHECK(cgroup_quota_cpus("0::/user.slice/session-1.scope\n", files({{"/sys/fs/cgroup/user.slice/cpu.max", "max 100000\n"}})) == 0);
    // a parent's quota binds a child without one; the tightest of several wins
    CHECK(cgroup_quota_cpus("0::/a/b/c\n", files({{"/sys/fs/cgroup/a/cpu.max", "300000 100000"}, {"/sys/fs/cgroup/a/b/c/cpu.max", "max 100000"}})) == 3);
    CHECK(cgroup_quota_cpus("0::/a/b\n", files({{"/sys/fs/cgroup/a/cpu.max", "300000 100000"}, {"/sys/fs/cgroup/a/b/cpu.max", "100000 100000"}})) == 1);
    // hybrid hierarchy: v2 under /sys/fs/cgroup/unified
    CHECK(cgroup_quota_cpus("0::/x\n", files({{"/sys/fs/cgroup/unified/x/cpu.max", "400000 100000"}})) == 4);
    // cgroup v1: the cpu controller's line, alone or with cpuacct, and each parent
    const std::string v1 = "11:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n";
    CHECK(cgroup_quota_cpus(v1, files({{"/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n"},
                                       {"/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n"}})) == 2);
    CHECK(cgroup_quota_cpus("3:cpu:/k8s/pod\n", files({{"/sys/fs/cgroup/cpu/k8s/cpu.cfs_quota_us", "100000"},
                                                       {"/sys/fs/cgroup/cpu/k8s/cpu.cfs_period_us", "100000"},
                                                       {"/sys/fs/cgroup/cpu/k8s/pod/cpu.cfs_quota_us", "-1"},
                                                       {"/sys/fs/cgroup/cpu/k8s/pod/cpu.cfs_period_us", "100000"}})) == 1);
    // a cpuacct-only or memory line is not the cpu controller; nonsense lines are skipped
    CHECK(cgroup_quota_cpus("2:cpuacct:/x\nnot a line\n::\n", files({{"/sys/fs/cgroup/cpu/x/cpu.cfs_quota_us", "100000"},
                                                                    {"/sys/fs/cgroup/cpu/x/cpu.cfs_period_us", "100000"}})) == 0);
    CHECK(cgroup_quota_cpus("", files({})) == 0);
}

void check_topology() {
    const std::string base = "/sys/devices/system/cpu/cpu";
    const std::string tail = "/topology/thread_siblings_list";
    // 4 CPUs, 2 cores with 2 SMT threads each (siblings 0,2 and 1,3)
    const auto smt = files({{base + "0" + tail, "0,2\n"}, {base + "1" + tail, "1,3\n"}, {base + "2" + tail, "0,2\n"}, {base + "3" + tail, "1,3\n"}});
    CHECK(physical_cores({0, 1, 2, 3}, smt) == 2);
    CHECK(physical_cores({0, 2}, smt) == 1);  // pinned to one core's two threads
    CHECK(physical_cores({0, 1}, smt) == 2);
    // no SMT: every CPU its own core; an unreadable file counts as a core of its own
    CHECK(physical_cores({0, 1}, files({{base + "0" + tail, "0\n"}, {base + "1" + tail, "1\n"}})) == 2);
    CHECK(physical_cores({0, 1, 5}, files({{base + "0" + tail, "0-1\n"}, {base + "1" + tail, "0-1\n"}})) == 2);
    CHECK(physical_cores({}, files({})) == 0);
}

void check_default() {
    CHECK(default_threads(16, 8, 0) == 8);   // SMT: one per core
    CHECK(default_threads(64, 64, 2) == 2);  // a container's quota on a big host
    CHECK(default_threads(1, 1, 4) == 1);    // pinned to one CPU
    CHECK(default_threads(4, 0, 0) == 4);    // cores unknown: the mask
    CHECK(default_threads(0, 0, 0) == 1);
}

void check_this_machine() {
    const cpu_count c = cpu_count_detect();
    std::fprintf(stderr, "this machine: %d online, %d allowed, %d cores, quota %d -> %d threads\n", c.online, c.allowed, c.cores, c.quota, c.threads);
    CHECK(c.online >= 1 && c.allowed >= 1);
    CHECK(c.cores >= 1 && c.cores <= c.allowed);
    CHECK(c.threads >= 1 && c.threads <= c.cores);
    CHECK(c.quota == 0 || c.threads <= c.quota);
}

}  // namespace

int main() {
    check_quota_texts();
    check_cgroup_paths();
    check_topology();
    check_default();
    check_this_machine();
    return test_summary("test-cpu-count");
}
